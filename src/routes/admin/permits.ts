import { z } from "@hono/zod-openapi";
import * as zm from "zod/mini";
import { cachedSiteConfig } from "../../auth/authenticate";
import { listClients } from "../../db/oauth";
import { insertPermits } from "../../db/permits/bulk";
import {
  everyPermit,
  hasDisconnected,
  type PermitSearch,
  permitWithHistory,
  SEARCH_COUNT_LIMIT,
  searchPermits,
} from "../../db/permits/reads";
import type { Site } from "../../db/sites";
import { listTokens } from "../../db/tokens";
import { listZones } from "../../db/zones";
import { attributes, REFERENCE_MAX } from "../../domain/attributes";
import { SOURCES } from "../../domain/permit";
import { normalizePlate, PLATE_MAX } from "../../domain/plate";
import { ZONE_NAME_MAX } from "../../domain/site";
import { formatWireTime, nowSeconds, parseWireTime, WIRE_TIME_PATTERN } from "../../domain/time";
import { permitSequencer } from "../../durable/permit-sequencer";
import { AppError, ErrorCode } from "../../errors";
import { publishesAny, publishPermitWrites } from "../../webhooks/publish";
import { csvStream } from "../csv";
import { HistoryEntry, historyChanges, narrow, PermitFields, permitFields } from "../permit-view";
import { plateToCheck } from "../plate-input";
import { type AdminApp, type AdminContext, adminActor, adminRoute, body, json, SiteParam, siteOf } from "./route";

// The answers built on the permit's fields (routes/permit-view.ts) are in zod/mini, as those fields are.
/** What admins see of any permit in a search row. */
export const PermitSummary = zm
  .pick(PermitFields, {
    reference_id: true,
    type: true,
    status: true,
    source: true,
    plate: true,
    zone: true,
    disconnected: true,
    amount: true,
    currency: true,
    start: true,
    end: true,
    permitNo: true,
    ticketNumber: true,
    promoCode: true,
    deleted: true,
  })
  .check(zm.meta({ id: "PermitSummary" }));

/** A permit on its own page: everything, with the site and the whole history. */
export const PermitView = zm
  .extend(zm.omit(PermitFields, { deleted: true }), { site: zm.string(), history: zm.array(HistoryEntry) })
  .check(zm.meta({ id: "PermitWithHistory" }));

export const PermitSearchPage = zm
  .object({
    page: zm.int(),
    total: zm.int().check(zm.meta({ description: "How many permits match, counted up to 10,000." })),
    totalIsExact: zm.boolean().check(zm.meta({ description: "false: at least `total` match (more than 10,000)." })),
    hasMore: zm.boolean(),
    permits: zm.array(PermitSummary),
  })
  .check(zm.meta({ id: "PermitSearch" }));

export const PermitEnded = z.object({ reference_id: z.string(), version: z.number().int() }).openapi("PermitEnded");

export const PermitsCreated = z
  .object({
    created: z.number().int(),
    skipped: z.number().int(),
    references: z.array(z.string()).openapi({ description: "The permits created, in the order of their rows (a skipped row has none)." }),
  })
  .openapi("PermitsCreated");

const StandardPermit = z
  .object({
    plate: attributes.plate.schema.openapi({ example: "PL8RDR" }),
    zone: z.string().trim().min(1).max(ZONE_NAME_MAX).openapi({ example: "Lot 4" }),
    startTime: attributes.startTime.schema.openapi({ example: "2026-09-01T00:00:00" }),
    endTime: attributes.endTime.schema.openapi({ example: "2027-04-30T23:59:59" }),
    permitNo: attributes.permitNo.schema.optional().openapi({ example: "F-2026-0042" }),
  })
  .refine((p) => (parseWireTime(p.endTime) as number) > (parseWireTime(p.startTime) as number), {
    path: ["endTime"],
    message: "must be after startTime",
  });

export const StandardPermits = z.object({ permits: z.array(StandardPermit).min(1).max(5000) });

