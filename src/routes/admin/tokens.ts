import { z } from "@hono/zod-openapi";
import { SCOPES } from "../../auth/scopes";
import { cacheKeys, invalidate } from "../../cache";
import { createToken, findToken, listTokens, revokeToken, rotateToken, setTokenTier, type TokenInfo, type TokenRow } from "../../db/tokens";
import { RATE_TIERS } from "../../domain/rate-limits";
import { formatWireTime } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { type AdminApp, type AdminContext, adminRoute, body, json, rootOnly, SiteParam, siteOf } from "./route";

export const TokenView = z
  .object({
    id: z.string(),
    prefix: z.string().openapi({ description: "The secret's first characters, to tell tokens apart." }),
    label: z.string().nullable(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    tier: z.enum(RATE_TIERS).openapi({ description: "Its rate-limit tier (see the README's rate limits); only ADMIN_TOKEN changes it." }),
  })
  .openapi("Token");
export const NewTokenView = TokenView.extend({
  token: z.string().openapi({ description: "The secret. Shown once, never again." }),
}).openapi("NewToken");
export const TokenList = z.object({ tokens: z.array(TokenView) }).openapi("TokenList");

const tokenView = (t: TokenInfo): z.infer<typeof TokenView> => ({
  id: t.id,
  prefix: t.prefix,
  label: t.label,
  scopes: t.scopes,
  createdAt: formatWireTime(t.createdAt),
  lastUsedAt: formatWireTime(t.lastUsedAt),
  revokedAt: formatWireTime(t.revokedAt),
  tier: t.tier,
});

export const TokenCreate = z.object({
  scopes: z
    .array(z.enum(SCOPES))
    .min(1)
    .refine((l) => new Set(l).size === l.length, "must not repeat a scope")
    .openapi({ example: ["push", "update"] }),
  label: z.string().trim().min(1).max(100).optional().openapi({ example: "Pay stations, east lots" }),
});

/** A change of a credential's rate-limit tier. */
export const TierChange = z.object({
  tier: z.enum(RATE_TIERS).openapi({ description: "standard (every credential's at first), high or max.", example: "high" }),
});

const TokenParam = z.object({
  id: z
    .string()
    .openapi({ param: { name: "id", in: "path" }, description: "The API token's id (not its secret).", example: "tk_0a1b2c3d4e5f" }),
});

/** The token in the path, if the caller may manage its site; 9009 otherwise (another site's token answers as a missing one). */
async function tokenOf(c: AdminContext, id: string): Promise<TokenRow> {
  const caller = c.get("admin");
  const row = await findToken(c.env.DB, id);
  if (!row || (caller.kind === "site" && caller.siteId !== row.siteId)) {
    throw new AppError(ErrorCode.NotFound, `Token ${id} does not exist.`, { field: "id" });
  }
  return row;
}

/** A site's API tokens: issue, list, revoke, rotate. */
export function registerTokenRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/tokens",
      operationId: "listTokens",
      summary: "List a site's API tokens (never their secrets)",
      request: { params: SiteParam },
      responses: { 200: json(TokenList, "Tokens") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json({ tokens: (await listTokens(c.env.DB, site.id)).map(tokenView) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/tokens",
      operationId: "createToken",
      summary: "Issue an API token; the secret is in this answer only",
      request: {
        params: SiteParam,
        body: body(TokenCreate),
      },
      responses: { 201: json(NewTokenView, "Issued") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const input = c.req.valid("json");
      const token = await createToken(c.env.DB, { siteId: site.id, scopes: input.scopes, label: input.label });
      return c.json({ ...tokenView(token), token: token.token }, 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/tokens/{id}",
      operationId: "revokeToken",
      summary: "Revoke an API token (revoking again is not an error)",
      request: { params: TokenParam },
      responses: { 200: json(TokenView, "Revoked") },
      errors: [404],
    }),
    async (c) => {
      const row = await tokenOf(c, c.req.valid("param").id);
      const info = await revokeToken(c.env.DB, row);
      await invalidate(c.env.CACHE, cacheKeys.token(row.tokenHash));
      return c.json(tokenView(info), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/tokens/{id}/rotate",
      operationId: "rotateToken",
      summary: "Rotate an API token: a new secret for the same id, site and scopes; the old secret stops working",
      request: { params: TokenParam },
      responses: { 200: json(NewTokenView, "Rotated") },
      errors: [400, 404],
    }),
    async (c) => {
      const row = await tokenOf(c, c.req.valid("param").id);
      if (row.revokedAt !== null) {
        throw new AppError(ErrorCode.Invalid, `Token ${row.id} is revoked and cannot be rotated.`, { field: "id" });
      }
      const rotated = await rotateToken(c.env.DB, row);
      if (!rotated) throw new AppError(ErrorCode.Invalid, `Token ${row.id} was revoked meanwhile.`, { field: "id" });
      await invalidate(c.env.CACHE, cacheKeys.token(row.tokenHash));
      return c.json({ ...tokenView(rotated), token: rotated.token }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/tokens/{id}",
      operationId: "setTokenTier",
      summary: "Set an API token's rate-limit tier (ADMIN_TOKEN only)",
      description:
        "Raises (or lowers) how many reads and writes a minute the token may make: its limits come from the tier (see the README). Only the holder of ADMIN_TOKEN may do this: a site's admin-scope token cannot raise its own site's limits. Takes effect within the cache bound of a revoked token; its counts start afresh under the new tier. A revoked token's tier cannot change (9033).",
      middleware: [rootOnly] as const,
      request: { params: TokenParam, body: body(TierChange) },
      responses: { 200: json(TokenView, "The token, with its new tier") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const row = await tokenOf(c, c.req.valid("param").id);
      const { tier } = c.req.valid("json");
      if (row.revokedAt !== null) {
        throw new AppError(ErrorCode.Invalid, `Token ${row.id} is revoked: its tier cannot change.`, { field: "id" });
      }
      const updated = await setTokenTier(c.env.DB, row, tier);
      if (!updated) throw new AppError(ErrorCode.Invalid, `Token ${row.id} was revoked meanwhile.`, { field: "id" });
      await invalidate(c.env.CACHE, cacheKeys.token(row.tokenHash));
      return c.json(tokenView(updated), 200);
    },
  );
}
