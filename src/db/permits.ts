import { asc, eq, sql } from "drizzle-orm";
import { type Database, statement } from "./client";
import { lotZones, permitEvents, permits, sites } from "./schema";

/** A permit to create, already validated and normalized. */
export interface NewPermit {
  siteId: number;
  type: "temp" | "standard";
  source: string;
  plate: string;
  plateNorm: string;
  zoneName: string | null;
  amountCents: number | null;
  currency: string | null;
  startAt: number;
  endAt: number;
  permitNo: string | null;
  ticketNumber: string | null;
  promoCode: string | null;
  /** The record's id at its source (ParkMobile's parkingRightId), for imported records. */
  externalId?: string | null;
  /** When the source last changed it. */
  sourceModifiedAt?: number | null;
}

export interface PushOutcome {
  reference: string;
  /** False when the push was a retry and an earlier record answered it. */
  created: boolean;
  /** True when the zone named no lot zone of the site. */
  disconnected: boolean;
}

/** An Idempotency-Key and the hash of the request it came with. */
export interface Idempotency {
  key: string;
  requestHash: string;
}

/** How long an Idempotency-Key replays its first answer. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

/**
 * The receipt part of a permit's natural key (receipt, plate, start), unique
 * among live records of a site: a push's permitNo, else its TicketNumber
 * (a push with neither has no key and is never merged). A standard permit
 * without a number still has one (""): an admin import run twice must not
 * double the site's long-term permits.
 */
export function receiptOf(p: Pick<NewPermit, "permitNo" | "ticketNumber" | "type">): string | null {
  return p.permitNo ?? p.ticketNumber ?? (p.type === "standard" ? "" : null);
}

export class IdempotencyConflict extends Error {}

/**
 * Stores a pushed permit and its first history event in ONE D1 batch (one
 * round trip, one transaction), matching the zone against the site's lot
 * zones inside the write so a zone added a moment ago counts at once.
 *
 * Retries are absorbed inside the same batch: an Idempotency-Key row claims
 * the new reference first (a key older than the window is taken over); the
 * permit is inserted only if that claim won, and `ON CONFLICT DO NOTHING` on
 * the live-receipt unique index turns a retry without a key into a no-op.
 * Without a key, the insert's RETURNING answers a new push; only a retry
 * needs a second query to find the record it repeats.
 *
 * Throws {@link IdempotencyConflict} when the key was used with another request.
 */
