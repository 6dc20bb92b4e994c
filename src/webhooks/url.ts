// Which URLs a webhook may call (SSRF guard): https only, no credentials, and never a host that
// names this machine, its network or the cloud metadata service. Pure; checked on save and at send.

export const MAX_WEBHOOK_URL_LENGTH = 2000;

export interface WebhookUrlPolicy {
  /** Local development and tests (WEBHOOK_ALLOW_INSECURE_URLS=true): also http:// and loopback/private hosts. */
  allowInsecure: boolean;
}

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Judges a webhook URL. Only IP literals and well-known names can be judged here: a DNS name that
 * resolves to a private address is the network's to refuse (Workers' fetch does not reach them).
 *
 * @example checkWebhookUrl("https://shop.example/hooks", { allowInsecure: false }).ok // true
 */
export function checkWebhookUrl(text: string, policy: WebhookUrlPolicy): WebhookUrlCheck {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) return refused(`longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refused("not a URL");
  }
  if (url.protocol !== "https:" && !(policy.allowInsecure && url.protocol === "http:")) return refused("not https");
  if (url.username !== "" || url.password !== "") return refused("credentials in the URL");
  const reach = hostReach(url.hostname);
  if (reach === "public" || (policy.allowInsecure && reach === "local")) return { ok: true, url };
  return refused(`host ${url.hostname} is ${reach === "local" ? "loopback or private" : "not reachable from the internet"}`);
}

const refused = (reason: string): WebhookUrlCheck => ({ ok: false, reason });

/** `public`: the internet; `local`: this machine or a private network; `never`: no endpoint lives there. */
type Reach = "public" | "local" | "never";

const NEVER_HOSTS = new Set(["metadata.google.internal", "metadata.goog"]);

/** The reach of a URL's hostname as WHATWG URL serialises it (IPv4 in dotted decimal, IPv6 in brackets). */
function hostReach(hostname: string): Reach {
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host === "") return "never";
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = parseIpv6(host.slice(1, -1));
    return groups ? ipv6Reach(groups) : "never";
  }
  const v4 = parseIpv4(host);
  if (v4 !== null) return ipv4Reach(v4);
  if (host === "localhost" || host.endsWith(".localhost")) return "local";
  if (NEVER_HOSTS.has(host)) return "never";
  return "public";
}

/** A dotted-decimal IPv4 address as a 32-bit number, or null. WHATWG URL has already turned 0x7f.1, 2130706433 and 0177.0.0.1 into this form. */
function parseIpv4(host: string): number | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const inV4 = (ip: number, base: string, bits: number) => {
  const net = parseIpv4(base)!;
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(net / size);
};

function ipv4Reach(ip: number): Reach {
  if (inV4(ip, "0.0.0.0", 8)) return "never"; // unspecified, "this network"
  if (inV4(ip, "169.254.0.0", 16)) return "never"; // link-local, the cloud metadata service 169.254.169.254
  if (inV4(ip, "224.0.0.0", 4)) return "never"; // multicast
  if (inV4(ip, "240.0.0.0", 4)) return "never"; // reserved, and the broadcast 255.255.255.255
  if (inV4(ip, "127.0.0.0", 8)) return "local"; // loopback
  if (inV4(ip, "10.0.0.0", 8) || inV4(ip, "172.16.0.0", 12) || inV4(ip, "192.168.0.0", 16)) return "local"; // private
  if (inV4(ip, "100.64.0.0", 10)) return "local"; // carrier-grade NAT
  return "public";
}

/** Eight 16-bit groups, or null. Accepts `::` compression and a dotted IPv4 tail. */
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const side = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-f]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const head = side(halves[0]!);
  const tail = halves.length === 2 ? side(halves[1]!) : [];
  if (!head || !tail) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : null;
}

function ipv6Reach(g: number[]): Reach {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => ipv4Reach(hi * 65536 + lo);
  if (zeros(0, 8)) return "never"; // ::
  if (zeros(0, 7) && g[7] === 1) return "local"; // ::1
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!); // ::ffff:a.b.c.d, IPv4-mapped
  if (zeros(0, 6)) return v4(g[6]!, g[7]!); // ::a.b.c.d, the deprecated IPv4-compatible form
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!); // 64:ff9b::/96, NAT64
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!); // 2002::/16, 6to4
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return "local"; // fc00::/7, unique local
  if ((first & 0xffc0) === 0xfec0) return "local"; // fec0::/10, the deprecated site-local
  if ((first & 0xffc0) === 0xfe80) return "never"; // fe80::/10, link-local
  if ((first & 0xff00) === 0xff00) return "never"; // ff00::/8, multicast
  return "public";
}