const PAGE_SIZE = 50;
/** The last page a search shows (10,000 permits): OFFSET reads every row before the page, so deeper pages are the export's job. */
const MAX_PAGE = SEARCH_COUNT_LIMIT / PAGE_SIZE;
const optionalTime = (description: string) =>
  z
    .string()
    .refine((s) => parseWireTime(s) !== undefined, "must be a UTC time formatted Y-m-d\\TH:i:s")
    .optional()
    .openapi({
      description: `${description} UTC, Y-m-d\\TH:i:s (a trailing Z allowed).`,
      pattern: WIRE_TIME_PATTERN,
      example: "2026-11-22T00:00:00",
    });

/** The filters of a permit search (and of its CSV export). */
const SearchFilters = z.object({
  type: z
    .enum(["temp", "standard"])
    .default("temp")
    .openapi({ description: "temp: pushed, imported and session permits (Pay Station Status); standard: long-term permits." }),
  plate: z
    .string()
    .max(PLATE_MAX)
    .optional()
    .openapi({ description: "A plate, matched normalized (case, spaces, dashes and dots ignored)." }),
  zone: z
    .string()
    .max(ZONE_NAME_MAX)
    .optional()
    .openapi({ description: "A lot zone (its name, or its number), or a zone name permits used that no lot zone has (disconnected)." }),
  from: optionalTime("Only permits that end after this time:"),
  to: optionalTime("Only permits that start before this time:"),
  source: z
    .string()
    .max(50)
    .optional()
    .openapi({ description: `Who created the permit: ${Object.values(SOURCES).join(", ")}.` }),
  promoCode: z.string().max(50).optional().openapi({ description: "The promotion code a push carried, exactly." }),
  active: z
    .enum(["true"])
    .optional()
    .openapi({ description: "true: only permits active now (started, not ended, not deleted); leave it out for every permit." }),
});

export const PermitQuery = SearchFilters.extend({
  page: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE)
    .default(1)
    .openapi({
      format: "int32",
      description: `The page, 50 permits each, from 1 to ${MAX_PAGE}: narrow the filters, or export, to see past them.`,
    }),
});

const ReferenceParam = z.object({
  reference: z
    .string()
    .max(REFERENCE_MAX)
    .openapi({
      param: { name: "reference", in: "path" },
      description: "The permit's reference (reference_id).",
      example: "1a9b5375-cb75-4c71-9939-eeae550b09ac",
    }),
});

/**
 * The `zone` filter of a search or report: a lot zone of the site by name,
 * else by number, or a zone name its disconnected records used (deleted ones
 * included); 9033 otherwise (another site's zone is no zone of this one).
 */
export async function zoneFilter(c: AdminContext, site: Site, zoneName: string): Promise<{ lotZoneId: number } | { disconnected: string }> {
  const zones = await listZones(c.env.DB, site.id);
  const lotZone = zones.find((z) => z.name === zoneName) ?? zones.find((z) => z.number === zoneName);
  if (lotZone) return { lotZoneId: lotZone.id };
  if (await hasDisconnected(c.env.DB, site.id, zoneName)) return { disconnected: zoneName };
  throw new AppError(ErrorCode.Invalid, `zone ${zoneName} is neither a lot zone of this site nor a zone name its permits used.`, {
    field: "zone",
  });
}

/**
 * The `source` filter of a search or report: one that creates the site's
 * permits (push, ParkMobile, admin, and the sessions' sources: an OAuth
 * client's label, an API token's label or, without one, its id); 9033
 * otherwise.
 */
export async function sourceFilter(c: AdminContext, site: Site, source: string): Promise<string> {
  const [clients, tokens] = await Promise.all([listClients(c.env.DB, site.id), listTokens(c.env.DB, site.id)]);
  const sources = new Set([...Object.values(SOURCES), ...clients.map((cl) => cl.label), ...tokens.map((t) => t.label ?? t.id)]);
  if (!sources.has(source)) throw new AppError(ErrorCode.Invalid, `source must be one of ${[...sources].join(", ")}.`, { field: "source" });
  return source;
}

