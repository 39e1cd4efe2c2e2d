import { and, asc, count, desc, eq, getTableColumns, gt, isNotNull, isNull, lt, lte, max, or, sql } from "drizzle-orm";
import { foldPlate } from "../../domain/plate";
import { type D1Binding, database, statement } from "../client";
import { lotZones, permitEvents, permits, sites } from "../schema";

/** A permit as reads return it: every column, and the current name and number of the lot zone it matched (null: none). */
export type PermitRow = typeof permits.$inferSelect & { lotZone: string | null; lotZoneNumber: string | null };

/** The columns of a {@link PermitRow}: a select over permits left-joined to lot_zones. */
export const withLotZone = { ...getTableColumns(permits), lotZone: lotZones.name, lotZoneNumber: lotZones.number };

/**
 * Every column of `permits` under its camelCase name, for raw statements that answer a stored permit (a SELECT, or
 * an insert's or update's RETURNING); `qualifier` names the table (`p.`, `permits.`) where the statement needs it.
 */
export const permitColumns = (qualifier = "") =>
  sql.raw(
    Object.entries(getTableColumns(permits))
      .map(([key, column]) => `${qualifier}${column.name} AS ${key}`)
      .join(", "),
  );

/** Every column of `permits p` under its camelCase name, for raw statements that answer a {@link PermitRow}. */
const PERMIT_COLUMNS = permitColumns("p.");

/** "Active now": started, not yet ended, not deleted (searches; plate checks add the grace period in checkPlates). */
const activeAt = (now: number) => and(lte(permits.startAt, now), gt(permits.endAt, now), isNull(permits.deletedAt));

/** The permit types, each counted in its own column by {@link countActive}. */
const PERMIT_TYPES = permits.type.enumValues;
type PermitType = (typeof PERMIT_TYPES)[number];

/**
 * Counts the permits active at `now` per lot zone and type, for the given
 * lot zones of a site. One query over the partial index `permits_zone_live`:
 * it reads only the index entries whose end is still ahead, never the table,
 * and counts each type in the same pass, grouped by zone only, so the groups
 * follow the index's order and need no sort (a GROUP BY zone and type would
 * sort every entry in a temporary B-tree first: half the query's time).
 * Raw SQL: drizzle has no `INDEXED BY`; zone ids travel as one JSON
 * parameter (`json_each`), so any number of zones stays within D1's 100
 * bound parameters.
 */
export async function countActive(
  d1: D1Binding,
  siteId: number,
  zoneIds: number[],
  now: number,
): Promise<{ lotZoneId: number; type: PermitType; total: number }[]> {
  const perType = sql.join(
    PERMIT_TYPES.map((type) => sql`sum(p.type = ${type}) AS ${sql.identifier(type)}`),
    sql`, `,
  );
  const { results } = await statement(
    d1,
    sql`SELECT p.lot_zone_id AS lotZoneId, ${perType} FROM permits p INDEXED BY permits_zone_live
        WHERE p.site_id = ${siteId} AND p.lot_zone_id IN (SELECT value FROM json_each(${JSON.stringify(zoneIds)}))
          AND p.start_at <= ${now} AND p.end_at > ${now} AND p.deleted_at IS NULL
        GROUP BY p.lot_zone_id`,
  ).all<{ lotZoneId: number } & Record<PermitType, number>>();
  return results.flatMap((row) =>
    PERMIT_TYPES.flatMap((type) => (row[type] > 0 ? [{ lotZoneId: row.lotZoneId, type, total: row[type] }] : [])),
  );
}

/** A plate check, as every enforcement surface asks it (lookup, rights, isvalid, permits/search, validate/plate). */
export interface PlateCheck {
  siteId: number;
  /** The plates asked, normalized (1 to 100); each hit says which one it matched. */
  plates: string[];
  /** The moment checked, epoch seconds. */
  now: number;
  /** The site's grace period: permits that ended less than this long before `now` are returned too, flagged. */
  graceSeconds: number;
  /** Opt-in: also match plates that differ only by characters cameras confuse (`CONFUSABLES`). Reads only. */
  confusables?: boolean;
  /** Narrow to permits of this plate state (normalized); a permit whose state is unknown still matches. */
  plateState?: string;
  /** Narrow to these lot zones; without it, every permit of the site, disconnected records included. */
  lotZoneIds?: number[];
  /** At most this many permits, latest end first. */
  limit: number;
}

/** A permit a plate check found, and how. */
export type PlateHit = PermitRow & {
  /** The plate asked (normalized) that it matched. */
  matchedPlate: string;
  /** `exact`: its plate is the one asked; `confusable`: the same once confusable characters are folded. */
  match: "exact" | "confusable";
  /** It ended within the grace period: not valid now, shown so that a driver whose time ran out a minute ago is not ticketed. */
  expiredWithinGrace: boolean;
};

/**
 * THE plate check: every surface that asks "is this plate paid for here,
 * now?" calls this one function, so they cannot disagree. Its contract:
 *
 * - A permit answers when it is not deleted, has started (`start <= now`) and
 *   has not ended, or ended less than `graceSeconds` ago (then flagged
 *   `expiredWithinGrace`).
 * - Plates match normalized; with `confusables`, also when equal once O/Q→0,
 *   I/L→1, B→8, S→5, Z→2, G→6 are folded, answered from the generated column
 *   `plate_folded` and its index. Each hit names the plate it matched and
 *   whether exactly.
 * - `plateState` excludes permits of another known state, never those whose
 *   state is unknown (pay stations send none).
 * - `lotZoneIds` narrows to those lot zones (disconnected records then never
 *   answer).
 * - Latest end first, at most `limit`; one query, seeking
 *   `permits_plate_active (site_id, plate_norm, end_at)` or
 *   `permits_plate_folded (site_id, plate_folded, end_at)`.
 */
