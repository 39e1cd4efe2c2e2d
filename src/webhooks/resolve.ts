import { classifyIpv4, classifyIpv6, parseIpv4, parseIpv6 } from "./address";

/**
 * What a host name resolves to, checked before each delivery: a name that a
 * public DNS answers with a private, loopback or link-local address is
 * refused like the address itself. Asked over DNS-over-HTTPS (Cloudflare's
 * resolver, JSON API), A and AAAA, and remembered in the isolate for the
 * record's TTL (at most a minute). The check and the delivery's own lookup are
 * two lookups: a name whose answer changes between them within that minute is
 * the gap that remains.
 */

/** The DNS-over-HTTPS JSON endpoint asked. */
export const DOH_URL = "https://cloudflare-dns.com/dns-query";

/** Answers are remembered at most this long (and never past their TTL). */
const MAX_CACHE_SECONDS = 60;
/** A lookup that takes longer fails the attempt (it is retried). */
const LOOKUP_TIMEOUT_MS = 5_000;

const cache = new Map<string, { addresses: string[]; until: number }>();

/** Why a name cannot be used now: it resolves to a special address, or could not be resolved (`kind: "lookup"`). */
export type Refusal = { kind: "address"; message: string } | { kind: "lookup"; message: string };

interface DohAnswer {
  Status: number;
  Answer?: { type: number; data: string; TTL: number }[];
}

async function lookup(name: string, type: "A" | "AAAA", fetchImpl: typeof fetch): Promise<{ addresses: string[]; ttl: number }> {
  const res = await fetchImpl(`${DOH_URL}?${new URLSearchParams({ name, type })}`, {
    headers: { accept: "application/dns-json" },
    signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`the DNS lookup of ${name} answered HTTP ${res.status}`);
  const answer = (await res.json()) as DohAnswer;
  // NXDOMAIN (3) has no addresses; any other failure is not an answer.
  if (answer.Status !== 0 && answer.Status !== 3) throw new Error(`the DNS lookup of ${name} failed (status ${answer.Status})`);
  const wanted = type === "A" ? 1 : 28;
  const records = (answer.Answer ?? []).filter((r) => r.type === wanted);
  return { addresses: records.map((r) => r.data), ttl: Math.min(...records.map((r) => r.TTL), MAX_CACHE_SECONDS) };
}

/**
 * Null when every address `name` resolves to is public; otherwise why the
 * delivery must not go there. A name that resolves to nothing is left to the
 * delivery itself, which fails to connect.
 */
export async function refusedAddress(name: string, fetchImpl: typeof fetch = fetch, now = Date.now()): Promise<Refusal | null> {
  let hit = cache.get(name);
  if (!hit || hit.until <= now) {
    try {
      const [a, aaaa] = await Promise.all([lookup(name, "A", fetchImpl), lookup(name, "AAAA", fetchImpl)]);
      hit = { addresses: [...a.addresses, ...aaaa.addresses], until: now + Math.max(0, Math.min(a.ttl, aaaa.ttl)) * 1000 };
    } catch (error) {
      return { kind: "lookup", message: error instanceof Error ? error.message : String(error) };
    }
    cache.set(name, hit);
    if (cache.size > 1_000) cache.clear();
  }
  for (const address of hit.addresses) {
    const v4 = parseIpv4(address);
    const v6 = v4 === null ? parseIpv6(address) : null;
    const kind = v4 !== null ? classifyIpv4(v4) : v6 !== null ? classifyIpv6(v6) : "reserved";
    if (kind !== null)
      return { kind: "address", message: `${name} resolves to a ${kind} address (${address}): webhooks go to public hosts only` };
  }
  return null;
}

/** Forgets remembered answers (tests). */
export function clearResolved(): void {
  cache.clear();
}
