import { sql } from "drizzle-orm";
import type { FeedPermit } from "../../domain/feed";
import { type D1Binding, statement } from "../client";
import { permits } from "../schema";

/**
 * The enforcement feed of a lot zone, read from two places: the permits
 * themselves (the full list, and the permits whose start or end crossed
 * `now` since a token: time passing changes the list without a write), and
 * the change log `permit_changes` (every write that could change a zone's
 * list, logged by triggers with a sequence number that never repeats and
 * grows in commit order).
 *
 * Raw SQL: drizzle has no `INDEXED BY`, and the delta is one statement
 * UNIONing three index seeks.
 */

const columns = sql.raw(
  "p.id, p.plate_norm AS plateNorm, p.plate_state AS plateState, p.start_at AS startAt, p.end_at AS endAt, p.lot_zone_id AS lotZoneId, p.deleted_at AS deletedAt",
);

/** The change log's high-water mark (0 when it is empty): every change with a higher `seq` committed after this read. */
const highWaterMark = (d1: D1Binding) => statement(d1, sql`SELECT coalesce(max(seq), 0) AS seq FROM permit_changes`);

/** A zone's list, or its changes, and the high-water mark of the same snapshot: the next token's position. */
export interface FeedRead {
  seq: number;
  permits: FeedPermit[];
  /**
   * When the zone's ParkMobile import last succeeded, if the site imports it and that is longer ago than the
   * `staleAfter` asked: its permits cannot be known now. Null otherwise.
   */
  staleSince: number | null;
}

/** Where the zone's ParkMobile import stands, read in the same batch as the feed (see {@link staleImportZones}). */
const staleness = (d1: D1Binding, q: { siteId: number; zoneId: number; now: number; staleAfter: number }) =>
  statement(
    d1,
    sql`SELECT z.last_success_at AS lastSuccessAt
        FROM zone_imports z JOIN tasks t ON t.site_id = ${q.siteId} AND t.task = 'parkmobile' AND t.enabled = 1
        WHERE z.lot_zone_id = ${q.zoneId} AND z.last_success_at < ${q.now - q.staleAfter}`,
  );

/**
 * Every permit in a zone's list at `now` (started, not deleted, ended less
 * than `graceSeconds` ago at most), with the change log's high-water mark
 * and the zone's import staleness, in one batch (one snapshot, so no change
 * can fall between the list and the mark). One seek of
 * `permits_zone_live (site_id, lot_zone_id, end_at, …)`.
 */
export async function zoneList(
  d1: D1Binding,
  q: { siteId: number; zoneId: number; now: number; graceSeconds: number; staleAfter: number },
): Promise<FeedRead> {
  const [stale, mark, list] = await d1.batch<Record<string, unknown>>([
    staleness(d1, q),
    highWaterMark(d1),
    statement(
      d1,
      sql`SELECT ${columns} FROM permits p INDEXED BY permits_zone_live
          WHERE p.site_id = ${q.siteId} AND p.lot_zone_id = ${q.zoneId} AND p.end_at > ${q.now - q.graceSeconds}
            AND p.start_at <= ${q.now} AND p.deleted_at IS NULL`,
    ),
  ]);
  return {
    seq: Number(mark?.results[0]?.seq ?? 0),
    permits: (list?.results ?? []) as unknown as FeedPermit[],
    staleSince: (stale?.results[0]?.lastSuccessAt as number | undefined) ?? null,
  };
}

/** The permit types, for the start-time seek of `permits_site_start (site_id, type, start_at)`: every type must be listed. */
const ALL_TYPES = sql.raw(permits.type.enumValues.map((t) => `'${t}'`).join(", "));

/**
 * Every permit whose place in zone `zoneId`'s list may have changed since a
 * token's position (`since.seq` in the log, `since.at` in time) up to `now`,
 * in its current state, with the new high-water mark and the zone's import
 * staleness, in one batch. One statement, three index seeks:
 * - the log: `permit_changes_zone (lot_zone_id, seq, permit_id)` after `seq`
 *   (created, extended, shortened, deleted, re-plated, moved in or out);
 * - expiries: `permits_zone_live` for ends that crossed `since.at - grace`
 *   to `now - grace` without a write;
 * - starts: `permits_site_start` for starts that crossed `since.at` to `now`.
 *
 * The caller sorts them into what the list holds now and what left it.
 */
export async function zoneChanges(
  d1: D1Binding,
  q: { siteId: number; zoneId: number; since: { seq: number; at: number }; now: number; graceSeconds: number; staleAfter: number },
): Promise<FeedRead> {
  const { siteId, zoneId, since, now, graceSeconds } = q;
  const [stale, mark, changed] = await d1.batch<Record<string, unknown>>([
    staleness(d1, q),
    highWaterMark(d1),
    statement(
      d1,
      sql`SELECT ${columns} FROM permits p WHERE p.id IN (
            SELECT permit_id FROM permit_changes WHERE lot_zone_id = ${zoneId} AND seq > ${since.seq}
            UNION
            SELECT id FROM permits INDEXED BY permits_zone_live
             WHERE site_id = ${siteId} AND lot_zone_id = ${zoneId} AND deleted_at IS NULL
               AND end_at > ${since.at - graceSeconds} AND end_at <= ${now - graceSeconds}
            UNION
            SELECT id FROM permits INDEXED BY permits_site_start
             WHERE site_id = ${siteId} AND type IN (${ALL_TYPES}) AND start_at > ${since.at} AND start_at <= ${now}
               AND lot_zone_id = ${zoneId})`,
    ),
  ]);
  return {
    seq: Number(mark?.results[0]?.seq ?? 0),
    permits: (changed?.results ?? []) as unknown as FeedPermit[],
    staleSince: (stale?.results[0]?.lastSuccessAt as number | undefined) ?? null,
  };
}

/**
 * The lot zones among `zoneIds` whose permits cannot be known now: the site
 * imports them from ParkMobile (task enabled, the zone imported at least
 * once) and the last successful import is older than `staleAfter` seconds.
 */
export async function staleImportZones(
  d1: D1Binding,
  q: { siteId: number; zoneIds: number[]; now: number; staleAfter: number },
): Promise<{ lotZoneId: number; lastSuccessAt: number }[]> {
  if (q.zoneIds.length === 0) return [];
  const { results } = await statement(
    d1,
    sql`SELECT z.lot_zone_id AS lotZoneId, z.last_success_at AS lastSuccessAt
        FROM zone_imports z JOIN tasks t ON t.site_id = ${q.siteId} AND t.task = 'parkmobile' AND t.enabled = 1
        WHERE z.lot_zone_id IN (SELECT value FROM json_each(${JSON.stringify(q.zoneIds)}))
          AND z.last_success_at < ${q.now - q.staleAfter}`,
  ).all<{ lotZoneId: number; lastSuccessAt: number }>();
  return results;
}
