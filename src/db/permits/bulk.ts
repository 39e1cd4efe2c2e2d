import { sql } from "drizzle-orm";
import { type Changes, creationChanges, type NewPermit, receiptOf, type SourceRecord } from "../../domain/permit";
import { jsonRows, statement } from "../client";
import { permitColumns } from "./reads";
import type { PermitRecord, PermitWrite } from "./versions";

/**
 * Many permits at once: the standard-permit import and the ParkMobile sync.
 * Rows travel as one JSON array per statement, read with `json_each`, so no
 * statement comes near D1's 100 bound parameters whatever the row count
 * (raw SQL for that reason: drizzle has no INSERT … SELECT FROM json_each).
 */

/** D1 allows 2 MB per bound string: rows travel as JSON in chunks well under it. */
const ROWS_PER_STATEMENT = 1_000;

/** A row to insert; `lotZoneId` when its lot zone was resolved already (by number), else its zone name is matched. */
type InsertRow = Omit<NewPermit, "siteId"> & { id: string; lotZoneId?: number };

/**
 * What the source sent of a record, as {@link syncSourceRecords} compares it with what is stored. The stored columns
 * compared are the ones the trigger `permits_parkmobile_update` watches (migration 0013; the suite checks they agree).
 */
const sent = jsonRows(["externalId", "plate", "plateNorm", "plateState", "startAt", "endAt", "amountCents", "modifiedAt"]);

/** Part of every digest: changing what {@link syncSourceRecords} compares must change this, so no old digest matches. */
const SENT_DIGEST_VERSION = "compare v1";

/**
 * A digest (SHA-256, hex) of what a source sent for one zone, as {@link syncSourceRecords} compares it: the records'
 * compared values in source-id order, with the zone and currency they would be written with. The same digest means
 * the same comparison, so the ParkMobile import skips a zone sent what it last found stored as sent.
 */
export async function sentDigest(
  zone: { zoneName: string; lotZoneId: number; currency: string | null },
  records: readonly SourceRecord[],
): Promise<string> {
  const ordered = [...records].sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0));
  const text = `${SENT_DIGEST_VERSION}\n${JSON.stringify([zone.zoneName, zone.lotZoneId, zone.currency])}\n${sent.json(ordered)}`;
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A changed record's new values, its version read and its history event's changes ({@link syncSourceRecords}). */
const changed = jsonRows([
  "id",
  "version",
  "changes",
  "plate",
  "plateNorm",
  "plateState",
  "startAt",
  "endAt",
  "amountCents",
  "sourceModifiedAt",
]);

/** The values a new permit's row carries into {@link insertStatements}. */
const inserted = jsonRows([
  "id",
  "type",
  "source",
  "plate",
  "plateNorm",
  "plateState",
  "zoneName",
  "lotZoneId",
  "amountCents",
  "currency",
  "startAt",
  "endAt",
  "permitNo",
  "ticketNumber",
  "promoCode",
  "receipt",
  "externalId",
  "sourceModifiedAt",
  "changes",
]);

/**
 * The statements inserting many permits and their creation events. A row
 * whose live receipt key or source id already exists is skipped (`ON CONFLICT
 * DO NOTHING`), and only rows actually inserted get an event.
 */
function insertStatements(
  d1: D1Database,
  siteId: number,
  rows: InsertRow[],
  ctx: { actor: string; now: number; writes?: boolean },
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  // The rows as stored when the caller wants what was written (for webhooks); their ids otherwise.
  const returning = ctx.writes ? permitColumns() : sql`id`;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT).map(({ id, ...r }) => ({
      id,
      ...r,
      receipt: receiptOf(r),
      changes: JSON.stringify(creationChanges(r)),
    }));
    const json = inserted.json(chunk);
    statements.push(
      statement(
        d1,
        sql`INSERT INTO permits (id, site_id, type, source, plate, plate_norm, plate_state, zone_name, lot_zone_id, amount_cents, currency,
                                 start_at, end_at, permit_no, ticket_number, promo_code, receipt, external_id, source_modified_at,
                                 version, created_at, updated_at)
            SELECT ${inserted("id")}, ${siteId}, ${inserted("type")}, ${inserted("source")}, ${inserted("plate")}, ${inserted("plateNorm")}, ${inserted("plateState")}, ${inserted("zoneName")},
                   COALESCE((SELECT z.id FROM lot_zones z WHERE z.site_id = ${siteId} AND z.id = ${inserted("lotZoneId")}),
                            (SELECT z.id FROM lot_zones z WHERE z.site_id = ${siteId} AND z.name = ${inserted("zoneName")})),
                   ${inserted("amountCents")}, ${inserted("currency")}, ${inserted("startAt")}, ${inserted("endAt")}, ${inserted("permitNo")},
                   ${inserted("ticketNumber")}, ${inserted("promoCode")}, ${inserted("receipt")}, ${inserted("externalId")}, ${inserted("sourceModifiedAt")},
                   1, ${ctx.now}, ${ctx.now}
            FROM json_each(${json}) j WHERE true
            ON CONFLICT DO NOTHING
            RETURNING ${returning}`,
      ),
      statement(
        d1,
        sql`INSERT INTO permit_events (permit_id, site_id, version, action, changes, actor, at)
            SELECT ${inserted("id")}, ${siteId}, 1, 'create', ${inserted("changes")}, ${ctx.actor}, ${ctx.now}
            FROM json_each(${json}) j WHERE EXISTS (SELECT 1 FROM permits p WHERE p.id = ${inserted("id")})
            ON CONFLICT DO NOTHING`,
      ),
    );
  }
  return statements;
}

