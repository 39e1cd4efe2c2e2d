import { z } from "@hono/zod-openapi";
import { cacheKeys, invalidate } from "../../cache";
import { disconnectedZones } from "../../db/permits/reads";
import type { Site } from "../../db/sites";
import { addZone, findZone, type LotZone, listZones, removeZone, updateZone, type ZoneChange as ZoneColumns } from "../../db/zones";
import { formatCents, parseAmount } from "../../domain/money";
import { MAX_SESSION_MINUTES } from "../../domain/session";
import { acceptedCurrency, ZONE_NAME_MAX } from "../../domain/site";
import { canonicalTimeZone, formatWireTime } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { type AdminApp, type AdminContext, adminRoute, body, json, SiteParam, siteOf } from "./route";

export const ZoneView = z
  .object({
    id: z.number().int(),
    name: z.string(),
    number: z.string().nullable().openapi({ description: "The zone number on the sign; sessions find the zone by it (else by name)." }),
    ratePerHour: z.string().nullable().openapi({ description: "Price of an hour, e.g. 2.50.", example: "2.50" }),
    currency: z.string().nullable().openapi({ description: "The rate's currency." }),
    maxMinutes: z.number().int().nullable().openapi({ description: "The longest session, in minutes." }),
    timeZone: z.string().nullable().openapi({ description: "IANA time zone.", example: "America/Toronto" }),
    capacity: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .openapi("LotZone");
export const ZoneList = z.object({ zones: z.array(ZoneView) }).openapi("LotZoneList");
export const ZoneChange = ZoneView.extend({ reconnected: z.number().int() }).openapi("LotZoneChange");
export const ZoneRemoval = z.object({ removed: ZoneView, disconnected: z.number().int() }).openapi("LotZoneRemoval");
export const DisconnectedZones = z
  .object({ zones: z.array(z.object({ name: z.string(), count: z.number().int(), lastSeen: z.string() })) })
  .openapi("DisconnectedZones");

const zoneView = (z: LotZone): z.infer<typeof ZoneView> => ({
  id: z.id,
  name: z.name,
  number: z.number,
  ratePerHour: z.rateCents === null ? null : formatCents(z.rateCents),
  currency: z.rateCurrency,
  maxMinutes: z.maxMinutes,
  timeZone: z.timeZone,
  capacity: z.capacity,
  createdAt: formatWireTime(z.createdAt),
});

const ZoneName = z.string().trim().min(1).max(ZONE_NAME_MAX).openapi({ example: "Lot 4" });

/** The metadata an aggregator needs of a zone, all optional; in an update, null clears a value. */
const metadata = {
  number: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$/,
      "must be 1 to 20 letters, digits, dots, dashes or underscores, starting with a letter or digit",
    )
    .nullable()
    .optional()
    .openapi({ example: "4410", description: "The zone number drivers enter or read on the sign, unique in the site." }),
  ratePerHour: z
    .union([z.string(), z.number()])
    .superRefine((v, ctx) => {
      const parsed = parseAmount(v);
      if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
    })
    .nullable()
    .optional()
    .openapi({ example: "2.50", description: "Price of an hour, like an amount: 0.01 to 999999.99. Null clears it (and its currency)." }),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, "must be a three-letter ISO 4217 code such as CAD")
    .nullable()
    .optional()
    .openapi({ example: "CAD", description: "One of the site's currencies; the site's first when a rate comes without one." }),
  maxMinutes: z.number().int().min(1).max(MAX_SESSION_MINUTES).nullable().optional().openapi({ example: 240 }),
  timeZone: z
    .string()
    .refine((tz) => canonicalTimeZone(tz) !== undefined, "must be an IANA time zone name such as America/Toronto")
    .nullable()
    .optional()
    .openapi({ example: "America/Toronto" }),
  capacity: z.number().int().min(0).max(1_000_000).nullable().optional().openapi({ example: 120 }),
};

export const ZoneInput = z.object({ name: ZoneName, ...metadata });
export const ZoneUpdate = z
  .object({ name: ZoneName.optional(), ...metadata })
  .refine(
    (b) => Object.values(b).some((v) => v !== undefined),
    "needs a field to change: name, number, ratePerHour, currency, maxMinutes, timeZone or capacity",
  );

/**
 * The columns a zone body sets: the rate in cents, the currency one the
 * site accepts (upper-cased; the site's first for a rate without one), the
 * time zone's canonical name. A rate cleared takes its currency with it; a
 * currency without a rate is refused.
 */