/**
 * A search's filters, checked against the site: a value that can match
 * nothing (a plate of no letters or digits, a zone the site never had, a
 * source that creates no permits) is an error, not an empty page.
 */
async function searchOf(c: AdminContext, site: Site, q: z.infer<typeof SearchFilters>): Promise<PermitSearch> {
  const given = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  const plate = given(q.plate);
  const plateNorm = plate === undefined ? undefined : plateToCheck(plate, "plate");
  const zoneName = given(q.zone);
  const source = given(q.source);
  return {
    type: q.type,
    plateNorm,
    zone: zoneName === undefined ? undefined : await zoneFilter(c, site, zoneName),
    from: q.from ? parseWireTime(q.from) : undefined,
    to: q.to ? parseWireTime(q.to) : undefined,
    source: source === undefined ? undefined : await sourceFilter(c, site, source),
    promoCode: given(q.promoCode),
    activeAt: q.active === "true" ? nowSeconds() : undefined,
  };
}

/** The columns of a permit export, and how each row fills them. */
const EXPORT_COLUMNS = [
  ["reference", (p) => p.reference_id],
  ["type", (p) => p.type],
  ["status", (p) => p.status],
  ["source", (p) => p.source],
  ["plate", (p) => p.plate],
  ["plate normalized", (p) => p.plateNormalized],
  ["zone", (p) => p.zone],
  ["disconnected", (p) => p.disconnected],
  ["start (UTC)", (p) => p.start],
  ["end (UTC)", (p) => p.end],
  ["amount", (p) => p.amount],
  ["currency", (p) => p.currency],
  ["permit no", (p) => p.permitNo],
  ["ticket number", (p) => p.ticketNumber],
  ["promo code", (p) => p.promoCode],
  ["deleted at (UTC)", (p) => p.deletedAt],
] as const satisfies readonly (readonly [string, (p: z.infer<typeof PermitFields>) => string | boolean | null])[];

