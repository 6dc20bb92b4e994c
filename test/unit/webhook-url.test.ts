// checkWebhookUrl: which endpoints a webhook may call. Every rule, and the spellings of an IP
// address that WHATWG URL normalises (decimal, octal, hex, IPv4-mapped IPv6) so none slips through.
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH } from "../../src/webhooks/url";

const strict = { allowInsecure: false };
const insecure = { allowInsecure: true };
const allowed = (text: string, policy = strict) => checkWebhookUrl(text, policy).ok;

describe("checkWebhookUrl", () => {
  it("accepts an https URL on a public name, and hands back the parsed URL", () => {
    const checked = checkWebhookUrl("https://Shop.Example:8443/hooks/edgepay?x=1", strict);
    expect(checked).toEqual({ ok: true, url: expect.any(URL) });
    expect(checked.ok && checked.url.href).toBe("https://shop.example:8443/hooks/edgepay?x=1");
  });

  it("accepts public IP literals", () => {
    for (const url of ["https://8.8.8.8/", "https://[2606:4700:4700::1111]/", "https://172.32.0.1/", "https://100.128.0.1/", "https://192.169.0.1/"]) {
      expect(allowed(url), url).toBe(true);
    }
  });

  it.each(["", "not a url", "/relative/path", "https://", "https://exa mple.com/"])("refuses %j, which is not an absolute URL", (text) => {
    expect(allowed(text)).toBe(false);
  });

  it.each(["http://shop.example/", "ftp://shop.example/", "ws://shop.example/", "wss://shop.example/", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,x"])(
    "refuses the scheme of %s",
    (text) => expect(allowed(text)).toBe(false),
  );

  it.each(["https://user@shop.example/", "https://user:pw@shop.example/", "https://:pw@shop.example/"])("refuses credentials in %s", (text) => {
    expect(allowed(text)).toBe(false);
    expect(allowed(text, insecure)).toBe(false);
  });

  it(`refuses a URL longer than ${MAX_WEBHOOK_URL_LENGTH} characters`, () => {
    const base = "https://shop.example/";
    expect(allowed(base + "a".repeat(MAX_WEBHOOK_URL_LENGTH - base.length))).toBe(true);
    expect(allowed(base + "a".repeat(MAX_WEBHOOK_URL_LENGTH - base.length + 1))).toBe(false);
  });

  describe("refuses hosts that are this machine or a private network", () => {
    it.each([
      ["loopback 127/8", "127.0.0.1"],
      ["loopback 127/8, far end", "127.255.255.254"],
      ["private 10/8", "10.1.2.3"],
      ["private 172.16/12", "172.16.0.1"],
      ["private 172.16/12, far end", "172.31.255.255"],
      ["private 192.168/16", "192.168.1.1"],
      ["CGNAT 100.64/10", "100.64.0.1"],
      ["CGNAT 100.64/10, far end", "100.127.255.255"],
      ["IPv6 loopback", "[::1]"],
      ["IPv6 unique local fc00::/7", "[fd12:3456::1]"],
      ["IPv6 unique local fc00::/7, fc half", "[fc00::1]"],
      ["IPv4-mapped loopback", "[::ffff:127.0.0.1]"],
      ["IPv4-mapped private, hex groups", "[::ffff:a00:1]"],
      ["IPv4-compatible loopback", "[::127.0.0.1]"],
      ["NAT64 of a private address", "[64:ff9b::10.0.0.1]"],
      ["6to4 of loopback", "[2002:7f00:1::]"],
      ["localhost", "localhost"],
      ["LOCALHOST in capitals", "LOCALHOST"],
      ["localhost with a trailing dot", "localhost."],
      ["a name under .localhost", "api.localhost"],
    ])("%s (%s); http:// and these pass with WEBHOOK_ALLOW_INSECURE_URLS", (_why, host) => {
      expect(allowed(`https://${host}/hook`)).toBe(false);
      expect(allowed(`https://${host}/hook`, insecure)).toBe(true);
      expect(allowed(`http://${host}:8080/hook`, insecure)).toBe(true);
    });
  });

  describe("refuses hosts no endpoint lives at, even with WEBHOOK_ALLOW_INSECURE_URLS", () => {
    it.each([
      ["link-local 169.254/16", "169.254.1.1"],
      ["the cloud metadata service", "169.254.169.254"],
      ["unspecified 0.0.0.0", "0.0.0.0"],
      ["this network 0/8", "0.1.2.3"],
      ["multicast 224/4", "224.0.0.1"],
      ["multicast 224/4, far end", "239.255.255.255"],
      ["reserved 240/4", "240.0.0.1"],
      ["broadcast", "255.255.255.255"],
      ["IPv6 unspecified", "[::]"],
      ["IPv6 link-local fe80::/10", "[fe80::1]"],
      ["IPv6 link-local fe80::/10, far end", "[febf::1]"],
      ["IPv6 multicast", "[ff02::1]"],
      ["IPv4-mapped metadata service", "[::ffff:169.254.169.254]"],
      ["IPv4-mapped unspecified", "[::ffff:0.0.0.0]"],
      ["GCP metadata name", "metadata.google.internal"],
      ["GCP metadata name with a trailing dot", "metadata.google.internal."],
    ])("%s (%s)", (_why, host) => {
      expect(allowed(`https://${host}/`)).toBe(false);
      expect(allowed(`http://${host}/`, insecure)).toBe(false);
    });
  });

  describe("sees through the spellings WHATWG URL normalises", () => {
    it.each([
      ["decimal", "2130706433"],
      ["hex", "0x7f000001"],
      ["octal", "0177.0.0.1"],
      ["short form", "127.1"],
      ["mixed hex parts", "0x7f.0.0.0x1"],
      ["trailing dot", "127.0.0.1."],
      ["percent-encoded", "%31%32%37.0.0.1"],
      ["full-width digits", "１２７.０.０.１"],
    ])("loopback in %s (%s)", (_why, host) => {
      expect(allowed(`https://${host}/`)).toBe(false);
    });

    it.each([
      ["decimal metadata service", "2852039166"],
      ["hex metadata service", "0xa9fea9fe"],
      ["octal private", "012.0.0.1"],
      ["hex private", "0xc0a80001"],
      ["uncompressed IPv6 loopback", "[0:0:0:0:0:0:0:1]"],
      ["zero-padded IPv6 loopback", "[0000::0001]"],
      ["IPv4-mapped in full", "[0:0:0:0:0:ffff:7f00:1]"],
      ["IPv6 in capitals", "[FE80::1]"],
    ])("%s (%s)", (_why, host) => {
      expect(allowed(`https://${host}/`)).toBe(false);
    });
  });

  it("still refuses http:// to a public host without the setting, and allows it with", () => {
    expect(allowed("http://shop.example/")).toBe(false);
    expect(allowed("http://shop.example/", insecure)).toBe(true);
  });
});
