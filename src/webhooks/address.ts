/**
 * Where a webhook may go: a public host over HTTPS. Never a private,
 * loopback, link-local or otherwise special address, whether the URL names it
 * (`https://10.0.0.1/`, `https://[::1]/`, `https://localhost/`) or DNS answers
 * it for a name. The sandbox flag (`WEBHOOKS_ALLOW_LOCALHOST`) lets loopback
 * through, over HTTP too, so a receiver on the developer's machine works.
 * Checked when an endpoint is saved and again before every attempt.
 */

/** Why an address is refused: the kind of address, in words. */
export type AddressKind =
  | "loopback"
  | "private"
  | "link-local"
  | "shared (carrier-grade NAT)"
  | "unspecified"
  | "multicast"
  | "reserved"
  | "documentation";

type Range = { bits: bigint; prefix: number; kind: AddressKind };

const v4 = (a: number, b: number, c: number, d: number) => (BigInt(a) << 24n) | (BigInt(b) << 16n) | (BigInt(c) << 8n) | BigInt(d);

/** IPv4 special-purpose ranges (RFC 6890 and its updates) that no webhook has business reaching. */
const V4_RANGES: Range[] = [
  { bits: v4(0, 0, 0, 0), prefix: 8, kind: "unspecified" },
  { bits: v4(10, 0, 0, 0), prefix: 8, kind: "private" },
  { bits: v4(100, 64, 0, 0), prefix: 10, kind: "shared (carrier-grade NAT)" },
  { bits: v4(127, 0, 0, 0), prefix: 8, kind: "loopback" },
  { bits: v4(169, 254, 0, 0), prefix: 16, kind: "link-local" },
  { bits: v4(172, 16, 0, 0), prefix: 12, kind: "private" },
  { bits: v4(192, 0, 0, 0), prefix: 24, kind: "reserved" },
  { bits: v4(192, 0, 2, 0), prefix: 24, kind: "documentation" },
  { bits: v4(192, 88, 99, 0), prefix: 24, kind: "reserved" },
  { bits: v4(192, 168, 0, 0), prefix: 16, kind: "private" },
  { bits: v4(198, 18, 0, 0), prefix: 15, kind: "reserved" },
  { bits: v4(198, 51, 100, 0), prefix: 24, kind: "documentation" },
  { bits: v4(203, 0, 113, 0), prefix: 24, kind: "documentation" },
  { bits: v4(224, 0, 0, 0), prefix: 4, kind: "multicast" },
  { bits: v4(240, 0, 0, 0), prefix: 4, kind: "reserved" },
];

const v6 = (text: string) => parseIpv6(text) as bigint;

/** IPv6 special-purpose ranges; those that embed an IPv4 address are judged by it (see {@link classifyIpv6}). */
const V6_RANGES: Range[] = [
  { bits: v6("::"), prefix: 128, kind: "unspecified" },
  { bits: v6("::1"), prefix: 128, kind: "loopback" },
  { bits: v6("64:ff9b:1::"), prefix: 48, kind: "private" },
  { bits: v6("100::"), prefix: 64, kind: "reserved" },
  { bits: v6("2001::"), prefix: 23, kind: "reserved" },
  { bits: v6("2001:db8::"), prefix: 32, kind: "documentation" },
  { bits: v6("2002::"), prefix: 16, kind: "reserved" },
  { bits: v6("3fff::"), prefix: 20, kind: "documentation" },
  { bits: v6("5f00::"), prefix: 16, kind: "reserved" },
  { bits: v6("fc00::"), prefix: 7, kind: "private" },
  { bits: v6("fe80::"), prefix: 10, kind: "link-local" },
  { bits: v6("fec0::"), prefix: 10, kind: "private" },
  { bits: v6("ff00::"), prefix: 8, kind: "multicast" },
];

const inRange = (address: bigint, width: number, r: Range) => address >> BigInt(width - r.prefix) === r.bits >> BigInt(width - r.prefix);

/** The IPv4 address of dotted-quad text, as a number; null when the text is not one. */
export function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n);
}