export async function pushPermit(
  d1: D1Database,
  p: NewPermit,
  ctx: { actor: string; tokenId: string; now: number; touchToken: boolean; idempotency?: Idempotency },
): Promise<PushOutcome> {
  const id = crypto.randomUUID();
  const receipt = receiptOf(p);
  const { now, idempotency } = ctx;
  const changes = JSON.stringify(
    Object.fromEntries(
      Object.entries({ ...p, siteId: undefined }).flatMap(([k, v]) => (v === null || v === undefined ? [] : [[k, [null, v]]])),
    ),
  );
  type Found = { id: string; lot_zone_id: number | null; zone_name: string | null };
  const outcome = (row: Found): PushOutcome => ({
    reference: row.id,
    created: row.id === id,
    disconnected: row.zone_name !== null && row.lot_zone_id === null,
  });

  const claimWon = idempotency
    ? sql`EXISTS (SELECT 1 FROM idempotency_keys WHERE site_id = ${p.siteId} AND key = ${idempotency.key} AND permit_id = ${id})`
    : sql`1`;
  const insertPermit = statement(
    d1,
    sql`
    INSERT INTO permits (id, site_id, type, source, plate, plate_norm, zone_name, lot_zone_id, amount_cents, currency,
                         start_at, end_at, permit_no, ticket_number, promo_code, receipt, version, created_at, updated_at)
    SELECT ${id}, ${p.siteId}, ${p.type}, ${p.source}, ${p.plate}, ${p.plateNorm}, ${p.zoneName},
           (SELECT id FROM lot_zones WHERE site_id = ${p.siteId} AND name = ${p.zoneName}),
           ${p.amountCents}, ${p.currency}, ${p.startAt}, ${p.endAt}, ${p.permitNo}, ${p.ticketNumber}, ${p.promoCode},
           ${receipt}, 1, ${now}, ${now}
    WHERE ${claimWon}
    ON CONFLICT DO NOTHING
    RETURNING id, lot_zone_id, zone_name`,
  );
  const insertEvent = statement(
    d1,
    sql`
    INSERT INTO permit_events (permit_id, version, action, changes, actor, at)
    SELECT id, 1, 'create', ${changes}, ${ctx.actor}, ${now} FROM permits WHERE id = ${id}`,
  );
  // The token's last use, at most once a minute, in the same round trip; the caller skips it when it touched lately.
  const touch = ctx.touchToken
    ? [
        statement(
          d1,
          sql`UPDATE api_tokens SET last_used_at = ${now} WHERE id = ${ctx.tokenId} AND (last_used_at IS NULL OR last_used_at < ${now - 60})`,
        ),
      ]
    : [];
  const liveReceipt = sql`site_id = ${p.siteId} AND receipt = ${receipt} AND plate_norm = ${p.plateNorm}
                          AND start_at = ${p.startAt} AND deleted_at IS NULL`;

  if (!idempotency) {
    const [inserted] = await d1.batch<Found>([insertPermit, insertEvent, ...touch]);
    const row = inserted?.results[0];
    if (row) return outcome(row);
    // A retry: the receipt matched a live record.
    const existing = await statement(d1, sql`SELECT id, lot_zone_id, zone_name FROM permits WHERE ${liveReceipt}`).first<Found>();
    if (!existing) throw new Error("push neither inserted nor matched a live receipt");
    return outcome(existing);
  }

  const { key, requestHash } = idempotency;
  const results = await d1.batch<Found & { request_hash: string }>([
    statement(
      d1,
      sql`
      INSERT INTO idempotency_keys (site_id, key, request_hash, permit_id, created_at)
      VALUES (${p.siteId}, ${key}, ${requestHash}, ${id}, ${now})
      ON CONFLICT (site_id, key) DO UPDATE
        SET request_hash = excluded.request_hash, permit_id = excluded.permit_id, created_at = excluded.created_at
        WHERE idempotency_keys.created_at <= ${now - IDEMPOTENCY_WINDOW_SECONDS}`,
    ),
    insertPermit,
    insertEvent,
    // The claim won but the receipt matched a live record: the key answers with that record.
    statement(
      d1,
      sql`
      UPDATE idempotency_keys SET permit_id = (SELECT id FROM permits WHERE ${liveReceipt})
      WHERE site_id = ${p.siteId} AND key = ${key} AND permit_id = ${id}
        AND NOT EXISTS (SELECT 1 FROM permits WHERE id = ${id})
        AND EXISTS (SELECT 1 FROM permits WHERE ${liveReceipt})`,
    ),
    statement(
      d1,
      sql`
      SELECT i.request_hash, i.permit_id AS id, p.lot_zone_id, p.zone_name
      FROM idempotency_keys i LEFT JOIN permits p ON p.id = i.permit_id
      WHERE i.site_id = ${p.siteId} AND i.key = ${key}`,
    ),
    ...touch,
  ]);
  const row = results[4]?.results[0];
  if (!row) throw new Error("push batch returned no idempotency record");
  if (row.request_hash !== requestHash) throw new IdempotencyConflict();
  return outcome(row);
}

/** The fields an update may change, already validated and normalized. */
export interface PermitChange {
  plate?: string;
  plateNorm?: string;
  amountCents?: number;
  /** Set with or without an amount; an amount alone keeps the record's currency (or takes `defaultCurrency`). */
  currency?: string;
  endAt?: number;
}

/** An update of one permit, as the Worker hands it to the permit's Durable Object. */
export interface UpdateRequest {
  siteId: number;
  reference: string;
  change: PermitChange;
  /** For an amount sent without a currency on a record that has none. */
  defaultCurrency: string | null;
  /** The name the client used for the end, for the error message. */
  endField: string;
  actor: string;
}

/** A delete of one permit. */
export interface DeleteRequest {
  siteId: number;
  reference: string;
  actor: string;
}

/** What a serialized write answers: the version now stored, or an error to raise (errors do not cross RPC as classes). */
export type WriteResult =
  | { ok: true; version: number; changed: boolean }
  | { ok: false; code: 9005 | 9009; message: string; field?: string };

interface PermitRow {
  id: string;
  site_id: number;
  plate: string;
  plate_norm: string;
  amount_cents: number | null;
  currency: string | null;
  start_at: number;
  end_at: number;
  version: number;
  deleted_at: number | null;
}

/** A compare-and-set lost to another writer this many times in a row is reported, not retried forever. */
const CAS_ATTEMPTS = 5;

const notFound = (reference: string): WriteResult => ({
  ok: false,
  code: 9009,
  message: `No permit ${reference} on this site.`,
  field: "referenceID",
});

