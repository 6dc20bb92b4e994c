// CreateInvoice's merchant fields and the display name: what is accepted, stored as given, and
// refused with the documented InvalidArgument message.
import { describe, expect, it } from "vitest";
import { Failures } from "../../src/domain/errors";
import { metadataFromText, metadataToText, parseDisplayName, parseInvoiceDetails } from "../../src/domain/invoice-details";

const details = (over: Parameters<typeof parseInvoiceDetails>[0] | object, insecure = false) =>
  parseInvoiceDetails({ metadata: {}, ...over }, insecure);

describe("parseInvoiceDetails", () => {
  it("keeps every field as given", () => {
    expect(details({ description: "2 coffees", orderId: "A-17", redirectUrl: "https://shop.example/thanks?o=17", metadata: { cart: "9" } })).toEqual({
      ok: true,
      value: { description: "2 coffees", orderId: "A-17", redirectUrl: "https://shop.example/thanks?o=17", metadata: { cart: "9" } },
    });
  });

  it("treats empty strings as not given", () => {
    expect(details({ description: "", orderId: "", redirectUrl: "" })).toEqual({
      ok: true,
      value: { description: null, orderId: null, redirectUrl: null, metadata: {} },
    });
  });

  it("counts characters, not UTF-16 units, against the limits", () => {
    expect(details({ description: "☕".repeat(500) }).ok).toBe(true);
    expect(details({ description: "😀".repeat(500) }).ok).toBe(true);
    expect(details({ description: "x".repeat(501) })).toEqual({ ok: false, failure: Failures.invalidDescription });
    expect(details({ orderId: "x".repeat(100) }).ok).toBe(true);
    expect(details({ orderId: "x".repeat(101) })).toEqual({ ok: false, failure: Failures.invalidOrderId });
  });

  it.each([
    ["plain http", "http://shop.example/thanks"],
    ["no scheme", "shop.example/thanks"],
    ["a relative path", "/thanks"],
    ["a script", "javascript:alert(1)"],
    ["credentials", "https://user:pass@shop.example/"],
    ["over 2048 characters", `https://shop.example/${"a".repeat(2030)}`],
  ])("refuses a redirectUrl with %s", (_, url) => {
    expect(details({ redirectUrl: url })).toEqual({ ok: false, failure: Failures.invalidRedirectUrl("https://") });
  });

  it("takes http:// redirects only when insecure redirects are allowed", () => {
    expect(details({ redirectUrl: "http://127.0.0.1:8080/thanks" }, true).ok).toBe(true);
    expect(details({ redirectUrl: "ftp://127.0.0.1/" }, true)).toEqual({ ok: false, failure: Failures.invalidRedirectUrl("https:// or http://") });
  });

  it("bounds metadata to 20 keys and 1024 bytes, and refuses an empty key", () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
    expect(details({ metadata: keys(20) }).ok).toBe(true);
    expect(details({ metadata: keys(21) })).toEqual({ ok: false, failure: Failures.tooManyMetadataKeys });
    expect(details({ metadata: { k: "x".repeat(1023) } }).ok).toBe(true);
    expect(details({ metadata: { k: "x".repeat(1024) } })).toEqual({ ok: false, failure: Failures.metadataTooLarge });
    expect(details({ metadata: { k: "é".repeat(512) } })).toEqual({ ok: false, failure: Failures.metadataTooLarge });
    expect(details({ metadata: { "": "v" } })).toEqual({ ok: false, failure: Failures.emptyMetadataKey });
  });

  it("stores metadata as JSON, and none as null", () => {
    expect(metadataToText({})).toBeNull();
    expect(metadataFromText(metadataToText({ a: "1", b: "ü" }))).toEqual({ a: "1", b: "ü" });
    expect(metadataFromText(null)).toEqual({});
  });
});

describe("parseDisplayName", () => {
  it("trims a name and takes none for unset or blank", () => {
    expect(parseDisplayName("  Coffee Corner ")).toEqual({ ok: true, value: "Coffee Corner" });
    expect(parseDisplayName(undefined)).toEqual({ ok: true, value: null });
    expect(parseDisplayName("   ")).toEqual({ ok: true, value: null });
  });

  it.each([["x".repeat(65)], ["line\nbreak"], ["tab\there"], ["bell\u0007"], ["a\u2028b"]])("refuses %j", (name) => {
    expect(parseDisplayName(name)).toEqual({ ok: false, failure: Failures.invalidDisplayName });
  });
});
