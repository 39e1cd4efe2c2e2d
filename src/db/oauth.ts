import { and, desc, eq, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Scope } from "../auth/scopes";
import { ID_ALPHABET, randomString, secretsEqual, sha256Hex } from "../auth/secrets";
import type { RateTier } from "../domain/rate-limits";
import { nowSeconds } from "../domain/time";
import { database, statement } from "./client";
import { oauthClients, oauthTokens } from "./schema";

/** How long an access token lives (RFC 6749 §4.4.3 `expires_in`). */
export const ACCESS_TOKEN_SECONDS = 3600;

/** What a live access token grants; cached in KV under `oauth-token:v1:<hash>`. */
export interface AccessGrant {
  clientId: string;
  siteId: number;
  scopes: Scope[];
  /** The client's generation when it was issued: a rotation since ends it. */
  generation: number;
  expiresAt: number;
}

/** What a live client is; cached in KV under `oauth-client:v2:<id>` (deleted on revoke, rotate and a change of tier). */
export interface ClientGrant {
  clientId: string;
  siteId: number;
  label: string;
  scopes: Scope[];
  generation: number;
  /** Its rate-limit tier, shared by all its access tokens. */
  tier: RateTier;
}

/** A client as admins see it: never the secret, never its hash. */
export interface ClientInfo {
  id: string;
  label: string;
  scopes: Scope[];
  secretPrefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  tier: RateTier;
}

export type ClientRow = typeof oauthClients.$inferSelect;

/** `cs-` and 43 base62 characters (256 bits). */
const newSecret = () => `cs-${randomString(43)}`;
/** `at-` and 43 base62 characters (256 bits): 46 letters, digits and dashes, a well-formed header token. */
const newAccessToken = () => `at-${randomString(43)}`;

/** Whether a header token is an OAuth access token (an API token starts `pe-`). */
export const isAccessToken = (token: string) => token.startsWith("at-");

const split = (scopes: string) => scopes.split(",") as Scope[];

function toInfo(row: ClientRow): ClientInfo {
  return {
    id: row.id,
    label: row.label,
    scopes: split(row.scopes),
    secretPrefix: row.secretPrefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
    tier: row.rateTier,
  };
}

/** Registers a client for a site. The secret is in the result and nowhere else, ever. */
export async function createClient(
  d1: D1Database,
  input: { siteId: number; label: string; scopes: Scope[] },
): Promise<ClientInfo & { secret: string }> {
  const secret = newSecret();
  const row = await database(d1)
    .insert(oauthClients)
    .values({
      id: `oc_${randomString(16, ID_ALPHABET)}`,
      siteId: input.siteId,
      label: input.label,
      scopes: input.scopes.join(","),
      secretHash: await sha256Hex(secret),
      secretPrefix: secret.slice(0, 7),
      createdAt: nowSeconds(),
    })
    .returning()
    .get();
  return { ...toInfo(row as ClientRow), secret };
}

/** A site's clients, newest first, revoked ones included. */
export async function listClients(d1: D1Database, siteId: number): Promise<ClientInfo[]> {
  const rows = await database(d1)
    .select()
    .from(oauthClients)
    .where(eq(oauthClients.siteId, siteId))
    .orderBy(desc(oauthClients.createdAt), desc(oauthClients.id));
  return rows.map(toInfo);
}

/** One client row by id, or null. */
export async function findClient(d1: D1Database, id: string): Promise<ClientRow | null> {
  return (await database(d1).select().from(oauthClients).where(eq(oauthClients.id, id)).get()) ?? null;
}

/** Revokes a client and its access tokens (again is fine: the first revocation time stays). */
export async function revokeClient(d1: D1Database, row: ClientRow): Promise<ClientInfo> {
  const db = database(d1);
  const now = nowSeconds();
  const [updated] = await db.batch([
    db
      .update(oauthClients)
      .set({ revokedAt: row.revokedAt ?? now })
      .where(eq(oauthClients.id, row.id))
      .returning(),
    db
      .update(oauthTokens)
      .set({ revokedAt: now })
      .where(and(eq(oauthTokens.clientId, row.id), isNull(oauthTokens.revokedAt))),
  ]);
  return toInfo(updated[0] as ClientRow);
}

/**
 * Gives a live client a new secret and a new generation, which ends every
 * access token issued before. Null when the client is revoked.
 */
export async function rotateClient(d1: D1Database, row: ClientRow): Promise<(ClientInfo & { secret: string }) | null> {
  const secret = newSecret();
  const updated = await database(d1)
    .update(oauthClients)
    .set({
      secretHash: await sha256Hex(secret),
      secretPrefix: secret.slice(0, 7),
      generation: sql`${oauthClients.generation} + 1`,
      lastUsedAt: null,
    })
    .where(and(eq(oauthClients.id, row.id), isNull(oauthClients.revokedAt)))
    .returning()
    .get();
  return updated ? { ...toInfo(updated), secret } : null;
}

