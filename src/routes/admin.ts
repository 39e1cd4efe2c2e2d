import { createRoute, z } from "@hono/zod-openapi";
import { SCOPES } from "../auth/scopes";
import { cacheKeys, invalidate } from "../cache";
import { disconnectedZones, searchTemporaryPermits } from "../db/active";
import { database } from "../db/client";
import { insertPermits, permitWithHistory } from "../db/permits";
import { createSite, listSites, type Site, updateSite } from "../db/sites";
import { createToken, getTokenRow, listTokens, revokeToken, rotateToken, type TokenInfo } from "../db/tokens";
import { addZone, getZone, type LotZone, listZones, removeZone, renameZone } from "../db/zones";
import { attributes, REFERENCE_MAX } from "../domain/attributes";
import { formatCents } from "../domain/money";
import { normalizePlate } from "../domain/plate";
import { nowSeconds, parseWireTime } from "../domain/time";
import { AppError, ErrorCode } from "../errors";
import { type AdminContext, body, createAdminApp, json, requireRoot, SiteParam, Slug, security, siteOf, tags, time } from "./admin-common";
import { registerTaskRoutes } from "./admin-tasks";

const siteView = (s: Site) => ({ slug: s.slug, name: s.name, currencies: s.currencies.split(","), createdAt: time(s.createdAt) });
const zoneView = (z: LotZone) => ({ id: z.id, name: z.name, createdAt: time(z.createdAt) });
const tokenView = (t: TokenInfo) => ({
  id: t.id,
  prefix: t.prefix,
  label: t.label,
  scopes: t.scopes,
  createdAt: time(t.createdAt),
  lastUsedAt: time(t.lastUsedAt),
  revokedAt: time(t.revokedAt),
});

// --- schemas -------------------------------------------------------------

const Currencies = z
  .array(z.string().regex(/^[A-Z]{3}$/, "must be a three-letter ISO 4217 code such as CAD"))
  .min(1)
  .max(10)
  .refine((l) => new Set(l).size === l.length, "must not repeat a currency")
  .openapi({ example: ["CAD", "USD"] });
const ZoneName = z.string().trim().min(1).max(200).openapi({ example: "Lot 4" });

const SiteView = z.object({ slug: z.string(), name: z.string(), currencies: z.array(z.string()), createdAt: z.string() }).openapi("Site");
const ZoneView = z.object({ id: z.number().int(), name: z.string(), createdAt: z.string() }).openapi("LotZone");
const TokenView = z
  .object({
    id: z.string(),
    prefix: z.string().openapi({ description: "The secret's first characters, to tell tokens apart." }),
    label: z.string().nullable(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("Token");
const NewTokenView = TokenView.extend({ token: z.string().openapi({ description: "The secret. Shown once, never again." }) }).openapi(
  "NewToken",
);

const ZoneParam = SiteParam.extend({
  zone: z.string().openapi({ param: { name: "zone", in: "path" }, description: "The lot zone's exact name (URL-encoded), or its id." }),
});
const TokenParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "tk_0a1b2c3d4e5f" }) });

/** The admin API: sites, lot zones, tokens, permits (here) and the system tasks (admin-tasks.ts). */
export const admin = createAdminApp();

// --- sites ---------------------------------------------------------------

admin.openapi(
  createRoute({
    method: "get",
    path: "/sites",
    tags,
    security,
    summary: "List sites (ADMIN_TOKEN only)",
    responses: { 200: json(z.object({ sites: z.array(SiteView) }), "Sites") },
  }),
  async (c) => {
    requireRoot(c);
    const rows = await listSites(database(c.env.DB));
    return c.json({ sites: rows.map(siteView) }, 200);
  },
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/sites",
    tags,
    security,
    summary: "Create a site (an OPS-COM client) (ADMIN_TOKEN only)",
    request: {
      body: body(z.object({ slug: Slug, name: z.string().trim().min(1).max(200).optional(), currencies: Currencies.optional() })),
    },
    responses: { 201: json(SiteView, "Created") },
  }),
  async (c) => {
    requireRoot(c);
    const input = c.req.valid("json");
    const site = await createSite(database(c.env.DB), {
      slug: input.slug,
      name: input.name ?? input.slug,
      currencies: input.currencies,
    });
    return c.json(siteView(site), 201);
  },
);