async function readPermit(d1: D1Database, reference: string): Promise<PermitRow | null> {
  return d1
    .prepare(
      "SELECT id, site_id, plate, plate_norm, amount_cents, currency, start_at, end_at, version, deleted_at FROM permits WHERE id = ?",
    )
    .bind(reference)
    .first<PermitRow>();
}

/**
 * Writes one new version of a permit: `UPDATE … WHERE version = <read>` and
 * the history event in one batch, the event inserted only if the update
 * changed a row. Returns false when another writer got there first.
 */
async function compareAndSet(
  d1: D1Database,
  row: PermitRow,
  set: Record<string, number | string | null>,
  event: { action: "update" | "delete"; changes: Record<string, [unknown, unknown]>; actor: string; now: number },
): Promise<boolean> {
  const columns = Object.keys(set);
  const assignments = sql.join(
    columns.map((c) => sql`${sql.identifier(c)} = ${set[c]}`),
    sql`, `,
  );
  const [update] = await d1.batch([
    statement(
      d1,
      sql`UPDATE permits SET ${assignments}, version = version + 1, updated_at = ${event.now}
          WHERE id = ${row.id} AND version = ${row.version}`,
    ),
    // changes() is the row count of the statement before, in the same transaction.
    statement(
      d1,
      sql`INSERT INTO permit_events (permit_id, version, action, changes, actor, at)
          SELECT ${row.id}, ${row.version + 1}, ${event.action}, ${JSON.stringify(event.changes)}, ${event.actor}, ${event.now}
          WHERE changes() = 1`,
    ),
  ]);
  return update?.meta.changes === 1;
}

/**
 * Applies an update to a live permit of the site as the next version. Call it
 * through {@link import("../durable/permit-sequencer").PermitSequencer}, which
 * runs the calls for one reference one at a time; the compare-and-set keeps
 * it correct even if two objects ever ran for one reference.
 */
export async function updatePermit(d1: D1Database, input: UpdateRequest & { now: number }): Promise<WriteResult> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const row = await readPermit(d1, input.reference);
    if (!row || row.site_id !== input.siteId || row.deleted_at !== null) return notFound(input.reference);
    const { change } = input;
    if (change.endAt !== undefined && change.endAt <= row.start_at) {
      return { ok: false, code: 9005, message: `${input.endField} must be after the permit's start.`, field: input.endField };
    }
    const next: Record<string, number | string | null> = {
      plate: change.plate ?? row.plate,
      plate_norm: change.plateNorm ?? row.plate_norm,
      amount_cents: change.amountCents ?? row.amount_cents,
      currency: change.currency ?? (change.amountCents !== undefined ? (row.currency ?? input.defaultCurrency) : row.currency),
      end_at: change.endAt ?? row.end_at,
    };
    const set: Record<string, number | string | null> = {};
    const changes: Record<string, [unknown, unknown]> = {};
    for (const [column, value] of Object.entries(next)) {
      const before = row[column as keyof PermitRow];
      if (before === value) continue;
      set[column] = value;
      changes[camel(column)] = [before, value];
    }
    if (Object.keys(set).length === 0) return { ok: true, version: row.version, changed: false };
    if (await compareAndSet(d1, row, set, { action: "update", changes, actor: input.actor, now: input.now })) {
      return { ok: true, version: row.version + 1, changed: true };
    }
  }
  throw new Error(`permit ${input.reference}: compare-and-set lost ${CAS_ATTEMPTS} times in a row`);
}

/** Marks a permit of the site deleted, as the next version; deleting it again answers success with the same version. */
export async function deletePermit(d1: D1Database, input: DeleteRequest & { now: number }): Promise<WriteResult> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const row = await readPermit(d1, input.reference);
    if (!row || row.site_id !== input.siteId) return notFound(input.reference);
    if (row.deleted_at !== null) return { ok: true, version: row.version, changed: false };
    const changes = { deletedAt: [null, input.now] as [unknown, unknown] };
    if (await compareAndSet(d1, row, { deleted_at: input.now }, { action: "delete", changes, actor: input.actor, now: input.now })) {
      return { ok: true, version: row.version + 1, changed: true };
    }
  }
  throw new Error(`permit ${input.reference}: compare-and-set lost ${CAS_ATTEMPTS} times in a row`);
}

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** D1 allows 2 MB per bound string: rows travel as JSON in chunks well under it. */
const ROWS_PER_STATEMENT = 1_000;

type InsertRow = Omit<NewPermit, "siteId"> & { id: string };

