// Webhook signatures as Standard Webhooks defines them, checked by its reference verifier
// (the `standardwebhooks` package), not by our own code.
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { signatureHeader } from "../../src/webhooks/sign";

const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;
const ID = "msg_42_0123456789abcdef0123456789abcdef";
const body = JSON.stringify({ type: "invoice.created", eventId: "42" });

async function headersFor(secrets: string[], payload = body, timestamp = Math.floor(Date.now() / 1000)) {
  return { "webhook-id": ID, "webhook-timestamp": String(timestamp), "webhook-signature": await signatureHeader(secrets, ID, timestamp, payload) };
}

describe("signatureHeader", () => {
  it("signs so that the reference verifier accepts the body", async () => {
    const secret = newSecret();
    const headers = await headersFor([secret]);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("is rejected for a tampered body, another secret, or an old timestamp", async () => {
    const secret = newSecret();
    const headers = await headersFor([secret]);
    expect(() => new Webhook(secret).verify(body.replace("42", "43"), headers)).toThrow();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
    const stale = await headersFor([secret], body, Math.floor(Date.now() / 1000) - 3600);
    expect(() => new Webhook(secret).verify(body, stale)).toThrow();
  });

  it("carries one signature per secret during a rotation, each verifying on its own", async () => {
    const current = newSecret();
    const previous = newSecret();
    const headers = await headersFor([current, previous]);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
  });
});