export async function checkPlates(d1: D1Binding, check: PlateCheck): Promise<PlateHit[]> {
  const { now, graceSeconds } = check;
  const asked = [...new Set(check.plates)];
  // Raw SQL for INDEXED BY: without it SQLite may walk all of the site's permits by end, to save the sort.
  // The plates and zones travel as JSON parameters, so up to 100 of each stay within D1's 100 bound parameters.
  const plateMatch = check.confusables
    ? sql`p.plate_folded IN (SELECT value FROM json_each(${JSON.stringify([...new Set(asked.map(foldPlate))])}))`
    : sql`p.plate_norm IN (SELECT value FROM json_each(${JSON.stringify(asked)}))`;
  const index = sql.raw(check.confusables ? "permits_plate_folded" : "permits_plate_active");
  const state = check.plateState === undefined ? sql`` : sql`AND (p.plate_state IS NULL OR p.plate_state = ${check.plateState})`;
  const zones =
    check.lotZoneIds === undefined ? sql`` : sql`AND p.lot_zone_id IN (SELECT value FROM json_each(${JSON.stringify(check.lotZoneIds)}))`;
  const { results } = await statement(
    d1,
    sql`SELECT ${PERMIT_COLUMNS}, z.name AS lotZone, z.number AS lotZoneNumber FROM permits p INDEXED BY ${index} LEFT JOIN lot_zones z ON z.id = p.lot_zone_id
        WHERE p.site_id = ${check.siteId} AND ${plateMatch} AND p.end_at > ${now - graceSeconds} AND p.start_at <= ${now}
          AND p.deleted_at IS NULL ${state} ${zones}
        ORDER BY p.end_at DESC, p.id LIMIT ${check.limit}`,
  ).all<PermitRow>();
  const exact = new Set(asked);
  return results.map((row) => {
    const isExact = exact.has(row.plateNorm);
    return {
      ...row,
      matchedPlate: isExact ? row.plateNorm : (asked.find((plate) => foldPlate(plate) === row.plateFolded) ?? row.plateNorm),
      match: isExact ? "exact" : "confusable",
      expiredWithinGrace: row.endAt <= now,
    };
  });
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
  /** A lot zone's permits, or the disconnected records that named a zone no lot zone has. */
  zone?: { lotZoneId: number } | { disconnected: string };
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
    q.zone === undefined
      ? undefined
      : "lotZoneId" in q.zone
        ? eq(permits.lotZoneId, q.zone.lotZoneId)
        : and(isNull(permits.lotZoneId), eq(permits.zoneName, q.zone.disconnected)),
    q.from === undefined ? undefined : gt(permits.endAt, q.from),
    q.to === undefined ? undefined : lt(permits.startAt, q.to),
    q.source ? eq(permits.source, q.source) : undefined,
    q.promoCode ? eq(permits.promoCode, q.promoCode) : undefined,
    q.activeAt === undefined ? undefined : activeAt(q.activeAt),
  );
}

/** A search counts its matches up to this many: past it, the count says "at least" (counting a busy site's year costs a scan). */
export const SEARCH_COUNT_LIMIT = 10_000;

/**
 * A page of a site's permits (deleted ones included): by type, normalized
 * plate, zone (a lot zone, or a disconnected zone name), a time range the
 * permit overlaps, source, promo code, active now; newest start first, over
 * the index `permits_site_start (site_id, type, start_at)`. Counts the
 * matches up to {@link SEARCH_COUNT_LIMIT} (`totalIsExact` false past it),
 * and reads one row more than asked to tell whether another page follows.
 */
export async function searchPermits(d1: D1Database, siteId: number, q: PermitSearch, page: { offset: number; limit: number }) {
  const db = database(d1);
  const where = searchConditions(siteId, q);
  const matches = db
    .select({ one: sql`1` })
    .from(permits)
    .where(where)
    .limit(SEARCH_COUNT_LIMIT + 1)
    .as("matches");
  const [rows, [counted]] = await db.batch([
    db
      .select(withLotZone)
      .from(permits)
      .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
      .where(where)
      .orderBy(desc(permits.startAt), asc(permits.id))
      .limit(page.limit + 1)
      .offset(page.offset),
    db.select({ n: count() }).from(matches),
  ]);
  const n = counted?.n ?? 0;
  return {
    rows: rows.slice(0, page.limit),
    hasMore: rows.length > page.limit,
    total: Math.min(n, SEARCH_COUNT_LIMIT),
    totalIsExact: n <= SEARCH_COUNT_LIMIT,
  };
}

/** Whether a site has records that named `zoneName` and matched no lot zone (deleted ones included), from `permits_disconnected`. */
export async function hasDisconnected(d1: D1Database, siteId: number, zoneName: string): Promise<boolean> {
  const row = await database(d1)
    .select({ one: sql<number>`1` })
    .from(permits)
    .where(and(eq(permits.siteId, siteId), isNull(permits.lotZoneId), eq(permits.zoneName, zoneName)))
    .limit(1)
    .get();
  return row !== undefined;
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
          // The lone lte() gives SQLite a range on start_at to seek (the OR alone it would not seek).
          after && lte(permits.startAt, after.startAt),
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