/**
 * The statements inserting many permits and their creation events. Each binds
 * a single JSON array read with `json_each`, so no statement comes near D1's
 * 100 bound parameters whatever the row count. A row whose live receipt key
 * or source id already exists is skipped (`ON CONFLICT DO NOTHING`), and only
 * rows actually inserted get an event.
 */
function insertStatements(d1: D1Database, siteId: number, rows: InsertRow[], ctx: { actor: string; now: number }): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT).map((r) => ({
      ...r,
      receipt: receiptOf(r),
      changes: JSON.stringify(
        Object.fromEntries(Object.entries(r).flatMap(([k, v]) => (v === null || v === undefined || k === "id" ? [] : [[k, [null, v]]]))),
      ),
    }));
    const json = JSON.stringify(chunk);
    statements.push(
      statement(
        d1,
        sql`INSERT INTO permits (id, site_id, type, source, plate, plate_norm, zone_name, lot_zone_id, amount_cents, currency,
                                 start_at, end_at, permit_no, ticket_number, promo_code, receipt, external_id, source_modified_at,
                                 version, created_at, updated_at)
            SELECT ${field("id")}, ${siteId}, ${field("type")}, ${field("source")}, ${field("plate")}, ${field("plateNorm")}, ${field("zoneName")},
                   (SELECT z.id FROM lot_zones z WHERE z.site_id = ${siteId} AND z.name = ${field("zoneName")}),
                   ${field("amountCents")}, ${field("currency")}, ${field("startAt")}, ${field("endAt")}, ${field("permitNo")},
                   ${field("ticketNumber")}, ${field("promoCode")}, ${field("receipt")}, ${field("externalId")}, ${field("sourceModifiedAt")},
                   1, ${ctx.now}, ${ctx.now}
            FROM json_each(${json}) j WHERE true
            ON CONFLICT DO NOTHING`,
      ),
      statement(
        d1,
        sql`INSERT INTO permit_events (permit_id, version, action, changes, actor, at)
            SELECT ${field("id")}, 1, 'create', ${field("changes")}, ${ctx.actor}, ${ctx.now}
            FROM json_each(${json}) j WHERE EXISTS (SELECT 1 FROM permits p WHERE p.id = ${field("id")})
            ON CONFLICT DO NOTHING`,
      ),
    );
  }
  return statements;
}

/** A field of the JSON row `j.value` in a `json_each` statement. */
const field = (name: string) => sql.raw(`json_extract(j.value, '$.${name}')`);

/**
 * Inserts many permits and their creation events in ONE batch (one
 * transaction: all or nothing); see {@link insertStatements}. Rows already
 * present are skipped, which makes a repeated import a no-op. Returns the
 * ids actually inserted.
 */
export async function insertPermits(
  d1: D1Database,
  siteId: number,
  rows: InsertRow[],
  ctx: { actor: string; now: number },
): Promise<string[]> {
  if (rows.length === 0) return [];
  const ids = JSON.stringify(rows.map((r) => r.id));
  const results = await d1.batch<{ id: string }>([
    ...insertStatements(d1, siteId, rows, ctx),
    statement(d1, sql`SELECT id FROM permits WHERE id IN (SELECT value FROM json_each(${ids}))`),
  ]);
  return (results.at(-1)?.results ?? []).map((r) => r.id);
}

/** An imported record as the source sends it, already checked. */
export interface SourceRecord {
  externalId: string;
  plate: string;
  plateNorm: string;
  startAt: number;
  endAt: number;
  amountCents: number | null;
  modifiedAt: number | null;
}

/**
 * Brings a site's records from one source in one lot zone up to date with
 * what the source sent, in one read and one batch (one transaction):
 * unknown records are inserted; known ones whose values changed (and whose
 * source modification is not older than ours) get a new version and a
 * history event, guarded by a version compare-and-set; the rest write
 * nothing. Bulk statements bind one JSON array each (D1's 100-parameter
 * limit). Safe to repeat: a run that died half-way left either all or none
 * of a batch, and the unique source-id index absorbs a replay.
 */