admin.openapi(
  createRoute({
    method: "get",
    path: "/sites/{site}",
    tags,
    security,
    summary: "Read a site",
    request: { params: SiteParam },
    responses: { 200: json(SiteView, "The site") },
  }),
  async (c) => c.json(siteView(await siteOf(c, c.req.valid("param").site)), 200),
);

admin.openapi(
  createRoute({
    method: "patch",
    path: "/sites/{site}",
    tags,
    security,
    summary: "Change a site's name or accepted currencies",
    request: {
      params: SiteParam,
      body: body(
        z
          .object({ name: z.string().trim().min(1).max(200).optional(), currencies: Currencies.optional() })
          .refine((b) => b.name !== undefined || b.currencies !== undefined, "needs name or currencies to change"),
      ),
    },
    responses: { 200: json(SiteView, "The site") },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    const updated = await updateSite(database(c.env.DB), site.id, c.req.valid("json"));
    await invalidate(c.env.CACHE, cacheKeys.site(site.id));
    return c.json(siteView(updated), 200);
  },
);

// --- lot zones -------------------------------------------------------------

admin.openapi(
  createRoute({
    method: "get",
    path: "/sites/{site}/zones",
    tags,
    security,
    summary: "List lot zones",
    request: { params: SiteParam },
    responses: { 200: json(z.object({ zones: z.array(ZoneView) }), "Lot zones") },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    return c.json({ zones: (await listZones(database(c.env.DB), site.id)).map(zoneView) }, 200);
  },
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/sites/{site}/zones",
    tags,
    security,
    summary: "Add a lot zone; disconnected records that named it are reconnected",
    request: { params: SiteParam, body: body(z.object({ name: ZoneName })) },
    responses: { 201: json(ZoneView.extend({ reconnected: z.number().int() }), "Created") },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    const { zone, reconnected } = await addZone(database(c.env.DB), site.id, c.req.valid("json").name);
    await invalidate(c.env.CACHE, cacheKeys.site(site.id));
    return c.json({ ...zoneView(zone), reconnected }, 201);
  },
);

admin.openapi(
  createRoute({
    method: "patch",
    path: "/sites/{site}/zones/{zone}",
    tags,
    security,
    summary: "Rename a lot zone",
    request: { params: ZoneParam, body: body(z.object({ name: ZoneName })) },
    responses: { 200: json(ZoneView.extend({ reconnected: z.number().int() }), "Renamed") },
  }),
  async (c) => {
    const params = c.req.valid("param");
    const site = await siteOf(c, params.site);
    const db = database(c.env.DB);
    const { zone, reconnected } = await renameZone(db, await getZone(db, site.id, params.zone), c.req.valid("json").name);
    await invalidate(c.env.CACHE, cacheKeys.site(site.id));
    return c.json({ ...zoneView(zone), reconnected }, 200);
  },
);

admin.openapi(
  createRoute({
    method: "delete",
    path: "/sites/{site}/zones/{zone}",
    tags,
    security,
    summary: "Remove a lot zone; its records become disconnected",
    request: { params: ZoneParam },
    responses: { 200: json(z.object({ removed: ZoneView, disconnected: z.number().int() }), "Removed") },
  }),
  async (c) => {
    const params = c.req.valid("param");
    const site = await siteOf(c, params.site);
    const db = database(c.env.DB);
    const zone = await getZone(db, site.id, params.zone);
    const { disconnected } = await removeZone(db, zone);
    await invalidate(c.env.CACHE, cacheKeys.site(site.id));
    return c.json({ removed: zoneView(zone), disconnected }, 200);
  },
);

// --- tokens ------------------------------------------------------------------

admin.openapi(
  createRoute({
    method: "get",
    path: "/sites/{site}/tokens",
    tags,
    security,
    summary: "List a site's API tokens (never their secrets)",
    request: { params: SiteParam },
    responses: { 200: json(z.object({ tokens: z.array(TokenView) }), "Tokens") },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    return c.json({ tokens: (await listTokens(database(c.env.DB), site.id)).map(tokenView) }, 200);
  },
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/sites/{site}/tokens",
    tags,
    security,
    summary: "Issue an API token; the secret is in this answer only",
    request: {
      params: SiteParam,
      body: body(
        z.object({
          scopes: z
            .array(z.enum(SCOPES))
            .min(1)
            .refine((l) => new Set(l).size === l.length, "must not repeat a scope")
            .openapi({ example: ["push", "update"] }),
          label: z.string().trim().min(1).max(100).optional().openapi({ example: "Pay stations, east lots" }),
        }),
      ),
    },
    responses: { 201: json(NewTokenView, "Issued") },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    const input = c.req.valid("json");
    const token = await createToken(database(c.env.DB), { siteId: site.id, scopes: input.scopes, label: input.label });
    return c.json({ ...tokenView(token), token: token.token }, 201);
  },
);

/** The token in the path, if the caller may manage its site. */
async function tokenOf(c: AdminContext, id: string) {
  const caller = c.get("admin");
  const row = await getTokenRow(database(c.env.DB), id);
  if (caller.kind === "site" && caller.siteId !== row.siteId)
    throw new AppError(ErrorCode.NotFound, `Token ${id} does not exist.`, { field: "id" });
  return row;
}

admin.openapi(
  createRoute({
    method: "delete",
    path: "/tokens/{id}",
    tags,
    security,
    summary: "Revoke an API token (revoking again is not an error)",
    request: { params: TokenParam },
    responses: { 200: json(TokenView, "Revoked") },
  }),
  async (c) => {
    const { id } = await tokenOf(c, c.req.valid("param").id);
    const { info, tokenHash } = await revokeToken(database(c.env.DB), id);
    await invalidate(c.env.CACHE, cacheKeys.token(tokenHash));
    return c.json(tokenView(info), 200);
  },
);

admin.openapi(
  createRoute({
    method: "post",
    path: "/tokens/{id}/rotate",
    tags,
    security,
    summary: "Rotate an API token: a new secret for the same id, site and scopes; the old secret stops working",
    request: { params: TokenParam },
    responses: { 200: json(NewTokenView, "Rotated") },
  }),
  async (c) => {
    const { id } = await tokenOf(c, c.req.valid("param").id);
    const { info, oldHash } = await rotateToken(database(c.env.DB), id);
    await invalidate(c.env.CACHE, cacheKeys.token(oldHash));
    return c.json({ ...tokenView(info), token: info.token }, 200);
  },
);

// --- permits -----------------------------------------------------------------

const StandardPermit = z
  .object({
    plate: attributes.plate.schema.openapi({ example: "PL8RDR" }),
    zone: ZoneName,
    startTime: attributes.startTime.schema.openapi({ example: "2026-09-01T00:00:00" }),
    endTime: attributes.endTime.schema.openapi({ example: "2027-04-30T23:59:59" }),
    permitNo: attributes.permitNo.schema.optional().openapi({ example: "F-2026-0042" }),
  })
  .refine((p) => (parseWireTime(p.endTime) as number) > (parseWireTime(p.startTime) as number), {
    path: ["endTime"],
    message: "must be after startTime",
  });

admin.openapi(
  createRoute({
    method: "post",
    path: "/sites/{site}/permits",
    tags,
    security,
    summary: "Create standard (long-term) permits, one or many (a CSV import sends many)",
    description:
      "All or nothing: one invalid row refuses the whole request, naming the row (`permits.<index>.<field>`). Each zone must be a lot zone of the site. A row whose permitNo, plate and start equal a live permit is skipped, so importing the same file twice creates nothing the second time.",
    request: { params: SiteParam, body: body(z.object({ permits: z.array(StandardPermit).min(1).max(5000) })) },
    responses: {
      201: json(
        z.object({ created: z.number().int(), skipped: z.number().int(), references: z.array(z.string()) }).openapi("PermitsCreated"),
        "Created",
      ),
    },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    const { permits } = c.req.valid("json");
    const zones = new Set((await listZones(database(c.env.DB), site.id)).map((z) => z.name));
    const unknown = permits.findIndex((p) => !zones.has(p.zone));
    if (unknown >= 0) {
      const field = `permits.${unknown}.zone`;
      throw new AppError(ErrorCode.Invalid, `${field} ${permits[unknown]?.zone} is not a lot zone of this site.`, { field });
    }
    const rows = permits.map((p) => ({
      id: crypto.randomUUID(),
      type: "standard" as const,
      source: "admin",
      plate: p.plate,
      plateNorm: normalizePlate(p.plate),
      zoneName: p.zone,
      amountCents: null,
      currency: null,
      startAt: parseWireTime(p.startTime) as number,
      endAt: parseWireTime(p.endTime) as number,
      permitNo: p.permitNo ?? null,
      ticketNumber: null,
      promoCode: null,
    }));
    const inserted = await insertPermits(c.env.DB, site.id, rows, { actor: "admin", now: nowSeconds() });
    return c.json({ created: inserted.length, skipped: rows.length - inserted.length, references: inserted }, 201);
  },
);

const HistoryEntry = z.object({
  version: z.number().int(),
  action: z.enum(["create", "update", "delete"]),
  changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])).openapi({ description: "field: [before, after]" }),
  actor: z.string().openapi({ description: "token:<id>, admin, or job:<name>" }),
  at: z.string(),
});

