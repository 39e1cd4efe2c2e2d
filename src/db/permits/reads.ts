import { and, asc, count, desc, eq, getTableColumns, gt, isNotNull, isNull, lt, lte, max, or, type SQL, sql } from "drizzle-orm";
import { database, statement } from "../client";
import { lotZones, permitEvents, permits, sites } from "../schema";

/** A permit as reads return it: every column, and the current name and number of the lot zone it matched (null: none). */
export type PermitRow = typeof permits.$inferSelect & { lotZone: string | null; lotZoneNumber: string | null };

/** The columns of a {@link PermitRow}: a select over permits left-joined to lot_zones. */
export const withLotZone = { ...getTableColumns(permits), lotZone: lotZones.name, lotZoneNumber: lotZones.number };

/** "Active now": started, not yet ended, not deleted. The one definition stats and lookups share. */
const activeAt = (now: number) => and(lte(permits.startAt, now), gt(permits.endAt, now), isNull(permits.deletedAt));

/**
 * Counts the permits active at `now` per lot zone and type, for the given
 * lot zones of a site. One query over the partial index `permits_zone_live`:
 * it reads only the index entries whose end is still ahead, never the table.
 * Raw SQL: drizzle has no `INDEXED BY`; zone ids travel as one JSON
 * parameter (`json_each`), so any number of zones stays within D1's 100
 * bound parameters.
 */
export async function countActive(
  d1: D1Database,
  siteId: number,
  zoneIds: number[],
  now: number,
): Promise<{ lotZoneId: number; type: "temp" | "standard"; total: number }[]> {
  const { results } = await statement(
    d1,
    sql`SELECT p.lot_zone_id AS lotZoneId, p.type, count(*) AS total FROM permits p INDEXED BY permits_zone_live
        WHERE p.site_id = ${siteId} AND p.lot_zone_id IN (SELECT value FROM json_each(${JSON.stringify(zoneIds)}))
          AND p.start_at <= ${now} AND p.end_at > ${now} AND p.deleted_at IS NULL
        GROUP BY p.lot_zone_id, p.type`,
  ).all<{ lotZoneId: number; type: "temp" | "standard"; total: number }>();
  return results;
}

/**
 * The permits of a plate (normalized) active at `now` on a site, optionally
 * in one lot zone, latest end first, at most 100. One query over
 * `permits_plate_active (site_id, plate_norm, end_at)`.
 */
export function activeByPlate(d1: D1Database, siteId: number, plateNorm: string, now: number, lotZoneId?: number): Promise<PermitRow[]> {
  return database(d1)
    .select(withLotZone)
    .from(permits)
    .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
    .where(
      and(
        eq(permits.siteId, siteId),
        eq(permits.plateNorm, plateNorm),
        activeAt(now),
        lotZoneId === undefined ? undefined : eq(permits.lotZoneId, lotZoneId),
      ),
    )
    .orderBy(desc(permits.endAt))
    .limit(100);
}

/**
 * The rights a plate (normalized) holds on a site at `now`, whatever their
 * source (sessions, pushes, ParkMobile imports, standard permits),
 * optionally in one lot zone: the plate check of `GET /api/v1/rights`. Today
 * a right is exactly an active permit ({@link activeByPlate}); it is its own
 * function so the rights' rule can grow (a grace period after the end, a
 * confusable-character match) without touching the lookup's.
 */
export function rightsOfPlate(d1: D1Database, siteId: number, plateNorm: string, now: number, lotZoneId?: number): Promise<PermitRow[]> {
  return activeByPlate(d1, siteId, plateNorm, now, lotZoneId);
}

/** The zone names pushes used that no lot zone matches, with how many live records and when last seen. */
export function disconnectedZones(d1: D1Database, siteId: number): Promise<{ name: string; count: number; lastSeen: number }[]> {
  const lastSeen = max(permits.createdAt).mapWith(Number);
  return database(d1)
    .select({ name: sql<string>`${permits.zoneName}`, count: count(), lastSeen })
    .from(permits)
    .where(and(eq(permits.siteId, siteId), isNull(permits.lotZoneId), isNotNull(permits.zoneName), isNull(permits.deletedAt)))
    .groupBy(permits.zoneName)
    .orderBy(desc(lastSeen))
    .limit(500);
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
 * included): by normalized plate, zone (lot zone or raw name), a time range
 * the permit overlaps, source and promo code. Reads one row more than asked,
 * to tell whether another page follows.
 */
export async function searchTemporaryPermits(d1: D1Database, siteId: number, q: PermitSearch) {
  const conditions: (SQL | undefined)[] = [eq(permits.siteId, siteId), eq(permits.type, "temp")];
  if (q.plateNorm) conditions.push(eq(permits.plateNorm, q.plateNorm));
  if (q.zone) conditions.push(or(eq(lotZones.name, q.zone), eq(permits.zoneName, q.zone)));
  if (q.from !== undefined) conditions.push(gt(permits.endAt, q.from));
  if (q.to !== undefined) conditions.push(lt(permits.startAt, q.to));
  if (q.source) conditions.push(eq(permits.source, q.source));
  if (q.promoCode) conditions.push(eq(permits.promoCode, q.promoCode));
  const rows = await database(d1)
    .select(withLotZone)
    .from(permits)
    .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
    .where(and(...conditions))
    .orderBy(desc(permits.startAt), asc(permits.id))
    .limit(q.limit + 1)
    .offset(q.offset);
  return { rows: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

/** A permit with its site's slug, its lot zone's current name and its whole history, oldest first; null if none. */
export async function permitWithHistory(d1: D1Database, reference: string) {
  const db = database(d1);
  const [found, history] = await db.batch([
    db
      .select({ ...withLotZone, site: sites.slug })
      .from(permits)
      .innerJoin(sites, eq(sites.id, permits.siteId))
      .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
      .where(eq(permits.id, reference)),
    db.select().from(permitEvents).where(eq(permitEvents.permitId, reference)).orderBy(asc(permitEvents.version)),
  ]);
  const row = found[0];
  return row ? { permit: row, history } : null;
}
