import { z } from "@hono/zod-openapi";
import { insertPermits } from "../../db/permits/bulk";
import { permitWithHistory, searchTemporaryPermits } from "../../db/permits/reads";
import { listZones } from "../../db/zones";
import { attributes, REFERENCE_MAX } from "../../domain/attributes";
import { normalizePlate } from "../../domain/plate";
import { formatWireTime, nowSeconds, parseWireTime } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { narrow, PermitFields, permitFields } from "../permit-view";
import { type AdminApp, adminRoute, body, json, SiteParam, siteOf } from "./route";

const HistoryEntry = z.object({
  version: z.number().int(),
  action: z.enum(["create", "update", "delete"]),
  changes: z.record(z.string(), z.tuple([z.unknown(), z.unknown()])).openapi({ description: "field: [before, after]" }),
  actor: z.string().openapi({ description: "token:<id>, oauth:<client id>, admin, or job:<name>" }),
  at: z.string(),
});

/** What admins see of any permit in a search row. */
export const PermitSummary = PermitFields.pick({
  reference_id: true,
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
}).openapi("PermitSummary");

/** A permit on its own page: everything, with the site and the whole history. */
export const PermitView = PermitFields.omit({ deleted: true })
  .extend({ site: z.string(), history: z.array(HistoryEntry) })
  .openapi("PermitWithHistory");

export const PermitSearchPage = z
  .object({ page: z.number().int(), hasMore: z.boolean(), permits: z.array(PermitSummary) })
  .openapi("PermitSearch");

export const PermitsCreated = z
  .object({ created: z.number().int(), skipped: z.number().int(), references: z.array(z.string()) })
  .openapi("PermitsCreated");

const StandardPermit = z
  .object({
    plate: attributes.plate.schema.openapi({ example: "PL8RDR" }),
    zone: z.string().trim().min(1).max(200).openapi({ example: "Lot 4" }),
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
const optionalTime = z
  .string()
  .refine((s) => parseWireTime(s) !== undefined, "must be a UTC time formatted Y-m-d\\TH:i:s")
  .optional();

export const PermitQuery = z.object({
  plate: z.string().max(25).optional(),
  zone: z.string().max(200).optional(),
  from: optionalTime,
  to: optionalTime,
  source: z.string().max(50).optional(),
  promoCode: z.string().max(50).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});

/** Permits as admins handle them: standard permits created, any permit with its history, the Pay Station Status search. */
export function registerPermitRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/permits",
      operationId: "createStandardPermits",
      summary: "Create standard (long-term) permits, one or many (a CSV import sends many)",
      description:
        "All or nothing: one invalid row refuses the whole request, naming the row (`permits.<index>.<field>`). Each zone must be a lot zone of the site. A row whose permitNo, plate and start equal a live permit is skipped, so importing the same file twice creates nothing the second time.",
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

  app.openapi(
    adminRoute({
      method: "get",
      path: "/permits/{reference}",
      operationId: "getPermit",
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
            changes: e.changes,
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
      method: "get",
      path: "/sites/{site}/permits",
      operationId: "searchPermits",
      summary: "Pay Station Status: search temporary permits (pushed and imported)",
      description:
        "Filters: plate (matched normalized), zone (lot zone or raw zone name), a time range the permit overlaps, source (push, ParkMobile), promo code. Newest start first, 50 a page.",
      request: {
        params: SiteParam,
        query: PermitQuery,
      },
      responses: { 200: json(PermitSearchPage, "A page of permits") },
      errors: [400, 404],
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
      return c.json({ page: q.page, hasMore, permits: rows.map((r) => narrow(PermitSummary, permitFields(r))) }, 200);
    },
  );
}
