import { z } from "@hono/zod-openapi";
import { DEFAULT_ANONYMIZE_AFTER_DAYS, DEFAULT_ARCHIVE_AFTER_MONTHS } from "../../db/schema";
import { type Site, updateSite } from "../../db/sites";
import { isTaskEnabled, TASKS } from "../../db/tasks";
import { ANONYMIZE_DAYS, ARCHIVE_MONTHS, archiveKey, archivePrefix, MONTH } from "../../domain/retention";
import { formatWireTime } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { type AdminApp, adminRoute, body, json, SiteParam, siteOf } from "./route";

export const RetentionView = z
  .object({
    anonymizeAfterDays: z
      .number()
      .int()
      .openapi({
        description: `Plates of permits that ended more than this many days ago are removed (the record and its amounts stay). Default ${DEFAULT_ANONYMIZE_AFTER_DAYS}.`,
      }),
    archiveAfterMonths: z
      .number()
      .int()
      .openapi({
        description: `Permits that ended more than this many months ago are archived to R2 by whole months, then deleted from D1. Default ${DEFAULT_ARCHIVE_AFTER_MONTHS}.`,
      }),
    enabled: z.boolean().openapi({ description: "Whether the daily run is on for this site (the retention task; on until disabled)." }),
    schedule: z.string().openapi({ description: "The Cron Trigger that runs it." }),
  })
  .openapi("Retention");

export const RetentionInput = z
  .object({
    anonymizeAfterDays: z.number().int().min(ANONYMIZE_DAYS.min).max(ANONYMIZE_DAYS.max).optional().openapi({ example: 90 }),
    archiveAfterMonths: z.number().int().min(ARCHIVE_MONTHS.min).max(ARCHIVE_MONTHS.max).optional().openapi({ example: 13 }),
  })
  .refine(
    (b) => b.anonymizeAfterDays !== undefined || b.archiveAfterMonths !== undefined,
    "needs anonymizeAfterDays or archiveAfterMonths",
  );

export const ArchiveView = z
  .object({
    month: z.string().openapi({ description: "The month (UTC) the permits in it ended in.", example: "2025-09" }),
    key: z.string().openapi({ example: "permits/demo/2025-09.ndjson.gz" }),
    permits: z.number().int().openapi({ description: "Permits (lines) in it." }),
    bytes: z.number().int().openapi({ description: "Compressed size." }),
    uploadedAt: z.string(),
  })
  .openapi("Archive");
export const ArchiveList = z.object({ archives: z.array(ArchiveView) }).openapi("ArchiveList");

async function retentionView(d1: D1Database, site: Site): Promise<z.infer<typeof RetentionView>> {
  return {
    anonymizeAfterDays: site.anonymizeAfterDays,
    archiveAfterMonths: site.archiveAfterMonths,
    enabled: await isTaskEnabled(d1, site.id, "retention"),
    schedule: TASKS.retention.schedule,
  };
}

const MonthParam = SiteParam.extend({
  month: z
    .string()
    .regex(MONTH, "must be a month, YYYY-MM")
    .openapi({ param: { name: "month", in: "path" }, description: "The archived month, YYYY-MM (UTC).", example: "2025-09" }),
});

/** A site's retention policy, and the archives its runs wrote. */
export function registerRetentionRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/retention",
      operationId: "getRetention",
      summary: "Read a site's retention policy",
      request: { params: SiteParam },
      responses: { 200: json(RetentionView, "The policy") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json(await retentionView(c.env.DB, site), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "put",
      path: "/sites/{site}/retention",
      operationId: "setRetention",
      summary: "Set a site's retention policy (fields left out keep their value)",
      description:
        "The next run applies it: the retention task, daily by its Cron Trigger or now with POST /sites/{site}/tasks/retention/run. Switch the task itself with PATCH /sites/{site}/tasks/retention.",
      request: { params: SiteParam, body: body(RetentionInput) },
      responses: { 200: json(RetentionView, "The policy") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const updated = await updateSite(c.env.DB, site.id, c.req.valid("json"));
      return c.json(await retentionView(c.env.DB, updated), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/archives",
      operationId: "listArchives",
      summary: "List a site's archives in R2, one per month, oldest first",
      request: { params: SiteParam },
      responses: { 200: json(ArchiveList, "Archives") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const archives: z.infer<typeof ArchiveView>[] = [];
      let cursor: string | undefined;
      do {
        const page = await c.env.ARCHIVE.list({ prefix: archivePrefix(site.slug), cursor, include: ["customMetadata"] });
        for (const object of page.objects) {
          archives.push({
            month: object.customMetadata?.month ?? object.key.slice(archivePrefix(site.slug).length, -".ndjson.gz".length),
            key: object.key,
            permits: Number(object.customMetadata?.permits ?? 0),
            bytes: object.size,
            uploadedAt: formatWireTime(Math.floor(object.uploaded.getTime() / 1000)),
          });
        }
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return c.json({ archives: archives.sort((a, b) => a.month.localeCompare(b.month)) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/archives/{month}",
      operationId: "getArchive",
      summary: "Download one month's archive: gzip-compressed NDJSON, one permit with its history per line",
      request: { params: MonthParam },
      responses: {
        200: {
          description: "The object, as stored",
          content: { "application/gzip": { schema: z.string().openapi({ format: "binary" }) } },
        },
      },
      errors: [400, 404],
    }),
    async (c) => {
      const { site: slug, month } = c.req.valid("param");
      const site = await siteOf(c, slug);
      const object = await c.env.ARCHIVE.get(archiveKey(site.slug, month));
      if (!object) throw new AppError(ErrorCode.NotFound, `No archive of ${month} for site ${site.slug}.`, { field: "month" });
      return c.body(object.body, 200, {
        "content-type": "application/gzip",
        "content-length": String(object.size),
        "content-disposition": `attachment; filename="${site.slug}-${month}.ndjson.gz"`,
      });
    },
  );
}