/** What admins see of any permit: in a search row and, with more, on its own page. */
const PermitSummary = z.object({
  reference_id: z.string(),
  source: z.string(),
  plate: z.string(),
  zone: z.string().nullable(),
  disconnected: z.boolean(),
  amount: z.string().nullable(),
  currency: z.string().nullable(),
  start: z.string(),
  end: z.string(),
  permitNo: z.string().nullable(),
  ticketNumber: z.string().nullable(),
  promoCode: z.string().nullable(),
});

const PermitView = PermitSummary.extend({
  site: z.string(),
  type: z.enum(["temp", "standard"]),
  plateNormalized: z.string(),
  lotZone: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable(),
  history: z.array(HistoryEntry),
}).openapi("PermitWithHistory");

admin.openapi(
  createRoute({
    method: "get",
    path: "/permits/{reference}",
    tags,
    security,
    summary: "Read a permit with its whole history",
    request: {
      params: z.object({
        reference: z
          .string()
          .max(REFERENCE_MAX)
          .openapi({ param: { name: "reference", in: "path" } }),
      }),
    },
    responses: { 200: json(PermitView, "The permit") },
  }),
  async (c) => {
    const { reference } = c.req.valid("param");
    const caller = c.get("admin");
    const found = await permitWithHistory(database(c.env.DB), reference);
    if (!found || (caller.kind === "site" && caller.siteId !== found.permit.siteId)) {
      throw new AppError(ErrorCode.NotFound, `No permit ${reference}.`, { field: "reference" });
    }
    const { permit: p, site, lotZone, history } = found;
    return c.json(
      {
        reference_id: p.id,
        site,
        type: p.type,
        source: p.source,
        plate: p.plate,
        plateNormalized: p.plateNorm,
        zone: p.zoneName,
        lotZone,
        disconnected: p.zoneName !== null && p.lotZoneId === null,
        amount: p.amountCents === null ? null : formatCents(p.amountCents),
        currency: p.currency,
        start: time(p.startAt),
        end: time(p.endAt),
        permitNo: p.permitNo,
        ticketNumber: p.ticketNumber,
        promoCode: p.promoCode,
        version: p.version,
        createdAt: time(p.createdAt),
        updatedAt: time(p.updatedAt),
        deletedAt: time(p.deletedAt),
        history: history.map((e) => ({
          version: e.version,
          action: e.action,
          changes: JSON.parse(e.changes) as Record<string, [unknown, unknown]>,
          actor: e.actor,
          at: time(e.at),
        })),
      },
      200,
    );
  },
);