export async function syncSourceRecords(
  d1: D1Database,
  input: { siteId: number; source: string; zoneName: string; currency: string | null; records: SourceRecord[]; actor: string; now: number },
): Promise<{ created: number; updated: number; unchanged: number }> {
  const { siteId, source, records, now } = input;
  if (records.length === 0) return { created: 0, updated: 0, unchanged: 0 };
  const ids = JSON.stringify(records.map((r) => r.externalId));
  const { results: existing } = await statement(
    d1,
    sql`SELECT id, external_id, plate, plate_norm, start_at, end_at, amount_cents, source_modified_at, version, deleted_at
        FROM permits WHERE site_id = ${siteId} AND source = ${source} AND external_id IN (SELECT value FROM json_each(${ids}))`,
  ).all<{
    id: string;
    external_id: string;
    plate: string;
    plate_norm: string;
    start_at: number;
    end_at: number;
    amount_cents: number | null;
    source_modified_at: number | null;
    version: number;
    deleted_at: number | null;
  }>();
  const known = new Map(existing.map((e) => [e.external_id, e]));
  const inserts: InsertRow[] = [];
  const updates: {
    id: string;
    version: number;
    changes: string;
    plate: string;
    plateNorm: string;
    startAt: number;
    endAt: number;
    amountCents: number | null;
    sourceModifiedAt: number | null;
  }[] = [];
  let unchanged = 0;
  for (const r of records) {
    const row = known.get(r.externalId);
    if (!row) {
      inserts.push({
        id: crypto.randomUUID(),
        type: "temp",
        source,
        plate: r.plate,
        plateNorm: r.plateNorm,
        zoneName: input.zoneName,
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
    const changes: Record<string, [unknown, unknown]> = {};
    const compare: [string, unknown, unknown][] = [
      ["plate", row.plate, r.plate],
      ["plateNorm", row.plate_norm, r.plateNorm],
      ["startAt", row.start_at, r.startAt],
      ["endAt", row.end_at, r.endAt],
      ["amountCents", row.amount_cents, r.amountCents],
    ];
    for (const [name, before, after] of compare) if (before !== after) changes[name] = [before, after];
    const stale = r.modifiedAt !== null && row.source_modified_at !== null && r.modifiedAt < row.source_modified_at;
    if (Object.keys(changes).length === 0 || stale || row.deleted_at !== null) {
      unchanged++;
      continue;
    }
    if (r.modifiedAt !== row.source_modified_at) changes.sourceModifiedAt = [row.source_modified_at, r.modifiedAt];
    updates.push({ id: row.id, version: row.version, changes: JSON.stringify(changes), ...r, sourceModifiedAt: r.modifiedAt });
  }

  const statements = insertStatements(d1, siteId, inserts, { actor: input.actor, now });
  const insertCount = statements.length;
  for (let i = 0; i < updates.length; i += ROWS_PER_STATEMENT) {
    const json = JSON.stringify(updates.slice(i, i + ROWS_PER_STATEMENT));
    statements.push(
      statement(
        d1,
        sql`UPDATE permits SET plate = ${field("plate")}, plate_norm = ${field("plateNorm")}, start_at = ${field("startAt")},
                   end_at = ${field("endAt")}, amount_cents = ${field("amountCents")}, source_modified_at = ${field("sourceModifiedAt")},
                   version = permits.version + 1, updated_at = ${now}
            FROM json_each(${json}) j
            WHERE permits.id = ${field("id")} AND permits.version = ${field("version")}`,
      ),
      statement(
        d1,
        sql`INSERT INTO permit_events (permit_id, version, action, changes, actor, at)
            SELECT ${field("id")}, ${field("version")} + 1, 'update', ${field("changes")}, ${input.actor}, ${now}
            FROM json_each(${json}) j
            WHERE EXISTS (SELECT 1 FROM permits p WHERE p.id = ${field("id")} AND p.version = ${field("version")} + 1 AND p.updated_at = ${now})
            ON CONFLICT DO NOTHING`,
      ),
    );
  }
  if (statements.length === 0) return { created: 0, updated: 0, unchanged };
  const results = await d1.batch(statements);
  const sum = (from: number, to: number) => results.slice(from, to).reduce((n, r, k) => n + ((from + k) % 2 === 0 ? r.meta.changes : 0), 0);
  const created = sum(0, insertCount);
  const updated = sum(insertCount, results.length);
  // Rows skipped by a conflict (a replay) or a lost compare-and-set count as unchanged: the next run sees them again.
  return { created, updated, unchanged: unchanged + (inserts.length - created) + (updates.length - updated) };
}

/** A permit with its site, its lot zone's current name and its whole history, for admins; null if none. */
export async function permitWithHistory(db: Database, reference: string) {
  const [found, history] = await db.batch([
    db
      .select({ permit: permits, site: sites.slug, lotZone: lotZones.name })
      .from(permits)
      .innerJoin(sites, eq(sites.id, permits.siteId))
      .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
      .where(eq(permits.id, reference)),
    db.select().from(permitEvents).where(eq(permitEvents.permitId, reference)).orderBy(asc(permitEvents.version)),
  ]);
  const row = found[0];
  return row ? { ...row, history } : null;
}
