import { z } from "@hono/zod-openapi";
import { cacheKeys, invalidate } from "../../cache";
import { createSite, listSites, type Site, updateSite } from "../../db/sites";
import { MAX_GRACE_MINUTES } from "../../domain/feed";
import { canonicalTimeZone, formatWireTime } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { type AdminApp, adminRoute, body, json, requireRoot, SiteParam, Slug, siteOf } from "./route";

export const SiteView = z
  .object({
    slug: z.string(),
    name: z.string(),
    currencies: z.array(z.string()),
    timeZone: z.string().openapi({ description: "The IANA time zone admins read local times in." }),
    graceMinutes: z.number().int().openapi({
      description: "Plate checks also return permits that ended less than this many minutes ago, flagged expired-within-grace.",
    }),
    createdAt: z.string(),
  })
  .openapi("Site");
export const SiteList = z.object({ sites: z.array(SiteView) }).openapi("SiteList");

const siteView = (s: Site): z.infer<typeof SiteView> => ({
  slug: s.slug,
  name: s.name,
  currencies: s.currencies.split(","),
  timeZone: s.timeZone,
  graceMinutes: s.graceMinutes,
  createdAt: formatWireTime(s.createdAt),
});

const Currencies = z
  .array(
    z
      .string()
      .toUpperCase()
      .regex(/^[A-Z]{3}$/, "must be a three-letter ISO 4217 code such as CAD"),
  )
  .min(1)
  .max(10)
  .refine((l) => new Set(l).size === l.length, "must not repeat a currency")
  .openapi({ example: ["CAD", "USD"] });
const SiteName = z.string().trim().min(1).max(200);
const TimeZone = z
  .string()
  .max(64)
  .refine((tz) => canonicalTimeZone(tz) !== undefined, "must be an IANA time zone name such as America/Toronto")
  .transform((tz) => canonicalTimeZone(tz) as string)
  .openapi({ description: "IANA time zone; UTC by default.", example: "America/Toronto" });

export const SiteCreate = z.object({
  slug: Slug,
  name: SiteName.optional(),
  currencies: Currencies.optional(),
  timeZone: TimeZone.optional(),
});
const GraceMinutes = z
  .number()
  .int()
  .min(0)
  .max(MAX_GRACE_MINUTES)
  .openapi({ description: `0 to ${MAX_GRACE_MINUTES} (a day); 15 by default.`, example: 15 });

export const SiteUpdate = z
  .object({
    name: SiteName.optional(),
    currencies: Currencies.optional(),
    timeZone: TimeZone.optional(),
    graceMinutes: GraceMinutes.optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "needs name, currencies, timeZone or graceMinutes to change");

/** Sites (OPS-COM's clients): list, create, read, update. */
export function registerSiteRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites",
      operationId: "listSites",
      summary: "List sites (ADMIN_TOKEN only)",
      responses: { 200: json(SiteList, "Sites") },
      errors: [],
    }),
    async (c) => {
      requireRoot(c);
      return c.json({ sites: (await listSites(c.env.DB)).map(siteView) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites",
      operationId: "createSite",
      summary: "Create a site (an OPS-COM client) (ADMIN_TOKEN only)",
      request: { body: body(SiteCreate) },
      responses: { 201: json(SiteView, "Created") },
      errors: [400, 409, 413, 415],
    }),
    async (c) => {
      requireRoot(c);
      const input = c.req.valid("json");
      const site = await createSite(c.env.DB, {
        slug: input.slug,
        name: input.name ?? input.slug,
        currencies: input.currencies,
        timeZone: input.timeZone,
      });
      if (!site) throw new AppError(ErrorCode.AlreadyExists, `Site ${input.slug} already exists.`, { field: "slug" });
      return c.json(siteView(site), 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}",
      operationId: "getSite",
      summary: "Read a site",
      request: { params: SiteParam },
      responses: { 200: json(SiteView, "The site") },
      errors: [400, 404],
    }),
    async (c) => c.json(siteView(await siteOf(c, c.req.valid("param").site)), 200),
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/sites/{site}",
      operationId: "updateSite",
      summary: "Change a site's name, accepted currencies, time zone or grace period",
      request: {
        params: SiteParam,
        body: body(SiteUpdate),
      },
      responses: { 200: json(SiteView, "The site") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const updated = await updateSite(c.env.DB, site.id, c.req.valid("json"));
      await invalidate(c.env.CACHE, cacheKeys.site(site.id));
      return c.json(siteView(updated), 200);
    },
  );
}
