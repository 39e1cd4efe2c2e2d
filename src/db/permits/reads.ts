import { and, asc, count, desc, eq, getTableColumns, gt, isNotNull, isNull, lt, lte, max, or, sql } from "drizzle-orm";
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

/** A search of a site's permits of one type (Pay Station Status, standard permits), newest start first. */
export interface PermitSearch {
  type: "temp" | "standard";
  plateNorm?: string;
  /** A lot zone's name or a raw zone name. */
  zone?: string;
  /** The permit overlaps [from, to). */
  from?: number;
  to?: number;
  source?: string;
  promoCode?: string;
  /** Only permits active at this time (started, not ended, not deleted). */
  activeAt?: number;
}

function searchConditions(siteId: number, q: PermitSearch) {
  return and(
    eq(permits.siteId, siteId),
    eq(permits.type, q.type),
    q.plateNorm ? eq(permits.plateNorm, q.plateNorm) : undefined,
    q.zone ? or(eq(lotZones.name, q.zone), eq(permits.zoneName, q.zone)) : undefined,
    q.from === undefined ? undefined : gt(permits.endAt, q.from),
    q.to === undefined ? undefined : lt(permits.startAt, q.to),
    q.source ? eq(permits.source, q.source) : undefined,
    q.promoCode ? eq(permits.promoCode, q.promoCode) : undefined,
    q.activeAt === undefined ? undefined : activeAt(q.activeAt),
  );
}

/**
 * A page of a site's permits (deleted ones included): by type, normalized
 * plate, zone (lot zone or raw name), a time range the permit overlaps,
 * source, promo code, active now; newest start first, over the index
 * `permits_site_start (site_id, type, start_at)`. Counts every match, and
 * reads one row more than asked to tell whether another page follows.
 */
export async function searchPermits(d1: D1Database, siteId: number, q: PermitSearch, page: { offset: number; limit: number }) {
  const db = database(d1);
  const where = searchConditions(siteId, q);
  const [rows, [total]] = await db.batch([
    db
      .select(withLotZone)
      .from(permits)
      .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
      .where(where)
      .orderBy(desc(permits.startAt), asc(permits.id))
      .limit(page.limit + 1)
      .offset(page.offset),
    db.select({ n: count() }).from(permits).leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId)).where(where),
  ]);
  return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit, total: total?.n ?? 0 };
}

/**
 * Every permit a search matches, in the search's order, `batch` rows at a
 * time: each batch is one query that seeks past the last row read (keyset,
 * not OFFSET), so an export of a busy site costs the same per row at the end
 * as at the start and never holds it all in memory.
 */
export async function* everyPermit(d1: D1Database, siteId: number, q: PermitSearch, batch = 500): AsyncGenerator<PermitRow[]> {
  const db = database(d1);
  let after: { startAt: number; id: string } | undefined;
  for (;;) {
    const rows = await db
      .select(withLotZone)
      .from(permits)
      .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
      .where(
        and(
          searchConditions(siteId, q),
          after && or(lt(permits.startAt, after.startAt), and(eq(permits.startAt, after.startAt), gt(permits.id, after.id))),
        ),
      )
      .orderBy(desc(permits.startAt), asc(permits.id))
      .limit(batch);
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (!last || rows.length < batch) return;
    after = { startAt: last.startAt, id: last.id };
  }
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