/** Permits as admins handle them: standard permits created and ended, any permit with its history, searches and exports. */
export function registerPermitRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/permits",
      operationId: "createStandardPermits",
      summary: "Create standard (long-term) permits, one or many (a CSV import sends many)",
      description:
        "All or nothing: one invalid row refuses the whole request, naming the row (`permits.<index>.<field>`). Each zone must be a lot zone of the site. A row whose permitNo, plate and start equal a live permit is skipped, so importing the same file twice creates nothing the second time. Standard permits are changed and ended by admins only: an OC-TOMA update or delete of one is refused (9002, 403).",
      request: { params: SiteParam, body: body(StandardPermits) },
      responses: { 201: json(PermitsCreated, "Created") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const { permits } = c.req.valid("json");
      const zones = new Set((await listZones(c.env.DB, site.id)).map((z) => z.name));
      const unknown = permits.findIndex((p) => !zones.has(p.zone));
      if (unknown >= 0) {
        const field = `permits.${unknown}.zone`;
        throw new AppError(ErrorCode.Invalid, `${field} ${permits[unknown]?.zone} is not a lot zone of this site.`, { field });
      }
      const rows = permits.map((p) => ({
        id: crypto.randomUUID(),
        type: "standard" as const,
        source: SOURCES.admin,
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
      const config = await cachedSiteConfig(c.env, site.id);
      const inserted = await insertPermits(c.env.DB, site.id, rows, {
        actor: adminActor(c),
        now: nowSeconds(),
        writes: publishesAny(config, ["create"]),
      });
      if (config) c.executionCtx.waitUntil(publishPermitWrites(c.env, config, inserted.writes));
      return c.json({ created: inserted.ids.length, skipped: rows.length - inserted.ids.length, references: inserted.ids }, 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/permits/{reference}",
      operationId: "getPermit",
      summary: "Read a permit with its whole history",
      request: { params: ReferenceParam },
      responses: { 200: json(PermitView, "The permit") },
      errors: [400, 404],
    }),
    async (c) => {
      const { reference } = c.req.valid("param");
      const caller = c.get("admin");
      const found = await permitWithHistory(c.env.DB, reference);
      if (!found || (caller.kind === "site" && caller.siteId !== found.permit.siteId)) {
        throw new AppError(ErrorCode.NotFound, `No permit ${reference}.`, { field: "reference" });
      }
      const { permit, history } = found;
      return c.json(
        {
          ...narrow(PermitView, permitFields(permit)),
          site: permit.site,
          history: history.map((e) => ({
            version: e.version,
            action: e.action,
            changes: historyChanges(e.changes),
            actor: e.actor,
            at: formatWireTime(e.at),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/sites/{site}/permits/{reference}",
      operationId: "endPermit",
      summary: "End (delete) a permit of the site, standard permits included",
      description:
        "The permit is kept, marked deleted, with its history (the change is recorded as made by `admin`, or by the admin-scope token). Ending it again answers success with the same version. Goes through the permit's Durable Object, in turn with any update of it.",
      request: { params: SiteParam.merge(ReferenceParam) },
      responses: {
        200: json(PermitEnded, "Ended"),
      },
      errors: [400, 404],
    }),
    async (c) => {
      const params = c.req.valid("param");
      const site = await siteOf(c, params.site);
      const result = await permitSequencer(c.env, params.reference).remove({
        siteId: site.id,
        reference: params.reference,
        writer: "admin",
        actor: adminActor(c),
      });
      if (!result.ok) throw new AppError(ErrorCode.NotFound, `No permit ${params.reference} on this site.`, { field: "reference" });
      return c.json({ reference_id: params.reference, version: result.version }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/permits",
      operationId: "searchPermits",
      summary: "Search a site's permits: Pay Station Status (temporary) or standard permits",
      description:
        "Filters: type (temp, the default, or standard), plate (matched normalized), zone (a lot zone by name or number, or a disconnected zone name), a time range the permit overlaps, source, promo code, active now. A filter that can match nothing (a zone the site never had, an unknown source) is 9033. Newest start first, 50 a page up to page 200, with the total counted up to 10,000 (`totalIsExact` false past it); the export lists every match.",
      request: { params: SiteParam, query: PermitQuery },
      responses: { 200: json(PermitSearchPage, "A page of permits") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const q = c.req.valid("query");
      const now = nowSeconds();
      const { rows, hasMore, total, totalIsExact } = await searchPermits(c.env.DB, site.id, await searchOf(c, site, q), {
        offset: (q.page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
      });
      const permits = rows.map((r) => narrow(PermitSummary, permitFields(r, now)));
      return c.json({ page: q.page, total, totalIsExact, hasMore: hasMore && q.page < MAX_PAGE, permits }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/permits/export",
      operationId: "exportPermits",
      summary: "Every permit a search matches, as CSV",
      description:
        "The same filters as the search, without pages: one CSV record (RFC 4180, header row, UTF-8) per permit, streamed as it is read. Text a spreadsheet would run as a formula is prefixed with an apostrophe.",
      request: { params: SiteParam, query: SearchFilters },
      responses: { 200: { description: "The permits, as CSV", content: { "text/csv": { schema: z.string() } } } },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const search = await searchOf(c, site, c.req.valid("query"));
      const now = nowSeconds();
      const rows = (async function* () {
        for await (const batch of everyPermit(c.env.DB, site.id, search)) {
          yield batch.map((row) => {
            const p = permitFields(row, now);
            return EXPORT_COLUMNS.map(([, value]) => value(p));
          });
        }
      })();
      const filename = `${site.slug}-${search.type === "standard" ? "standard-permits" : "pay-station-status"}.csv`;
      return c.body(
        csvStream(
          EXPORT_COLUMNS.map(([name]) => name),
          rows,
        ),
        200,
        { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${filename}"` },
      );
    },
  );
}