/** The live client whose id and secret these are, or null (compared in constant time). */
export async function verifyClient(d1: D1Database, clientId: string, secret: string): Promise<ClientRow | null> {
  const row = await findClient(d1, clientId);
  const matches = await secretsEqual(await sha256Hex(secret), row?.secretHash ?? "");
  return row && matches && row.revokedAt === null ? row : null;
}

/**
 * Issues an access token to a live client for `scopes`, records the
 * client's use, and drops the client's expired tokens in the same batch (so the table holds about an
 * hour of tokens per client). The token is in the result and nowhere else.
 */
export async function issueAccessToken(
  d1: D1Database,
  client: ClientRow,
  scopes: Scope[],
  now: number,
): Promise<{ token: string; expiresAt: number }> {
  const db = database(d1);
  const token = newAccessToken();
  const expiresAt = now + ACCESS_TOKEN_SECONDS;
  await db.batch([
    db.delete(oauthTokens).where(and(eq(oauthTokens.clientId, client.id), lte(oauthTokens.expiresAt, now))),
    // A token request is a use of the client (its "last used").
    db.update(oauthClients).set({ lastUsedAt: now }).where(eq(oauthClients.id, client.id)),
    db.insert(oauthTokens).values({
      tokenHash: await sha256Hex(token),
      clientId: client.id,
      siteId: client.siteId,
      scopes: scopes.join(","),
      generation: client.generation,
      issuedAt: now,
      expiresAt,
    }),
  ]);
  return { token, expiresAt };
}

/** The grant of an unrevoked access token by its hash, or null; its expiry is the caller's to check (to say "expired"). */
export async function findAccessGrant(d1: D1Database, tokenHash: string): Promise<AccessGrant | null> {
  const row = await database(d1)
    .select()
    .from(oauthTokens)
    .where(and(eq(oauthTokens.tokenHash, tokenHash), isNull(oauthTokens.revokedAt)))
    .get();
  return row
    ? { clientId: row.clientId, siteId: row.siteId, scopes: split(row.scopes), generation: row.generation, expiresAt: row.expiresAt }
    : null;
}

/** A live client's grant, or null when it is revoked or unknown. */
export async function findClientGrant(d1: D1Database, clientId: string): Promise<ClientGrant | null> {
  const row = await database(d1)
    .select()
    .from(oauthClients)
    .where(and(eq(oauthClients.id, clientId), isNull(oauthClients.revokedAt)))
    .get();
  return row
    ? { clientId: row.id, siteId: row.siteId, label: row.label, scopes: split(row.scopes), generation: row.generation, tier: row.rateTier }
    : null;
}

/**
 * Sets a live client's rate-limit tier (its access tokens share it); null
 * when the client is revoked. Its cache entry is the caller's to drop.
 */
export async function setClientTier(d1: D1Database, row: ClientRow, tier: RateTier): Promise<ClientInfo | null> {
  const updated = await database(d1)
    .update(oauthClients)
    .set({ rateTier: tier })
    .where(and(eq(oauthClients.id, row.id), isNull(oauthClients.revokedAt)))
    .returning()
    .get();
  return updated ? toInfo(updated) : null;
}

/**
 * Revokes an access token at its client's request (RFC 7009): `revoked`
 * (also when it was already revoked or expired), `unknown` (no such token:
 * nothing to do), or `other-client` (issued to another client: refused).
 */
export async function revokeAccessToken(
  d1: D1Database,
  tokenHash: string,
  clientId: string,
  now: number,
): Promise<"revoked" | "unknown" | "other-client"> {
  const db = database(d1);
  const row = await db.select({ clientId: oauthTokens.clientId }).from(oauthTokens).where(eq(oauthTokens.tokenHash, tokenHash)).get();
  if (!row) return "unknown";
  if (row.clientId !== clientId) return "other-client";
  await db
    .update(oauthTokens)
    .set({ revokedAt: now })
    .where(and(eq(oauthTokens.tokenHash, tokenHash), isNull(oauthTokens.revokedAt)));
  return "revoked";
}

/** Records a client's use at `now`, unless recorded in the last minute (as {@link import("./tokens").touchToken}). */
export function touchClient(d1: D1Database, clientId: string, now: number): D1PreparedStatement {
  return statement(
    d1,
    database(d1)
      .update(oauthClients)
      .set({ lastUsedAt: now })
      .where(and(eq(oauthClients.id, clientId), or(isNull(oauthClients.lastUsedAt), lt(oauthClients.lastUsedAt, now - 60)))),
  );
}
