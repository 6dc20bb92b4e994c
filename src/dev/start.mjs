// `npm start`: run the service locally on workerd. Applies the local D1 migrations, adds a random
// API_TOKEN and KEYS_ENCRYPTION_KEY to .dev.vars when missing (every other line is kept), prints
// the token, then runs `wrangler dev` with any extra arguments (`npm start -- --port 9000`).
// Not part of the Worker bundle: nothing in src/index.ts imports it.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const devVars = path.join(root, ".dev.vars");

/** Adds the secrets that are missing; returns the API token in force. */
export function ensureDevVars(file) {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const lines = text.split("\n");
  const has = (name) => lines.some((l) => l.trim().startsWith(`${name}=`));
  const added = [];
  if (!has("API_TOKEN")) added.push(`API_TOKEN=${randomBytes(24).toString("base64url")}`);
  if (!has("KEYS_ENCRYPTION_KEY")) added.push(`KEYS_ENCRYPTION_KEY=${randomBytes(32).toString("hex")}`);
  if (added.length > 0) {
    const prefix = text.length === 0 || text.endsWith("\n") ? text : `${text}\n`;
    writeFileSync(file, `${prefix}${added.join("\n")}\n`, { mode: 0o600 });
  }
  const current = readFileSync(file, "utf8").split("\n").find((l) => l.trim().startsWith("API_TOKEN="));
  return current.trim().slice("API_TOKEN=".length).replace(/^"(.*)"$/, "$1");
}

/**
 * The environment wrangler runs in: no usage metrics, and no download of the `Request.cf` sample
 * (this API does not read it; offline, the failed download printed an ENOTFOUND stack trace).
 */
export function wranglerEnv(env) {
  return { ...env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false" };
}

function main() {
  const args = process.argv.slice(2);
  const env = wranglerEnv(process.env);
  const token = ensureDevVars(devVars);
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "edgepay", "--local"], { cwd: root, stdio: "inherit", env: { ...env, CI: "1" } });
  if (migrate.status !== 0) process.exit(migrate.status ?? 1);
  const portArg = args.indexOf("--port");
  const port = portArg >= 0 ? args[portArg + 1] : "8787";
  console.log(`\nAPI token (from .dev.vars): ${token}`);
  console.log(`Try: curl -s -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" \\`);
  console.log(`       -d '{}' http://127.0.0.1:${port}/user.v1.UserService/RegisterUser\n`);
  const dev = spawn(wrangler, ["dev", ...args], { cwd: root, stdio: "inherit", env });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
  dev.on("exit", (code) => process.exit(code ?? 0));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