/** The creation writes of the rows a batch's inserts returned (every other statement, from the first), for webhooks. */
function insertedWrites(results: D1Result<PermitRecord>[], upTo: number, rows: InsertRow[], ctx: { actor: string; now: number }) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return results.slice(0, upTo).flatMap((r, k) =>
    k % 2 === 0
      ? r.results.map((permit): PermitWrite => {
          const { id: _id, ...values } = byId.get(permit.id) as InsertRow;
          return { permit, action: "create", changes: creationChanges(values), actor: ctx.actor, at: ctx.now };
        })
      : [],
  );
}

/**
 * Inserts many permits and their creation events in ONE batch (one
 * transaction: all or nothing); see {@link insertStatements}. Rows already
 * present are skipped, which makes a repeated import a no-op. Returns the
 * ids actually inserted, in the order of `rows`, and (with `ctx.writes`) what
 * was written, for webhooks.
 */
export async function insertPermits(
  d1: D1Database,
  siteId: number,
  rows: InsertRow[],
  ctx: { actor: string; now: number; writes?: boolean },
): Promise<{ ids: string[]; writes: PermitWrite[] }> {
  if (rows.length === 0) return { ids: [], writes: [] };
  const ids = JSON.stringify(rows.map((r) => r.id));
  const statements = insertStatements(d1, siteId, rows, ctx);
  const results = await d1.batch<PermitRecord>([
    ...statements,
    statement(d1, sql`SELECT id FROM permits WHERE id IN (SELECT value FROM json_each(${ids}))`),
  ]);
  const inserted = new Set((results.at(-1)?.results ?? []).map((r) => r.id));
  return {
    ids: rows.flatMap((r) => (inserted.has(r.id) ? [r.id] : [])),
    writes: ctx.writes ? insertedWrites(results, statements.length, rows, ctx) : [],
  };
}

/**
 * Brings a site's records from one source in one lot zone up to date with
 * what the source sent, in one read and one batch (one transaction):
 * unknown records are inserted; known ones whose values changed (and whose
 * source modification is not older than ours) get a new version and a
 * history event, guarded by a version compare-and-set; the rest write
 * nothing. Safe to repeat: a run that died half-way left either all or none
 * of a batch, and the unique source-id index absorbs a replay. `equal` says
 * the comparison found nothing to write: every record stored as sent (or
 * deleted, or stored from a newer modification).
 */
