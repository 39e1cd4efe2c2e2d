import { asc, eq, sql } from "drizzle-orm";
import { database, jsonRows, statement } from "./client";
import { lotZones, permitEvents, permits } from "./schema";

/**
 * Retention's storage: every statement touches a bounded number of rows, so
 * a run never holds D1 for long (D1 serves one query at a time) and a run
 * killed between two batches leaves each batch either done or not.
 *
 * Raw SQL where drizzle cannot say it: `INDEXED BY`, `json_each`,
 * `json_remove`, and deletes of "the first n rows".
 */

/**
 * Removes the plate of up to `limit` permits of a site that ended before
 * `before` and still have one: the plate (raw and normalized, hence the
 * folded one) is emptied, the receipt key (plate-bound) and a session's
 * receipt e-mail cleared, the plate fields dropped from their history
 * events, and `anonymized_at` set; the
 * record, its state, zone and amounts stay. Returns how many it anonymized:
 * fewer than `limit` means none is left.
 */
export async function anonymizeBatch(d1: D1Database, siteId: number, before: number, now: number, limit: number): Promise<number> {
  const { results } = await statement(
    d1,
    sql`SELECT id FROM permits INDEXED BY permits_to_anonymize
        WHERE site_id = ${siteId} AND end_at < ${before} AND anonymized_at IS NULL LIMIT ${limit}`,
  ).all<{ id: string }>();
  if (results.length === 0) return 0;
  const ids = JSON.stringify(results.map((r) => r.id));
  await d1.batch([
    statement(
      d1,
      sql`UPDATE permit_events SET changes = json_remove(changes, '$.plate', '$.plateNorm')
          WHERE permit_id IN (SELECT value FROM json_each(${ids}))
            AND (json_type(changes, '$.plate') IS NOT NULL OR json_type(changes, '$.plateNorm') IS NOT NULL)`,
    ),
    statement(
      d1,
      sql`UPDATE permits SET plate = '', plate_norm = '', receipt = NULL, receipt_email = NULL, anonymized_at = ${now}
          WHERE id IN (SELECT value FROM json_each(${ids})) AND anonymized_at IS NULL`,
    ),
  ]);
  return results.length;
}

/** The earliest end among a site's permits that ended in [from, before) (null: none), from `permits_site_end`. */
export async function earliestEndBefore(d1: D1Database, siteId: number, before: number, from = 0): Promise<number | null> {
  const row = await statement(
    d1,
    sql`SELECT min(end_at) AS endAt FROM permits INDEXED BY permits_site_end
        WHERE site_id = ${siteId} AND end_at >= ${from} AND end_at < ${before}`,
  ).first<{ endAt: number | null }>();
  return row?.endAt ?? null;
}

/** A page of the ids of a site's permits that ended in [from, to), in index order after `after` (end, rowid). */
export async function endedBetween(
  d1: D1Database,
  q: { siteId: number; from: number; to: number; after: { endAt: number; rowid: number } | null; limit: number },
): Promise<{ id: string; endAt: number; rowid: number }[]> {
  const after = q.after ?? { endAt: q.from - 1, rowid: 0 };
  const { results } = await statement(
    d1,
    sql`SELECT id, end_at AS endAt, rowid FROM permits INDEXED BY permits_site_end
        WHERE site_id = ${q.siteId} AND end_at >= ${q.from} AND end_at < ${q.to}
          AND (end_at > ${after.endAt} OR (end_at = ${after.endAt} AND rowid > ${after.rowid}))
        ORDER BY end_at, rowid LIMIT ${q.limit}`,
  ).all<{ id: string; endAt: number; rowid: number }>();
  return results;
}

/** Permits (every column, and the name of the lot zone they matched) and their history, by id, in one batch. */
export async function permitsWithHistory(d1: D1Database, ids: string[]) {
  const db = database(d1);
  const list = sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`;
  const [rows, events] = await db.batch([
    db
      .select({ permit: permits, lotZone: lotZones.name })
      .from(permits)
      .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
      .where(sql`${permits.id} IN ${list}`),
    db
      .select()
      .from(permitEvents)
      .where(sql`${permitEvents.permitId} IN ${list}`)
      .orderBy(asc(permitEvents.permitId), asc(permitEvents.version)),
  ]);
  return { rows, events };
}

/** An archived permit, as {@link deleteArchived} sends it. */
const archivedRow = jsonRows(["id", "version"]);

/**
 * Deletes archived permits and their history, in one batch (one transaction),
 * each only if its version is still the one archived: a permit changed after
 * it was written to the archive stays, and the next run archives its new
 * version. Returns how many permits and events it deleted.
 */
export async function deleteArchived(
  d1: D1Database,
  archived: { id: string; version: number }[],
): Promise<{ permits: number; events: number }> {
  if (archived.length === 0) return { permits: 0, events: 0 };
  const unchanged = sql`SELECT p.id FROM permits p JOIN json_each(${archivedRow.json(archived)}) j
                        ON p.id = ${archivedRow("id")} AND p.version = ${archivedRow("version")}`;
  // Events first: permit_events references permits.
  const [events, deleted] = await d1.batch([
    statement(d1, sql`DELETE FROM permit_events WHERE permit_id IN (${unchanged})`),
    statement(d1, sql`DELETE FROM permits WHERE id IN (${unchanged}) RETURNING id`),
  ]);
  // Permits counted from RETURNING, not meta.changes: D1 counts the rows their triggers write too (the count of a
  // site's ParkMobile changes).
  return { permits: deleted?.results.length ?? 0, events: events?.meta.changes ?? 0 };
}

/**
 * Deletes up to `limit` of the oldest change-log rows of one lot zone that
 * were written before `before`; fewer than `limit` means none is left (the
 * log is in time order).
 */
export async function pruneFeedChanges(d1: D1Database, lotZoneId: number, before: number, limit: number): Promise<number> {
  const result = await statement(
    d1,
    sql`DELETE FROM permit_changes WHERE seq IN (SELECT seq FROM permit_changes WHERE lot_zone_id = ${lotZoneId} ORDER BY seq LIMIT ${limit})
          AND at < ${before}`,
  ).run();
  return result.meta.changes;
}

/** The ids of a site's lot zones. */
export async function siteZoneIds(d1: D1Database, siteId: number): Promise<number[]> {
  const rows = await database(d1).select({ id: lotZones.id }).from(lotZones).where(eq(lotZones.siteId, siteId));
  return rows.map((r) => r.id);
}

/** Deletes up to `limit` of a site's push Idempotency-Key records made before `before`. */
export async function pruneIdempotencyKeys(d1: D1Database, siteId: number, before: number, limit: number): Promise<number> {
  const result = await statement(
    d1,
    sql`DELETE FROM idempotency_keys WHERE rowid IN
          (SELECT rowid FROM idempotency_keys WHERE site_id = ${siteId} AND created_at < ${before} LIMIT ${limit})`,
  ).run();
  return result.meta.changes;
}

/**
 * Deletes up to `limit` of a site's finished task runs that finished before
 * `before`, never a task's newest run: run numbers go on from it.
 */
export async function pruneTaskRuns(d1: D1Database, siteId: number, before: number, limit: number): Promise<number> {
  const result = await statement(
    d1,
    sql`DELETE FROM task_runs WHERE id IN
          (SELECT id FROM task_runs r WHERE site_id = ${siteId} AND finished_at IS NOT NULL AND finished_at < ${before}
             AND number < (SELECT max(number) FROM task_runs n WHERE n.site_id = r.site_id AND n.task = r.task)
           LIMIT ${limit})`,
  ).run();
  return result.meta.changes;
}
