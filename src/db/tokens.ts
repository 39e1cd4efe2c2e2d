import { and, desc, eq, isNull } from "drizzle-orm";
import type { Scope } from "../auth/scopes";
import { randomString, sha256Hex } from "../auth/secrets";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode } from "../errors";
import type { Database } from "./client";
import { apiTokens } from "./schema";

/** What a valid token grants; cached in KV under `token:v1:<hash>`. */
export interface TokenGrant {
  tokenId: string;
  siteId: number;
  scopes: Scope[];
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
}

/** `pe-` and 43 base62 characters (256 bits): 46 characters, inside OPS-COM's 50 letters, digits and dashes. */
function newSecret(): string {
  return `pe-${randomString(43)}`;
}

function toInfo(row: typeof apiTokens.$inferSelect): TokenInfo {
  return {
    id: row.id,
    prefix: row.prefix,
    label: row.label,
    scopes: row.scopes.split(",") as Scope[],
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

/** Issues a token for a site. The secret is in the result and nowhere else, ever. */
export async function createToken(
  db: Database,
  input: { siteId: number; scopes: Scope[]; label?: string },
): Promise<TokenInfo & { token: string }> {
  const token = newSecret();
  const [row] = await db
    .insert(apiTokens)
    .values({
      id: `tk_${randomString(12, "0123456789abcdefghijklmnopqrstuvwxyz")}`,
      siteId: input.siteId,
      tokenHash: await sha256Hex(token),
      prefix: token.slice(0, 7),
      label: input.label ?? null,
      scopes: input.scopes.join(","),
      createdAt: nowSeconds(),
    })
    .returning();
  return { ...toInfo(row as typeof apiTokens.$inferSelect), token };
}

/** A site's tokens, newest first, revoked ones included. */
export async function listTokens(db: Database, siteId: number): Promise<TokenInfo[]> {
  const rows = await db.select().from(apiTokens).where(eq(apiTokens.siteId, siteId)).orderBy(desc(apiTokens.createdAt));
  return rows.map(toInfo);
}

/** One token row by id; 9009 when there is none. */
export async function getTokenRow(db: Database, id: string) {
  const row = await db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();
  if (!row) throw new AppError(ErrorCode.NotFound, `Token ${id} does not exist.`, { field: "id" });
  return row;
}

/** Revokes a token (again is fine). Returns the hash whose cache entry must go. */
export async function revokeToken(db: Database, id: string): Promise<{ info: TokenInfo; tokenHash: string }> {
  const row = await getTokenRow(db, id);
  const [updated] = await db
    .update(apiTokens)
    .set({ revokedAt: row.revokedAt ?? nowSeconds() })
    .where(eq(apiTokens.id, id))
    .returning();
  return { info: toInfo(updated as typeof apiTokens.$inferSelect), tokenHash: row.tokenHash };
}

/**
 * Replaces a live token's secret, keeping its id, site, scopes and label. The
 * old secret stops working like a revoked one. Returns the old hash to uncache.
 */
export async function rotateToken(db: Database, id: string): Promise<{ info: TokenInfo & { token: string }; oldHash: string }> {
  const row = await getTokenRow(db, id);
  if (row.revokedAt !== null) throw new AppError(ErrorCode.Invalid, `Token ${id} is revoked and cannot be rotated.`, { field: "id" });
  const token = newSecret();
  const [updated] = await db
    .update(apiTokens)
    .set({ tokenHash: await sha256Hex(token), prefix: token.slice(0, 7), lastUsedAt: null })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning();
  if (!updated) throw new AppError(ErrorCode.Invalid, `Token ${id} was revoked meanwhile.`, { field: "id" });
  return { info: { ...toInfo(updated), token }, oldHash: row.tokenHash };
}

/** The grant of a live token by the hash of its secret, or null. */
export async function findGrant(db: Database, tokenHash: string): Promise<TokenGrant | null> {
  const row = await db
    .select({ id: apiTokens.id, siteId: apiTokens.siteId, scopes: apiTokens.scopes })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
    .get();
  return row ? { tokenId: row.id, siteId: row.siteId, scopes: row.scopes.split(",") as Scope[] } : null;
}