export async function syncSourceRecords(
  d1: D1Database,
  input: {
    siteId: number;
    source: string;
    /** The zone as the source names it (kept as the records' raw zone name). */
    zoneName: string;
    /** The lot zone that name was resolved to (by number, else by name). */
    lotZoneId: number;
    currency: string | null;
    records: SourceRecord[];
    actor: string;
    now: number;
    /** Answer what was written too (`writes`), for webhooks. */
    writes?: boolean;
  },
): Promise<{ created: number; updated: number; unchanged: number; equal: boolean; writes?: PermitWrite[] }> {
  const { siteId, source, records, now } = input;
  if (records.length === 0) return { created: 0, updated: 0, unchanged: 0, equal: true };
  // What the source sent, compared with what is stored inside the read: only unknown records (no `id`) and
  // changed ones come back, so a run that changes nothing reads no rows. `k` is the record's index in `records`.
  const { results: differing } = await statement(
    d1,
    sql`SELECT j.key AS k, p.id, p.plate, p.plate_norm AS plateNorm, p.plate_state AS plateState, p.start_at AS startAt,
               p.end_at AS endAt, p.amount_cents AS amountCents, p.source_modified_at AS sourceModifiedAt, p.version,
               p.deleted_at AS deletedAt
        FROM json_each(${sent.json(records)}) j
        LEFT JOIN permits p ON p.site_id = ${siteId} AND p.source = ${source} AND p.external_id = ${sent("externalId")}
        WHERE p.id IS NULL
           OR (p.deleted_at IS NULL
               AND NOT (${sent("modifiedAt")} IS NOT NULL AND p.source_modified_at IS NOT NULL AND ${sent("modifiedAt")} < p.source_modified_at)
               AND (p.plate IS NOT ${sent("plate")} OR p.plate_norm IS NOT ${sent("plateNorm")} OR p.plate_state IS NOT ${sent("plateState")}
                    OR p.start_at IS NOT ${sent("startAt")} OR p.end_at IS NOT ${sent("endAt")} OR p.amount_cents IS NOT ${sent("amountCents")}))`,
  ).all<
    { k: number; id: string | null } & Pick<
      PermitRecord,
      "plate" | "plateNorm" | "plateState" | "startAt" | "endAt" | "amountCents" | "sourceModifiedAt" | "version" | "deletedAt"
    >
  >();
  const inserts: InsertRow[] = [];
  const updates: (Omit<SourceRecord, "modifiedAt" | "externalId"> & {
    id: string;
    version: number;
    /** JSON text (see {@link jsonRows}). */
    changes: string;
    sourceModifiedAt: number | null;
  })[] = [];
  let unchanged = records.length - differing.length;
  for (const { k, id, ...row } of differing) {
    const r = records[k] as SourceRecord;
    if (id === null) {
      inserts.push({
        id: crypto.randomUUID(),
        type: "temp",
        source,
        plate: r.plate,
        plateNorm: r.plateNorm,
        plateState: r.plateState,
        zoneName: input.zoneName,
        lotZoneId: input.lotZoneId,
        amountCents: r.amountCents,
        currency: r.amountCents === null ? null : input.currency,
        startAt: r.startAt,
        endAt: r.endAt,
        permitNo: null,
        ticketNumber: null,
        promoCode: null,
        externalId: r.externalId,
        sourceModifiedAt: r.modifiedAt,
      });
      continue;
    }
    const changes: Changes = {};
    for (const name of ["plate", "plateNorm", "plateState", "startAt", "endAt", "amountCents"] as const) {
      if (row[name] !== r[name]) changes[name] = [row[name], r[name]];
    }
    const stale = r.modifiedAt !== null && row.sourceModifiedAt !== null && r.modifiedAt < row.sourceModifiedAt;
    if (Object.keys(changes).length === 0 || stale || row.deletedAt !== null) {
      unchanged++;
      continue;
    }
    if (r.modifiedAt !== row.sourceModifiedAt) changes.sourceModifiedAt = [row.sourceModifiedAt, r.modifiedAt];
    updates.push({
      id,
      version: row.version,
      changes: JSON.stringify(changes),
      plate: r.plate,
      plateNorm: r.plateNorm,
      plateState: r.plateState,
      startAt: r.startAt,
      endAt: r.endAt,
      amountCents: r.amountCents,
      sourceModifiedAt: r.modifiedAt,
    });
  }

  const ctx = { actor: input.actor, now, writes: input.writes };
  const statements = insertStatements(d1, siteId, inserts, ctx);
  const insertCount = statements.length;
  const updateReturning = input.writes ? permitColumns("permits.") : sql`permits.id`;
  for (let i = 0; i < updates.length; i += ROWS_PER_STATEMENT) {
    const json = changed.json(updates.slice(i, i + ROWS_PER_STATEMENT));
    statements.push(
      statement(
        d1,
        sql`UPDATE permits SET plate = ${changed("plate")}, plate_norm = ${changed("plateNorm")}, plate_state = ${changed("plateState")}, start_at = ${changed("startAt")},
                   end_at = ${changed("endAt")}, amount_cents = ${changed("amountCents")}, source_modified_at = ${changed("sourceModifiedAt")},
                   version = permits.version + 1, updated_at = ${now}
            FROM json_each(${json}) j
            WHERE permits.id = ${changed("id")} AND permits.version = ${changed("version")}
            RETURNING ${updateReturning}`,
      ),
      statement(
        d1,
        sql`INSERT INTO permit_events (permit_id, site_id, version, action, changes, actor, at)
            SELECT ${changed("id")}, ${siteId}, ${changed("version")} + 1, 'update', ${changed("changes")}, ${input.actor}, ${now}
            FROM json_each(${json}) j
            WHERE EXISTS (SELECT 1 FROM permits p WHERE p.id = ${changed("id")} AND p.version = ${changed("version")} + 1 AND p.updated_at = ${now})
            ON CONFLICT DO NOTHING`,
      ),
    );
  }
  if (statements.length === 0) return { created: 0, updated: 0, unchanged, equal: true, ...(input.writes ? { writes: [] } : {}) };
  const results = await d1.batch<PermitRecord>(statements);
  // Rows counted from RETURNING, not meta.changes: D1 counts the rows the feed's triggers write too.
  const sum = (from: number, to: number) =>
    results.slice(from, to).reduce((n, r, k) => n + ((from + k) % 2 === 0 ? r.results.length : 0), 0);
  const created = sum(0, insertCount);
  const updated = sum(insertCount, results.length);
  // Rows skipped by a conflict (a replay) or a lost compare-and-set count as unchanged: the next run sees them again.
  const counts = { created, updated, unchanged: unchanged + (inserts.length - created) + (updates.length - updated), equal: false };
  if (!input.writes) return counts;
  const changesOf = new Map(updates.map((u) => [u.id, JSON.parse(u.changes) as Changes]));
  const updatedWrites = results.slice(insertCount).flatMap((r, k) =>
    k % 2 === 0
      ? r.results.map(
          (permit): PermitWrite => ({
            permit,
            action: "update",
            changes: changesOf.get(permit.id) ?? {},
            actor: input.actor,
            at: now,
          }),
        )
      : [],
  );
  return { ...counts, writes: [...insertedWrites(results, insertCount, inserts, ctx), ...updatedWrites] };
}