function zoneColumns(input: z.infer<typeof ZoneUpdate>, site: Site, zone?: LotZone): ZoneColumns {
  const { ratePerHour, currency, timeZone, ...rest } = input;
  const out: ZoneColumns = { ...rest };
  if (ratePerHour !== undefined) out.rateCents = ratePerHour === null ? null : (parseAmount(ratePerHour) as { cents: number }).cents;
  const currencies = site.currencies.split(",");
  if (currency !== undefined && currency !== null) {
    out.currency = acceptedCurrency(currencies, currency);
  } else if (currency === null) {
    out.currency = null;
  }
  // A currency belongs to a rate: a rate without one is in the site's first currency; a zone without a rate has none.
  const rate = out.rateCents !== undefined ? out.rateCents : (zone?.rateCents ?? null);
  const rateCurrency = out.currency !== undefined ? out.currency : (zone?.rateCurrency ?? null);
  if (rate !== null && rateCurrency === null) out.currency = currencies[0] ?? null;
  if (rate === null && rateCurrency !== null) {
    if (currency) throw new AppError(ErrorCode.Invalid, "currency is the rate's: set ratePerHour with it.", { field: "currency" });
    out.currency = null;
  }
  if (timeZone !== undefined) out.timeZone = timeZone === null ? null : (canonicalTimeZone(timeZone) as string);
  return out;
}
const ZoneParam = SiteParam.extend({
  zone: z.string().openapi({ param: { name: "zone", in: "path" }, description: "The lot zone's exact name (URL-encoded), or its id." }),
});

/** The 9022 of a zone whose name or number another zone of the site holds (as its name, or its number). */
function taken(reason: "name-taken" | "number-taken", input: { name?: string; number?: string | null }, zone?: LotZone) {
  if (reason === "number-taken") {
    const number = input.number ?? zone?.number;
    return new AppError(
      ErrorCode.AlreadyExists,
      `Lot zone number ${number} is taken on this site: another lot zone has it as its number, or as its name without a number.`,
      { field: "number" },
    );
  }
  const name = input.name ?? zone?.name;
  return new AppError(
    ErrorCode.AlreadyExists,
    `Lot zone ${name} already exists on this site (as the name or the number of another lot zone).`,
    { field: "name" },
  );
}

/** The site and lot zone named in the path; 9009 when either is not there. */
async function siteAndZone(c: AdminContext, params: { site: string; zone: string }): Promise<{ site: Site; zone: LotZone }> {
  const site = await siteOf(c, params.site);
  const zone = await findZone(c.env.DB, site.id, params.zone);
  if (!zone) throw new AppError(ErrorCode.NotFound, `Lot zone ${params.zone} does not exist on this site.`, { field: "zone" });
  return { site, zone };
}

/** A site's lot zones, and the zone names pushes used that no lot zone matches. */
export function registerZoneRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/zones",
      operationId: "listZones",
      summary: "List lot zones",
      request: { params: SiteParam },
      responses: { 200: json(ZoneList, "Lot zones") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json({ zones: (await listZones(c.env.DB, site.id)).map(zoneView) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/zones",
      operationId: "addZone",
      summary: "Add a lot zone; disconnected records that named it are reconnected",
      request: { params: SiteParam, body: body(ZoneInput) },
      responses: { 201: json(ZoneChange, "Created") },
      errors: [400, 404, 409, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const input = c.req.valid("json");
      const added = await addZone(c.env.DB, site.id, { ...zoneColumns(input, site), name: input.name });
      if (!added.ok) throw taken(added.reason, input);
      await invalidate(c.env.CACHE, cacheKeys.site(site.id));
      return c.json({ ...zoneView(added.zone), reconnected: added.reconnected }, 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/sites/{site}/zones/{zone}",
      operationId: "updateZone",
      summary: "Rename a lot zone, or set its number, rate, maximum session, time zone or capacity",
      description:
        "Only the fields sent change; null clears one. A zone is found by its number when it has one, else by its name: no two zones of a site may be found by the same key (9022).",
      request: { params: ZoneParam, body: body(ZoneUpdate) },
      responses: { 200: json(ZoneChange, "Changed") },
      errors: [400, 404, 409, 413, 415],
    }),
    async (c) => {
      const { site, zone } = await siteAndZone(c, c.req.valid("param"));
      const input = c.req.valid("json");
      const updated = await updateZone(c.env.DB, zone, zoneColumns(input, site, zone));
      if (!updated.ok) throw taken(updated.reason, input, zone);
      await invalidate(c.env.CACHE, cacheKeys.site(site.id));
      return c.json({ ...zoneView(updated.zone), reconnected: updated.reconnected }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/sites/{site}/zones/{zone}",
      operationId: "removeZone",
      summary: "Remove a lot zone; its records become disconnected",
      request: { params: ZoneParam },
      responses: { 200: json(ZoneRemoval, "Removed") },
      errors: [400, 404],
    }),
    async (c) => {
      const { site, zone } = await siteAndZone(c, c.req.valid("param"));
      const { disconnected } = await removeZone(c.env.DB, zone);
      await invalidate(c.env.CACHE, cacheKeys.site(site.id));
      return c.json({ removed: zoneView(zone), disconnected }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/disconnected",
      operationId: "listDisconnectedZones",
      summary: "Zone names that pushes used but no lot zone matches, with counts and last seen",
      description: "Adding a lot zone by one of these names reconnects its records.",
      request: { params: SiteParam },
      responses: { 200: json(DisconnectedZones, "Disconnected zone names, most recently seen first") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const rows = await disconnectedZones(c.env.DB, site.id);
      return c.json({ zones: rows.map((r) => ({ name: r.name, count: r.count, lastSeen: formatWireTime(r.lastSeen) })) }, 200);
    },
  );
}
