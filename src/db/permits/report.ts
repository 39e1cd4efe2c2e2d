import { sql } from "drizzle-orm";
import type { Changes } from "../../domain/permit";
import type { ReportEvent } from "../../domain/report";
import { statement } from "../client";

/** What a report reads: a site's history in `[from, to)`, perhaps of one zone or source. */
export interface ReportQuery {
  siteId: number;
  from: number;
  to: number;
  /** A lot zone's events, or those of the disconnected records that named a zone no lot zone has. */
  zone?: { lotZoneId: number } | { disconnected: string };
  source?: string;
}

/** One history event with its permit, as the report reads it: `ReportEvent` with its lot zone's time zone, if any. */
export type ReportEventRow = Omit<ReportEvent, "timeZone"> & { zoneTimeZone: string | null };

/** One statement reads at most a day of history: a filter that matches little never makes one statement scan the month. */
const SLICE_SECONDS = 86_400;

/**
 * A permit's value of `field` after the event `e` (its last event up to
 * `e` that set it): so a row shows the plate, amount and currency the
 * operation left, not those of a later change. Seeks the history's primary
 * key `(permit_id, version)` backwards; histories are a few events long.
 */
const asOf = (field: "plate" | "amountCents" | "currency") =>
  sql.raw(`(SELECT json_extract(h.changes, '$.${field}[1]') FROM permit_events h
            WHERE h.permit_id = e.permit_id AND h.version <= e.version AND json_type(h.changes, '$.${field}') IS NOT NULL
            ORDER BY h.version DESC LIMIT 1)`);

/**
 * Every history event of a site in `[from, to)`, oldest first (by time,
 * then reference and version), `batch` at a time: each batch one query
 * over the index `permit_events_site_at (site_id, at, permit_id, version)`
 * that seeks past the last row read (keyset, not OFFSET), within one day of
 * the range, so a month of a busy site costs the same per row at its end as
 * at its start and is never held whole in memory. Raw SQL for `INDEXED BY`,
 * the row-value keyset and the correlated reads of the values as of each
 * event.
 */
export async function* everyTransaction(d1: D1Database, q: ReportQuery, batch = 500): AsyncGenerator<ReportEventRow[]> {
  const zone =
    q.zone === undefined
      ? sql``
      : "lotZoneId" in q.zone
        ? sql`AND p.lot_zone_id = ${q.zone.lotZoneId}`
        : sql`AND p.lot_zone_id IS NULL AND p.zone_name = ${q.zone.disconnected}`;
  const source = q.source === undefined ? sql`` : sql`AND p.source = ${q.source}`;
  let sliceStart = q.from;
  let after: { at: number; reference: string; version: number } | undefined;
  while (sliceStart < q.to) {
    const sliceEnd = Math.min(q.to, sliceStart + SLICE_SECONDS);
    // Past the last row read: the row value alone, so SQLite seeks to it in the index rather than from the slice's start.
    const from = after
      ? sql`(e.at, e.permit_id, e.version) > (${after.at}, ${after.reference}, ${after.version})`
      : sql`e.at >= ${sliceStart}`;
    const { results } = await statement(
      d1,
      sql`SELECT e.permit_id AS reference, e.version, e.action, e.changes, e.actor, e.at,
                 p.type, p.source, p.owner IS NOT NULL AS session, COALESCE(${asOf("plate")}, p.plate) AS plate,
                 COALESCE(z.name, p.zone_name) AS zone, z.time_zone AS zoneTimeZone,
                 ${asOf("amountCents")} AS amountCents, ${asOf("currency")} AS currency,
                 p.permit_no AS permitNo, p.ticket_number AS ticketNumber
          FROM permit_events e INDEXED BY permit_events_site_at
          JOIN permits p ON p.id = e.permit_id
          LEFT JOIN lot_zones z ON z.id = p.lot_zone_id
          WHERE e.site_id = ${q.siteId} AND ${from} AND e.at < ${sliceEnd} ${zone} ${source}
          ORDER BY e.at, e.permit_id, e.version
          LIMIT ${batch}`,
    ).all<Omit<ReportEventRow, "changes" | "session"> & { changes: string; session: number }>();
    if (results.length > 0) {
      yield results.map((r) => ({ ...r, changes: JSON.parse(r.changes) as Changes, session: r.session === 1 }));
    }
    const last = results.at(-1);
    if (last && results.length === batch) {
      after = { at: last.at, reference: last.reference, version: last.version };
    } else {
      sliceStart = sliceEnd;
      after = undefined;
    }
  }
}
