// `npm run bench`: runs every bench in order, each in its own process on the project's Node 22
// (node_modules/.bin first on PATH); a bench not written yet is skipped, a failing one fails the run.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "node_modules", ".bin");
const benches = [
  { name: "api", file: "bench/api.ts" },
  { name: "xmr-scan", file: "bench/xmr-scan.ts" },
  { name: "webhooks", file: "bench/webhooks.ts" },
  { name: "scale", file: "bench/scale.ts" },
];

const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false" };
const failed = [];
for (const { name, file } of benches) {
  if (!existsSync(path.join(root, file))) {
    console.log(`\n== bench ${name}: skipped, ${file} does not exist yet`);
    continue;
  }
  console.log(`\n== bench ${name} (${file})`);
  const start = Date.now();
  const run = spawnSync(path.join(bin, "tsx"), [file], { cwd: root, env, stdio: "inherit" });
  const seconds = ((Date.now() - start) / 1000).toFixed(1);
  if (run.status === 0) {
    console.log(`== bench ${name}: done in ${seconds} s`);
  } else {
    console.log(`== bench ${name}: FAILED (${run.error?.message ?? `exit ${run.status ?? run.signal}`}) after ${seconds} s`);
    failed.push(name);
  }
}
if (failed.length > 0) {
  console.error(`\nfailed benches: ${failed.join(", ")}`);
  process.exit(1);
}
