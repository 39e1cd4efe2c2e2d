import { cacheKeys, readThrough } from "../cache";
import { findAccessGrant, findClientGrant } from "../db/oauth";
import { loadSiteConfig } from "../db/sites";
import { findGrant, type TokenGrant } from "../db/tokens";
import type { SiteConfig } from "../domain/site";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode } from "../errors";
import type { Scope } from "./scopes";
import { sha256Hex } from "./secrets";

/**
 * A request's caller: the credential's grant and its site, whichever
 * credential it was: an API token, or an OAuth client's access token (then
 * `grant.tokenId` is the client's id, the same for all its access tokens).
 */
export interface Caller {
  grant: TokenGrant;
  site: SiteConfig;
  /** `token` (an API token) or `oauth` (an OAuth client, through an access token). */
  kind: "token" | "oauth";
  /** Who acts, as the history records it and as a session's owner: `token:<token id>` or `oauth:<client id>`. */
  actor: string;
  /** Who the credential is, in words (a session's source): the token's or client's label, else its id. */
  label: string;
  /** When the credential stops working by itself (an access token's expiry, epoch seconds); null: until revoked. */
  expiresAt: number | null;
}

/**
 * Where a request carried its token: the OC-TOMA body's `apiToken`, OPS-COM's validate/plate body's `api_token`,
 * or a header (Genetec's Pay-by-Plate sends `X-ApiKey`). Errors name it as the client sent it.
 */
export type TokenSource = "apiToken" | "api_token" | "Authorization" | "X-Api-Key" | "X-ApiKey";

const named = (from: TokenSource) => (from === "apiToken" || from === "api_token" ? from : `The token in ${from}`);

const hashes = new Map<string, string>();

/**
 * The SHA-256 of a presented token, remembered by the isolate: the hash is a
 * pure function of the token, so remembering it changes no revocation bound
 * (the grant it keys is still read through {@link readThrough}'s memo, KV and
 * D1 as before); it spares hashing on every request of a busy credential.
 * Bounded like the other per-isolate maps.
 */
async function tokenHashOf(token: string): Promise<string> {
  let hash = hashes.get(token);
  if (hash === undefined) {
    hash = await sha256Hex(token);
    if (hashes.size >= 10_000) hashes.clear();
    hashes.set(token, hash);
  }
  return hash;
}

/** A site's config through the caches (isolate memo, KV, then D1); null when the site does not exist. */
export function cachedSiteConfig(env: Env, siteId: number): Promise<SiteConfig | null> {
  return readThrough(env.CACHE, cacheKeys.site(siteId), () => loadSiteConfig(env.DB, siteId));
}

/**
 * Checks the grant holds `scope` (9002, 403; `null`: any credential of the site will do) and loads its site
 * through the caches (9002, 401 if the site is gone).
 */
async function callerOf(
  env: Env,
  grant: TokenGrant,
  scope: Scope | null,
  from: TokenSource,
  who: Omit<Caller, "grant" | "site">,
): Promise<Caller> {
  if (scope !== null && !grant.scopes.includes(scope)) {
    throw new AppError(ErrorCode.NoPermission, `${named(from)} lacks the ${scope} scope for this call.`, { field: from, status: 403 });
  }
  const site = await cachedSiteConfig(env, grant.siteId);
  if (!site) throw new AppError(ErrorCode.NoPermission, `${named(from)} belongs to a site that no longer exists.`, { field: from });
  return { grant, site, ...who };
}

/**
 * Resolves an API token to its grant and site through the caches (isolate
 * memo, then KV, then D1) and checks it holds `scope` (`null`: any scope).
 * Warm, this is two memo hits and no I/O. Unknown or revoked: 9002 (401);
 * lacking the scope: 9002 (403); either names `from`.
 */
export async function authenticate(env: Env, token: string, scope: Scope | null, from: TokenSource = "apiToken"): Promise<Caller> {
  const tokenHash = await tokenHashOf(token);
  const grant = await readThrough(env.CACHE, cacheKeys.token(tokenHash), () => findGrant(env.DB, tokenHash));
  if (!grant) throw new AppError(ErrorCode.NoPermission, `${named(from)} is unknown or revoked.`, { field: from });
  return callerOf(env, grant, scope, from, {
    kind: "token",
    actor: `token:${grant.tokenId}`,
    label: grant.label ?? grant.tokenId,
    expiresAt: null,
  });
}

/**
 * Resolves an OAuth access token (from `POST /oauth/token`) to the same
 * caller an API token gives: its client's site, the token's scopes, the
 * client as actor and label. Two cached reads: the token (its client,
 * scopes, expiry and the client's generation when issued) and the live
 * client (gone once revoked; a rotation moves its generation on). Warm,
 * three memo hits and no I/O. Unknown, expired, revoked, or issued before a
 * rotation: 9002 (401); lacking the scope: 9002 (403).
 */
export async function authenticateAccessToken(env: Env, token: string, scope: Scope | null, from: TokenSource): Promise<Caller> {
  const tokenHash = await tokenHashOf(token);
  const access = await readThrough(env.CACHE, cacheKeys.accessToken(tokenHash), () => findAccessGrant(env.DB, tokenHash));
  if (!access) throw new AppError(ErrorCode.NoPermission, `${named(from)} is unknown or revoked.`, { field: from });
  if (access.expiresAt <= nowSeconds()) {
    throw new AppError(ErrorCode.NoPermission, `${named(from)} has expired: request a new one from /oauth/token.`, { field: from });
  }
  const client = await readThrough(env.CACHE, cacheKeys.oauthClient(access.clientId), () => findClientGrant(env.DB, access.clientId));
  if (!client || client.generation !== access.generation) {
    throw new AppError(ErrorCode.NoPermission, `${named(from)} is unknown or revoked.`, { field: from });
  }
  const grant: TokenGrant = {
    tokenId: client.clientId,
    siteId: client.siteId,
    scopes: access.scopes,
    label: client.label,
    tier: client.tier,
  };
  return callerOf(env, grant, scope, from, {
    kind: "oauth",
    actor: `oauth:${client.clientId}`,
    label: client.label,
    expiresAt: access.expiresAt,
  });
}

const touched = new Map<string, number>();

/**
 * Whether this request should record its credential's last use: true at
 * most once a minute per credential and isolate, so most requests skip that
 * write. The SQL guard (`last_used_at < now - 60`) keeps isolates from
 * writing more often.
 */
export function shouldTouch(tokenId: string, now: number): boolean {
  const last = touched.get(tokenId) ?? 0;
  if (now - last < 60) return false;
  if (touched.size > 10_000) touched.clear();
  touched.set(tokenId, now);
  return true;
}