registerTaskRoutes(admin);

// --- disconnected zones and Pay Station Status --------------------------------

admin.openapi(
  createRoute({
    method: "get",
    path: "/sites/{site}/disconnected",
    tags,
    security,
    summary: "Zone names that pushes used but no lot zone matches, with counts and last seen",
    description: "Adding a lot zone by one of these names reconnects its records.",
    request: { params: SiteParam },
    responses: {
      200: json(
        z
          .object({ zones: z.array(z.object({ name: z.string(), count: z.number().int(), lastSeen: z.string() })) })
          .openapi("DisconnectedZones"),
        "Disconnected zone names, most recently seen first",
      ),
    },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    const rows = await disconnectedZones(c.env.DB, site.id);
    return c.json({ zones: rows.map((r) => ({ name: r.name, count: r.count, lastSeen: time(r.last_seen) })) }, 200);
  },
);

const PAGE_SIZE = 50;
const optionalTime = z
  .string()
  .refine((s) => parseWireTime(s) !== undefined, "must be a UTC time formatted Y-m-d\\TH:i:s")
  .optional();

admin.openapi(
  createRoute({
    method: "get",
    path: "/sites/{site}/permits",
    tags,
    security,
    summary: "Pay Station Status: search temporary permits (pushed and imported)",
    description:
      "Filters: plate (matched normalized), zone (lot zone or raw zone name), a time range the permit overlaps, source (push, ParkMobile), promo code. Newest start first, 50 a page.",
    request: {
      params: SiteParam,
      query: z.object({
        plate: z.string().max(25).optional(),
        zone: z.string().max(200).optional(),
        from: optionalTime,
        to: optionalTime,
        source: z.string().max(50).optional(),
        promoCode: z.string().max(50).optional(),
        page: z.coerce.number().int().min(1).max(10_000).default(1),
      }),
    },
    responses: {
      200: json(
        z
          .object({
            page: z.number().int(),
            hasMore: z.boolean(),
            permits: z.array(PermitSummary.extend({ deleted: z.boolean() })),
          })
          .openapi("PermitSearch"),
        "A page of permits",
      ),
    },
  }),
  async (c) => {
    const site = await siteOf(c, c.req.valid("param").site);
    const q = c.req.valid("query");
    const blank = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
    const { rows, hasMore } = await searchTemporaryPermits(c.env.DB, site.id, {
      plateNorm: blank(q.plate) && normalizePlate(q.plate as string),
      zone: blank(q.zone),
      from: q.from ? parseWireTime(q.from) : undefined,
      to: q.to ? parseWireTime(q.to) : undefined,
      source: blank(q.source),
      promoCode: blank(q.promoCode),
      offset: (q.page - 1) * PAGE_SIZE,
      limit: PAGE_SIZE,
    });
    return c.json(
      {
        page: q.page,
        hasMore,
        permits: rows.map((r) => ({
          reference_id: r.id,
          source: r.source,
          plate: r.plate,
          zone: r.lot_zone ?? r.zone_name,
          disconnected: r.lot_zone === null && r.zone_name !== null,
          amount: r.amount_cents === null ? null : formatCents(r.amount_cents),
          currency: r.currency,
          start: time(r.start_at),
          end: time(r.end_at),
          permitNo: r.permit_no,
          ticketNumber: r.ticket_number,
          promoCode: r.promo_code,
          deleted: r.deleted_at !== null,
        })),
      },
      200,
    );
  },
);
