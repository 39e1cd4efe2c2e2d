import { z } from "@hono/zod-openapi";
import { cacheKeys, invalidate } from "../../cache";
import { disconnectedZones } from "../../db/permits/reads";
import type { Site } from "../../db/sites";
import { addZone, findZone, type LotZone, listZones, removeZone, renameZone } from "../../db/zones";
import { formatWireTime } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { type AdminApp, type AdminContext, adminRoute, body, json, SiteParam, siteOf } from "./route";

export const ZoneView = z.object({ id: z.number().int(), name: z.string(), createdAt: z.string() }).openapi("LotZone");
export const ZoneList = z.object({ zones: z.array(ZoneView) }).openapi("LotZoneList");
export const ZoneChange = ZoneView.extend({ reconnected: z.number().int() }).openapi("LotZoneChange");
export const ZoneRemoval = z.object({ removed: ZoneView, disconnected: z.number().int() }).openapi("LotZoneRemoval");
export const DisconnectedZones = z
  .object({ zones: z.array(z.object({ name: z.string(), count: z.number().int(), lastSeen: z.string() })) })
  .openapi("DisconnectedZones");

const zoneView = (z: LotZone) => ({ id: z.id, name: z.name, createdAt: formatWireTime(z.createdAt) });

const ZoneName = z.string().trim().min(1).max(200).openapi({ example: "Lot 4" });
export const ZoneInput = z.object({ name: ZoneName });
const ZoneParam = SiteParam.extend({
  zone: z.string().openapi({ param: { name: "zone", in: "path" }, description: "The lot zone's exact name (URL-encoded), or its id." }),
});

const duplicate = (name: string) =>
  new AppError(ErrorCode.AlreadyExists, `Lot zone ${name} already exists on this site.`, { field: "name" });

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
      const { name } = c.req.valid("json");
      const added = await addZone(c.env.DB, site.id, name);
      if (!added) throw duplicate(name);
      await invalidate(c.env.CACHE, cacheKeys.site(site.id));
      return c.json({ ...zoneView(added.zone), reconnected: added.reconnected }, 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/sites/{site}/zones/{zone}",
      operationId: "renameZone",
      summary: "Rename a lot zone",
      request: { params: ZoneParam, body: body(ZoneInput) },
      responses: { 200: json(ZoneChange, "Renamed") },
      errors: [400, 404, 409, 413, 415],
    }),
    async (c) => {
      const { site, zone } = await siteAndZone(c, c.req.valid("param"));
      const { name } = c.req.valid("json");
      const renamed = await renameZone(c.env.DB, zone, name);
      if (!renamed) throw duplicate(name);
      await invalidate(c.env.CACHE, cacheKeys.site(site.id));
      return c.json({ ...zoneView(renamed.zone), reconnected: renamed.reconnected }, 200);
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
