// `npm start` (src/dev/start.mjs): what it hands to wrangler, so a newcomer's first run prints only
// what matters to them.
import { describe, expect, it } from "vitest";

interface StartScript {
  wranglerEnv(env: Record<string, string | undefined>): Record<string, string | undefined>;
}
const script = new URL("../../src/dev/start.mjs", import.meta.url).href;
const { wranglerEnv } = (await import(script)) as StartScript;

describe("the environment wrangler dev runs in", () => {
  it("skips wrangler's Request.cf download, whose failure offline printed an ENOTFOUND stack trace", () => {
    expect(wranglerEnv({}).CLOUDFLARE_CF_FETCH_ENABLED).toBe("false");
  });

  it("keeps a choice the developer made", () => {
    expect(wranglerEnv({ CLOUDFLARE_CF_FETCH_ENABLED: "true" }).CLOUDFLARE_CF_FETCH_ENABLED).toBe("true");
  });

  it("sends no usage metrics and keeps the rest of the environment", () => {
    expect(wranglerEnv({ PATH: "/bin" })).toMatchObject({ PATH: "/bin", WRANGLER_SEND_METRICS: "false" });
  });
});
