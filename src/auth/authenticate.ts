import { cacheKeys, readThrough } from "../cache";
import { loadSiteConfig } from "../db/sites";
import { findGrant, type TokenGrant } from "../db/tokens";
import type { SiteConfig } from "../domain/site";
import { AppError, ErrorCode } from "../errors";
import type { Scope } from "./scopes";
import { sha256Hex } from "./secrets";

/** A request's caller: the token's grant and its site. */
export interface Caller {
  grant: TokenGrant;
  site: SiteConfig;
}

/**
 * Where a request carried its token: the OC-TOMA body's `apiToken`, OPS-COM's validate/plate body's `api_token`,
 * or a header (Genetec's Pay-by-Plate sends `X-ApiKey`). Errors name it as the client sent it.
 */
export type TokenSource = "apiToken" | "api_token" | "Authorization" | "X-Api-Key" | "X-ApiKey";

const named = (from: TokenSource) => (from === "apiToken" || from === "api_token" ? from : `The token in ${from}`);

/**
 * Resolves a token to its grant and site through the caches (isolate memo,
 * then KV, then D1) and checks it holds `scope`. Warm, this is two memo hits
 * and no I/O. Unknown or revoked: 9002 (401); lacking the scope: 9002 (403);
 * either names `from`.
 */
export async function authenticate(env: Env, token: string, scope: Scope, from: TokenSource = "apiToken"): Promise<Caller> {
  const tokenHash = await sha256Hex(token);
  const grant = await readThrough(env.CACHE, cacheKeys.token(tokenHash), () => findGrant(env.DB, tokenHash));
  if (!grant) throw new AppError(ErrorCode.NoPermission, `${named(from)} is unknown or revoked.`, { field: from });
  if (!grant.scopes.includes(scope)) {
    throw new AppError(ErrorCode.NoPermission, `${named(from)} lacks the ${scope} scope for this call.`, { field: from, status: 403 });
  }
  const site = await readThrough(env.CACHE, cacheKeys.site(grant.siteId), () => loadSiteConfig(env.DB, grant.siteId));
  if (!site) throw new AppError(ErrorCode.NoPermission, `${named(from)} belongs to a site that no longer exists.`, { field: from });
  return { grant, site };
}

const touched = new Map<string, number>();

/**
 * Whether this request should record its token's last use: true at most once
 * a minute per token and isolate, so most requests skip that write. The SQL
 * guard (`last_used_at < now - 60`) keeps isolates from writing more often.
 */
export function shouldTouch(tokenId: string, now: number): boolean {
  const last = touched.get(tokenId) ?? 0;
  if (now - last < 60) return false;
  if (touched.size > 10_000) touched.clear();
  touched.set(tokenId, now);
  return true;
}