/** The IPv6 address of its text (hex groups, one `::` at most, a trailing dotted quad allowed), as a number; null otherwise. */
export function parseIpv6(text: string): bigint | null {
  let groups = text.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups)?.[1];
  if (quad) {
    const n = parseIpv4(quad);
    if (n === null) return null;
    groups = `${groups.slice(0, -quad.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const halves = groups.split("::");
  if (halves.length > 2) return null;
  const split = (s: string | undefined) => (s ? s.split(":") : []);
  const head = split(halves[0]);
  const tail = split(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** The kind of a special IPv4 address, or null for a public one. */
export function classifyIpv4(address: bigint): AddressKind | null {
  return V4_RANGES.find((r) => inRange(address, 32, r))?.kind ?? null;
}

/**
 * The kind of a special IPv6 address, or null for a public one. An address
 * that carries an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated
 * `::ffff:0:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`)
 * is what that IPv4 address is; local-use NAT64 (`64:ff9b:1::/48`) is private.
 */
export function classifyIpv6(address: bigint): AddressKind | null {
  const low32 = address & 0xffffffffn;
  const high96 = address >> 32n;
  const embedsIpv4 = high96 === 0xffffn || high96 === 0xffff0000n || high96 === v6("64:ff9b::") >> 32n;
  if (embedsIpv4 || (high96 === 0n && address > 1n)) return classifyIpv4(low32);
  return V6_RANGES.find((r) => inRange(address, 128, r))?.kind ?? null;
}

/** Host names that never name a public host: the loopback name, and suffixes kept for private networks. */
const PRIVATE_SUFFIXES = [".local", ".localdomain", ".internal", ".intranet", ".lan", ".home.arpa", ".corp", ".private"];

/** What a URL's host is: a public name, a name that is not public, or an address and its kind (null: public). */
export type HostKind =
  | { type: "name"; name: string }
  | { type: "special-name"; name: string; loopback: boolean }
  | { type: "address"; address: string; kind: AddressKind | null };

/** Classifies a URL's `hostname` (as the URL parser leaves it: IPv4 in dotted quads, IPv6 in brackets, lower case). */
export function classifyHost(hostname: string): HostKind {
  // Trailing dots (one makes a name fully qualified; more are the same name to many resolvers) never hide a name.
  const host = hostname.replace(/\.+$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const address = parseIpv6(host.slice(1, -1));
    return { type: "address", address: host, kind: address === null ? "reserved" : classifyIpv6(address) };
  }
  const ipv4 = parseIpv4(host);
  if (ipv4 !== null) return { type: "address", address: host, kind: classifyIpv4(ipv4) };
  if (host === "localhost" || host.endsWith(".localhost")) return { type: "special-name", name: host, loopback: true };
  // A name without a dot is resolved against local search domains, never the public DNS.
  if (!host.includes(".") || host.endsWith(".arpa") || PRIVATE_SUFFIXES.some((s) => host.endsWith(s))) {
    return { type: "special-name", name: host, loopback: false };
  }
  return { type: "name", name: host };
}

/** Whether a host is loopback (the only kind the sandbox flag lets through). */
export function isLoopback(host: HostKind): boolean {
  return (host.type === "special-name" && host.loopback) || (host.type === "address" && host.kind === "loopback");
}

/** A URL checked against the rule: the URL, or the rule it breaks in words (to follow "url "). */
export type UrlCheck = { ok: true; url: URL; host: HostKind } | { ok: false; rule: string };

/**
 * Checks an endpoint URL: absolute, `https` (or `http` to loopback when
 * `allowLocalhost`), no user name or password, and a host that is a public
 * name or a public address. What a name resolves to is checked at delivery
 * ({@link import("./resolve").refusedAddress}).
 */
export function checkWebhookUrl(text: string, allowLocalhost: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, rule: "must be an absolute URL, such as https://example.com/webhooks" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, rule: `must be https, not ${url.protocol.slice(0, -1)}` };
  if (url.username || url.password) return { ok: false, rule: "must not carry a user name or password" };
  const host = classifyHost(url.hostname);
  const loopback = isLoopback(host);
  if (!(loopback && allowLocalhost)) {
    if (host.type === "address" && host.kind !== null) {
      return { ok: false, rule: `must not name a ${host.kind} address (${host.address}): webhooks go to public hosts only` };
    }
    if (host.type === "special-name") {
      return { ok: false, rule: `must not name ${host.name}, which is not a public host name: webhooks go to public hosts only` };
    }
    if (url.protocol !== "https:") return { ok: false, rule: "must be https" };
  }
  return { ok: true, url, host };
}
