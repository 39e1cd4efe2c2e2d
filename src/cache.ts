/**
 * The KV cache in front of D1 and the short in-isolate memo in front of KV.
 * Every key is built here and listed in docs/storage.md.
 */

/** KV entries expire on their own after this long, which bounds staleness even if a delete is lost. */
export const KV_TTL_SECONDS = 120;
/** How long an edge location may serve a KV read from its own cache (KV's minimum). */
export const KV_CACHE_TTL_SECONDS = 30;
/** How long one isolate reuses a value without asking KV. */
export const MEMO_TTL_MS = 5_000;

export const cacheKeys = {
  /** token:v2:<sha256 of the token> → {@link import("./db/tokens").TokenGrant} (v2: with its rate-limit tier) */
  token: (tokenHash: string) => `token:v2:${tokenHash}`,
  /**
   * site:v3:<site id> → {@link import("./domain/site").SiteConfig} (v2: zones carry their number, rate, maximum, time zone,
   * capacity, the site its grace period; v3: the webhook event types it has subscribers for)
   */
  site: (siteId: number) => `site:v3:${siteId}`,
  /** oauth-token:v1:<sha256 of the access token> → {@link import("./db/oauth").AccessGrant} */
  accessToken: (tokenHash: string) => `oauth-token:v1:${tokenHash}`,
  /** oauth-client:v2:<client id> → {@link import("./db/oauth").ClientGrant} of a live client (v2: with its rate-limit tier) */
  oauthClient: (clientId: string) => `oauth-client:v2:${clientId}`,
};

const memo = new Map<string, { value: unknown; expires: number }>();

/**
 * Reads through the isolate memo, then KV, then `load` (D1), filling both on
 * the way back. `load` returning `null` is not cached in KV (so a token
 * created a moment later works at once), only briefly in the isolate.
 */
export async function readThrough<T>(kv: KVNamespace, key: string, load: () => Promise<T | null>): Promise<T | null> {
  const now = Date.now();
  const hit = memo.get(key);
  if (hit && hit.expires > now) return hit.value as T | null;

  let value = await kv.get<T>(key, { type: "json", cacheTtl: KV_CACHE_TTL_SECONDS });
  if (value === null) {
    value = await load();
    if (value !== null) await kv.put(key, JSON.stringify(value), { expirationTtl: KV_TTL_SECONDS });
  }
  memo.set(key, { value, expires: now + MEMO_TTL_MS });
  if (memo.size > 10_000) memo.clear();
  return value;
}

/** Drops a key after D1 changed: from KV everywhere (eventually) and from this isolate at once. */
export async function invalidate(kv: KVNamespace, key: string): Promise<void> {
  memo.delete(key);
  await kv.delete(key);
}

/** Forgets the isolate memo (tests use it to observe KV behaviour). */
export function clearMemo(): void {
  memo.clear();
}
