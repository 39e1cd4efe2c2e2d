import { z } from "@hono/zod-openapi";
import { CLIENT_SCOPES } from "../../auth/scopes";
import { cacheKeys, invalidate } from "../../cache";
import {
  type ClientInfo,
  type ClientRow,
  createClient,
  findClient,
  listClients,
  revokeClient,
  rotateClient,
  setClientTier,
} from "../../db/oauth";
import { RATE_TIERS } from "../../domain/rate-limits";
import { formatWireTime } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { type AdminApp, type AdminContext, adminRoute, body, json, rootOnly, SiteParam, siteOf } from "./route";
import { TierChange } from "./tokens";

export const ClientView = z
  .object({
    clientId: z.string().openapi({ description: "The client_id.", example: "oc_0a1b2c3d4e5f6g7h" }),
    label: z.string().openapi({ description: "Who the client is; the source of the sessions it starts." }),
    scopes: z.array(z.enum(CLIENT_SCOPES)),
    secretPrefix: z.string().openapi({ description: "The secret's first characters, to tell secrets apart." }),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: "Its last token request or API call (recorded at most once a minute)." }),
    revokedAt: z.string().nullable(),
    tier: z.enum(RATE_TIERS).openapi({
      description: "Its rate-limit tier, shared by its access tokens (see the README's rate limits); only ADMIN_TOKEN changes it.",
    }),
  })
  .openapi("OAuthClient");
export const NewClientView = ClientView.extend({
  clientSecret: z.string().openapi({ description: "The client_secret. Shown once, never again." }),
}).openapi("NewOAuthClient");
export const ClientList = z.object({ clients: z.array(ClientView) }).openapi("OAuthClientList");

export const ClientCreate = z.object({
  label: z.string().trim().min(1).max(100).openapi({ example: "ParkOnce" }),
  scopes: z
    .array(z.enum(CLIENT_SCOPES))
    .min(1)
    .refine((l) => new Set(l).size === l.length, "must not repeat a scope")
    .openapi({ example: ["sessions", "lookup"] }),
});

const clientView = (c: ClientInfo): z.infer<typeof ClientView> => ({
  clientId: c.id,
  label: c.label,
  scopes: c.scopes as z.infer<typeof ClientView>["scopes"],
  secretPrefix: c.secretPrefix,
  createdAt: formatWireTime(c.createdAt),
  lastUsedAt: formatWireTime(c.lastUsedAt),
  revokedAt: formatWireTime(c.revokedAt),
  tier: c.tier,
});

const ClientParam = z.object({
  id: z
    .string()
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, description: "The OAuth client's id (its client_id).", example: "oc_0a1b2c3d4e5f6g7h" }),
});

/** The client in the path, if the caller may manage its site; 9009 otherwise (another site's client answers as a missing one). */
async function clientOf(c: AdminContext, id: string): Promise<ClientRow> {
  const caller = c.get("admin");
  const row = await findClient(c.env.DB, id);
  if (!row || (caller.kind === "site" && caller.siteId !== row.siteId)) {
    throw new AppError(ErrorCode.NotFound, `OAuth client ${id} does not exist.`, { field: "id" });
  }
  return row;
}

/** A site's OAuth clients (client credentials): register, list, revoke, rotate. */
export function registerClientRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/clients",
      operationId: "listClients",
      summary: "List a site's OAuth clients (never their secrets)",
      request: { params: SiteParam },
      responses: { 200: json(ClientList, "OAuth clients, newest first") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json({ clients: (await listClients(c.env.DB, site.id)).map(clientView) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/clients",
      operationId: "createClient",
      summary: "Register an OAuth client; its secret is in this answer only",
      description: "The client gets access tokens from /oauth/token with its client_id and client_secret, for the scopes it holds.",
      request: { params: SiteParam, body: body(ClientCreate) },
      responses: { 201: json(NewClientView, "Registered") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const input = c.req.valid("json");
      const created = await createClient(c.env.DB, { siteId: site.id, label: input.label, scopes: input.scopes });
      return c.json({ ...clientView(created), clientSecret: created.secret }, 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/clients/{id}",
      operationId: "revokeClient",
      summary: "Revoke an OAuth client and its access tokens (revoking again is not an error)",
      request: { params: ClientParam },
      responses: { 200: json(ClientView, "Revoked") },
      errors: [400, 404],
    }),
    async (c) => {
      const row = await clientOf(c, c.req.valid("param").id);
      const info = await revokeClient(c.env.DB, row);
      await invalidate(c.env.CACHE, cacheKeys.oauthClient(row.id));
      return c.json(clientView(info), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/clients/{id}/rotate",
      operationId: "rotateClient",
      summary: "Rotate an OAuth client's secret: the old secret and every access token issued with it stop working",
      request: { params: ClientParam },
      responses: { 200: json(NewClientView, "Rotated") },
      errors: [400, 404],
    }),
    async (c) => {
      const row = await clientOf(c, c.req.valid("param").id);
      if (row.revokedAt !== null) {
        throw new AppError(ErrorCode.Invalid, `OAuth client ${row.id} is revoked and cannot be rotated.`, { field: "id" });
      }
      const rotated = await rotateClient(c.env.DB, row);
      if (!rotated) throw new AppError(ErrorCode.Invalid, `OAuth client ${row.id} was revoked meanwhile.`, { field: "id" });
      await invalidate(c.env.CACHE, cacheKeys.oauthClient(row.id));
      return c.json({ ...clientView(rotated), clientSecret: rotated.secret }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/clients/{id}",
      operationId: "setClientTier",
      summary: "Set an OAuth client's rate-limit tier, shared by its access tokens (ADMIN_TOKEN only)",
      description:
        "Raises (or lowers) how many reads and writes a minute the client may make, all its access tokens together. Only the holder of ADMIN_TOKEN may do this. Takes effect within the cache bound of a revoked client. A revoked client's tier cannot change (9033).",
      middleware: [rootOnly] as const,
      request: { params: ClientParam, body: body(TierChange) },
      responses: { 200: json(ClientView, "The client, with its new tier") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const row = await clientOf(c, c.req.valid("param").id);
      const { tier } = c.req.valid("json");
      if (row.revokedAt !== null) {
        throw new AppError(ErrorCode.Invalid, `OAuth client ${row.id} is revoked: its tier cannot change.`, { field: "id" });
      }
      const updated = await setClientTier(c.env.DB, row, tier);
      if (!updated) throw new AppError(ErrorCode.Invalid, `OAuth client ${row.id} was revoked meanwhile.`, { field: "id" });
      await invalidate(c.env.CACHE, cacheKeys.oauthClient(row.id));
      return c.json(clientView(updated), 200);
    },
  );
}
