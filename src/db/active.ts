import { sql } from "drizzle-orm";
import { statement } from "./client";

/** "Active now": started, not yet ended, not deleted. The one definition stats and lookups share. */
const activeAt = (now: number) => sql`p.start_at <= ${now} AND p.end_at > ${now} AND p.deleted_at IS NULL`;

/**
 * Counts the permits active at `now` per lot zone and type, for the given
 * lot zones of a site. One query over the partial index
 * `permits_zone_live (site_id, lot_zone_id, type, end_at, start_at)`: it
 * reads only the index entries whose end is still ahead, never the table.
 * Zone ids travel as one JSON parameter, so any number of zones stays within
 * D1's 100 bound parameters.
 */
export async function countActive(
  d1: D1Database,
  siteId: number,
  zoneIds: number[],
  now: number,
): Promise<{ lot_zone_id: number; type: "temp" | "standard"; total: number }[]> {
  const { results } = await statement(
    d1,
    sql`SELECT p.lot_zone_id, p.type, count(*) AS total FROM permits p INDEXED BY permits_zone_live
        WHERE p.site_id = ${siteId} AND p.lot_zone_id IN (SELECT value FROM json_each(${JSON.stringify(zoneIds)}))
          AND ${activeAt(now)}
        GROUP BY p.lot_zone_id, p.type`,
  ).all<{ lot_zone_id: number; type: "temp" | "standard"; total: number }>();
  return results;
}

/** An active permit as enforcement sees it. */
export interface ActivePermit {
  id: string;
  type: "temp" | "standard";
  source: string;
  plate: string;
  zone_name: string | null;
  lot_zone: string | null;
  start_at: number;
  end_at: number;
}

/**
 * The permits of a plate (normalized) active at `now` on a site, optionally
 * in one lot zone. One query over `permits_plate_active (site_id, plate_norm, end_at)`.
 */
export async function activeByPlate(
  d1: D1Database,
  siteId: number,
  plateNorm: string,
  now: number,
  lotZoneId?: number,
): Promise<ActivePermit[]> {
  const inZone = lotZoneId === undefined ? sql`` : sql`AND p.lot_zone_id = ${lotZoneId}`;
  const { results } = await statement(
    d1,
    sql`SELECT p.id, p.type, p.source, p.plate, p.zone_name, z.name AS lot_zone, p.start_at, p.end_at
        FROM permits p LEFT JOIN lot_zones z ON z.id = p.lot_zone_id
        WHERE p.site_id = ${siteId} AND p.plate_norm = ${plateNorm} AND ${activeAt(now)} ${inZone}
        ORDER BY p.end_at DESC LIMIT 100`,
  ).all<ActivePermit>();
  return results;
}
