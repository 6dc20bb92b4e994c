// Three suites: unit (plain Node: domain, crypto, the real monerod client), worker (inside workerd
// through @cloudflare/vitest-plugin) and e2e (a running worker against a real regtest monerod).

import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Fixed test secrets: a token for the API and a 32-byte key for sealing view keys. */
export const TEST_API_TOKEN = "test-token-0123456789";
export const TEST_KEYS_ENCRYPTION_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    test: {
      // Two files at a time (vitest's default is one less than the cores: 1 on a 2-core machine). Every
      // e2e file starts its own nodes and wrangler on free loopback ports, so two can run side by side;
      // they mostly wait on blocks, polls and timeouts, so the two overlap well.
      maxWorkers: 2,
      projects: [
        {
          test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node", testTimeout: 60_000, hookTimeout: 120_000 },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  API_TOKEN: TEST_API_TOKEN,
                  KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY,
                  // A closed loopback port: XMR is enabled, its node unreachable (watcher errors are expected).
                  XMR_DAEMON_URL: "http://127.0.0.1:9",
                  XMR_POLL_SECONDS: "3600",
                },
              },
            }),
          ],
          test: { name: "worker", include: ["test/worker/**/*.test.ts"], setupFiles: ["./test/worker/apply-migrations.ts"], testTimeout: 30_000 },
        },
        {
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            testTimeout: 180_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
