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

/** The zone names pushes used that no lot zone matches, with how many live records and when last seen. */
export async function disconnectedZones(d1: D1Database, siteId: number): Promise<{ name: string; count: number; last_seen: number }[]> {
  const { results } = await statement(
    d1,
    sql`SELECT zone_name AS name, count(*) AS count, max(created_at) AS last_seen FROM permits
        WHERE site_id = ${siteId} AND lot_zone_id IS NULL AND zone_name IS NOT NULL AND deleted_at IS NULL
        GROUP BY zone_name ORDER BY last_seen DESC LIMIT 500`,
  ).all<{ name: string; count: number; last_seen: number }>();
  return results;
}

/** A Pay Station Status search: temporary permits of a site, newest start first. */
export interface PermitSearch {
  plateNorm?: string;
  zone?: string;
  from?: number;
  to?: number;
  source?: string;
  promoCode?: string;
  offset: number;
  limit: number;
}

/**
 * Searches a site's temporary permits (pushed and imported, deleted ones
 * included and marked): by normalized plate, zone (lot zone or raw name),
 * a time range the permit overlaps, source and promo code. Reads one row
 * more than asked, to tell whether another page follows.
 */
export async function searchTemporaryPermits(d1: D1Database, siteId: number, q: PermitSearch) {
  const conditions = [sql`p.site_id = ${siteId}`, sql`p.type = 'temp'`];
  if (q.plateNorm) conditions.push(sql`p.plate_norm = ${q.plateNorm}`);
  if (q.zone) conditions.push(sql`(z.name = ${q.zone} OR p.zone_name = ${q.zone})`);
  if (q.from !== undefined) conditions.push(sql`p.end_at > ${q.from}`);
  if (q.to !== undefined) conditions.push(sql`p.start_at < ${q.to}`);
  if (q.source) conditions.push(sql`p.source = ${q.source}`);
  if (q.promoCode) conditions.push(sql`p.promo_code = ${q.promoCode}`);
  const { results } = await statement(
    d1,
    sql`SELECT p.id, p.source, p.plate, p.zone_name, z.name AS lot_zone, p.amount_cents, p.currency, p.start_at, p.end_at,
               p.permit_no, p.ticket_number, p.promo_code, p.deleted_at
        FROM permits p LEFT JOIN lot_zones z ON z.id = p.lot_zone_id
        WHERE ${sql.join(conditions, sql` AND `)}
        ORDER BY p.start_at DESC, p.id LIMIT ${q.limit + 1} OFFSET ${q.offset}`,
  ).all<{
    id: string;
    source: string;
    plate: string;
    zone_name: string | null;
    lot_zone: string | null;
    amount_cents: number | null;
    currency: string | null;
    start_at: number;
    end_at: number;
    permit_no: string | null;
    ticket_number: string | null;
    promo_code: string | null;
    deleted_at: number | null;
  }>();
  return { rows: results.slice(0, q.limit), hasMore: results.length > q.limit };
}
