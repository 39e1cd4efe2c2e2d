import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { Scope } from "../auth/scopes";
import { ID_ALPHABET, randomString, sha256Hex } from "../auth/secrets";
import type { RateTier } from "../domain/rate-limits";
import { nowSeconds } from "../domain/time";
import { database, statement } from "./client";
import { apiTokens } from "./schema";

/** What a valid token grants; cached in KV under `token:v2:<hash>`. */
export interface TokenGrant {
  /** The credential's id: an API token's (`tk_…`), or for an OAuth access token its client's (`oc_…`). */
  tokenId: string;
  siteId: number;
  scopes: Scope[];
  /** The token's label (absent in entries cached before labels were; read as none). */
  label?: string | null;
  /** Its rate-limit tier (an OAuth access token: its client's). */
  tier: RateTier;
}

/** A token as admins see it: never the secret, never its hash. */
export interface TokenInfo {
  id: string;
  prefix: string;
  label: string | null;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  tier: RateTier;
}

export type TokenRow = typeof apiTokens.$inferSelect;

/** `pe-` and 43 base62 characters (256 bits): 46 characters, inside OPS-COM's 50 letters, digits and dashes. */
function newSecret(): string {
  return `pe-${randomString(43)}`;
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    prefix: row.prefix,
    label: row.label,
    scopes: row.scopes.split(",") as Scope[],
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
    tier: row.rateTier,
  };
}

/** Issues a token for a site. The secret is in the result and nowhere else, ever. */
export async function createToken(
  d1: D1Database,
  input: { siteId: number; scopes: Scope[]; label?: string },
): Promise<TokenInfo & { token: string }> {
  const token = newSecret();
  const row = await database(d1)
    .insert(apiTokens)
    .values({
      id: `tk_${randomString(12, ID_ALPHABET)}`,
      siteId: input.siteId,
      tokenHash: await sha256Hex(token),
      prefix: token.slice(0, 7),
      label: input.label ?? null,
      scopes: input.scopes.join(","),
      createdAt: nowSeconds(),
    })
    .returning()
    .get();
  return { ...toInfo(row as TokenRow), token };
}

/** A site's tokens, newest first, revoked ones included. */
export async function listTokens(d1: D1Database, siteId: number): Promise<TokenInfo[]> {
  const rows = await database(d1).select().from(apiTokens).where(eq(apiTokens.siteId, siteId)).orderBy(desc(apiTokens.createdAt));
  return rows.map(toInfo);
}

/** One token row by id, or null. */
export async function findToken(d1: D1Database, id: string): Promise<TokenRow | null> {
  return (await database(d1).select().from(apiTokens).where(eq(apiTokens.id, id)).get()) ?? null;
}

/** Revokes a token (again is fine: the first revocation time stays). */
export async function revokeToken(d1: D1Database, row: TokenRow): Promise<TokenInfo> {
  const updated = await database(d1)
    .update(apiTokens)
    .set({ revokedAt: row.revokedAt ?? nowSeconds() })
    .where(eq(apiTokens.id, row.id))
    .returning()
    .get();
  return toInfo(updated as TokenRow);
}

/**
 * Replaces a live token's secret, keeping its id, site, scopes and label. The
 * old secret stops working like a revoked one (its hash, `row.tokenHash`, is
 * the cache entry to drop). Null when the token is revoked.
 */
export async function rotateToken(d1: D1Database, row: TokenRow): Promise<(TokenInfo & { token: string }) | null> {
  const token = newSecret();
  const updated = await database(d1)
    .update(apiTokens)
    .set({ tokenHash: await sha256Hex(token), prefix: token.slice(0, 7), lastUsedAt: null })
    .where(and(eq(apiTokens.id, row.id), isNull(apiTokens.revokedAt)))
    .returning()
    .get();
  return updated ? { ...toInfo(updated), token } : null;
}

/**
 * Sets a live token's rate-limit tier; null when the token is revoked (a
 * revoked token makes no calls to limit). Its cache entry is the caller's
 * to drop.
 */
export async function setTokenTier(d1: D1Database, row: TokenRow, tier: RateTier): Promise<TokenInfo | null> {
  const updated = await database(d1)
    .update(apiTokens)
    .set({ rateTier: tier })
    .where(and(eq(apiTokens.id, row.id), isNull(apiTokens.revokedAt)))
    .returning()
    .get();
  return updated ? toInfo(updated) : null;
}

/** The grant of a live token by the hash of its secret, or null. */
export async function findGrant(d1: D1Database, tokenHash: string): Promise<TokenGrant | null> {
  const row = await database(d1)
    .select({ id: apiTokens.id, siteId: apiTokens.siteId, scopes: apiTokens.scopes, label: apiTokens.label, tier: apiTokens.rateTier })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
    .get();
  return row ? { tokenId: row.id, siteId: row.siteId, scopes: row.scopes.split(",") as Scope[], label: row.label, tier: row.tier } : null;
}

/**
 * Records a token's use at `now`, unless it was recorded in the last minute
 * (the guard keeps isolates from writing more often). A statement, run after
 * the answer by `recordCredentialUse` (routes/caller.ts).
 */
export function touchToken(d1: D1Database, tokenId: string, now: number): D1PreparedStatement {
  return statement(
    d1,
    database(d1)
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(apiTokens.id, tokenId), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, now - 60)))),
  );
}
