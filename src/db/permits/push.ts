import { type SQL, sql } from "drizzle-orm";
import { creationChanges, isDisconnected, type NewPermit, receiptOf } from "../../domain/permit";
import { type D1Binding, database, statement } from "../client";
import { permits } from "../schema";
import { permitColumns } from "./reads";
import type { PermitRecord, PermitWrite } from "./versions";

/** The stored row of an insert's RETURNING, without the snake_case columns {@link Found} reads. */
function withoutFound({ lot_zone_id: _zone, zone_name: _name, ...permit }: Found & PermitRecord): PermitRecord {
  return permit;
}

/** An Idempotency-Key and the hash of the request it came with. */
export interface Idempotency {
  key: string;
  requestHash: string;
}

/** How long an Idempotency-Key replays its first answer. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

export type PushOutcome =
  | {
      ok: true;
      reference: string;
      /** False when the push was a retry and an earlier record answered it. */
      created: boolean;
      /** True when the zone named no lot zone of the site. */
      disconnected: boolean;
      /** What a push that created the permit wrote: the row and its creation event. */
      write?: PermitWrite;
    }
  /** The Idempotency-Key was used before with another request. */
  | { ok: false; reason: "idempotency-conflict" }
  /** `exclusive`: the owner already has an active session of this plate in this lot zone (its reference). */
  | { ok: false; reason: "already-active"; reference: string };

/** How a new permit is written, beyond its values. */
export interface PushContext {
  actor: string;
  now: number;
  idempotency?: Idempotency;
  /**
   * The lot zone the caller already resolved (a session's zone, found by its
   * number): stored if it still exists, else the record is disconnected.
   * Without it, the zone name is matched against the site's lot zones.
   */
  lotZoneId?: number;
  /**
   * Refuse, writing nothing, when `p.owner` already has an active session of
   * `p.plateNorm` in `lotZoneId`. Checked inside the insert, so two starts
   * racing cannot both win.
   */
  exclusive?: boolean;
}

type Found = { id: string; lot_zone_id: number | null; zone_name: string | null };
/** What the insert returns: what {@link Found} needs, and the row as stored. */
type Inserted = Found & PermitRecord;

/**
 * Stores a new permit (an OC-TOMA push, a session start) and its first
 * history event in ONE D1 batch (one round trip, one transaction), matching
 * the zone inside the write so a zone added a moment ago counts at once.
 *
 * Retries are absorbed inside the same batch: an Idempotency-Key row claims
 * the new reference first (a key older than the window is taken over); the
 * permit is inserted only if that claim won, and `ON CONFLICT DO NOTHING` on
 * the live-receipt unique index turns a retry without a key into a no-op.
 * An `exclusive` insert is also skipped while the owner's session of that
 * plate and zone runs; its claim is then released and the running session
 * named. Without a key, the insert's RETURNING answers a new push; only a
 * receipt retry needs a second query to find the record it repeats.
 *
 * The writes are raw SQL: drizzle has no INSERT … SELECT … ON CONFLICT.
 */
export async function pushPermit(d1: D1Binding, p: NewPermit, ctx: PushContext): Promise<PushOutcome> {
  const id = crypto.randomUUID();
  const receipt = receiptOf(p);
  const { now, idempotency, lotZoneId } = ctx;
  const { siteId, ...fields } = p;
  const outcome = (row: Found, inserted: Inserted | undefined): PushOutcome => ({
    ok: true,
    reference: row.id,
    created: row.id === id,
    disconnected: isDisconnected({ zoneName: row.zone_name, lotZoneId: row.lot_zone_id }),
    ...(row.id === id && inserted
      ? { write: { permit: withoutFound(inserted), action: "create", changes: creationChanges(fields), actor: ctx.actor, at: now } }
      : {}),
  });

  const lotZone =
    lotZoneId === undefined
      ? sql`(SELECT id FROM lot_zones WHERE site_id = ${siteId} AND name = ${p.zoneName})`
      : sql`(SELECT id FROM lot_zones WHERE site_id = ${siteId} AND id = ${lotZoneId})`;
  if (ctx.exclusive && (lotZoneId === undefined || !p.owner)) throw new Error("an exclusive push needs a lot zone and an owner");
  // The owner's running session of this plate in this zone (index permits_plate_active).
  const running = sql`site_id = ${siteId} AND plate_norm = ${p.plateNorm} AND owner = ${p.owner ?? null} AND lot_zone_id = ${lotZoneId ?? null}
                      AND stopped_at IS NULL AND deleted_at IS NULL AND end_at > ${now} AND id <> ${id}`;
  const conditions: SQL[] = [];
  if (idempotency) {
    conditions.push(
      sql`EXISTS (SELECT 1 FROM idempotency_keys WHERE site_id = ${siteId} AND key = ${idempotency.key} AND permit_id = ${id})`,
    );
  }
  if (ctx.exclusive) conditions.push(sql`NOT EXISTS (SELECT 1 FROM permits WHERE ${running})`);
  const insertPermit = statement(
    d1,
    sql`
    INSERT INTO permits (id, site_id, type, source, plate, plate_norm, zone_name, lot_zone_id, amount_cents, currency,
                         start_at, end_at, permit_no, ticket_number, promo_code, receipt, plate_state, space_number, owner,
                         receipt_email, version, created_at, updated_at)
    SELECT ${id}, ${siteId}, ${p.type}, ${p.source}, ${p.plate}, ${p.plateNorm}, ${p.zoneName}, ${lotZone},
           ${p.amountCents}, ${p.currency}, ${p.startAt}, ${p.endAt}, ${p.permitNo}, ${p.ticketNumber}, ${p.promoCode},
           ${receipt}, ${p.plateState ?? null}, ${p.spaceNumber ?? null}, ${p.owner ?? null}, ${p.receiptEmail ?? null},
           1, ${now}, ${now}
    WHERE ${conditions.length > 0 ? sql.join(conditions, sql` AND `) : sql`1`}
    ON CONFLICT DO NOTHING
    RETURNING id, lot_zone_id, zone_name, ${permitColumns()}`,
  );
  const insertEvent = statement(
    d1,
    sql`
    INSERT INTO permit_events (permit_id, site_id, version, action, changes, actor, at)
    SELECT id, site_id, 1, 'create', ${JSON.stringify(creationChanges(fields))}, ${ctx.actor}, ${now} FROM permits WHERE id = ${id}`,
  );
  const findRunning = statement(d1, sql`SELECT id FROM permits WHERE ${running} LIMIT 1`);
  const liveReceipt = sql`site_id = ${siteId} AND type = ${p.type} AND receipt = ${receipt} AND plate_norm = ${p.plateNorm}
                          AND start_at = ${p.startAt} AND deleted_at IS NULL`;

  if (!idempotency) {
    const results = await d1.batch<Inserted>([insertPermit, insertEvent, ...(ctx.exclusive ? [findRunning] : [])]);
    const row = results[0]?.results[0];
    if (row) return outcome(row, row);
    const other = results[2]?.results[0];
    if (other) return { ok: false, reason: "already-active", reference: other.id };
    // A retry: the receipt matched a live record.
    const existing = await database(d1)
      .select({ id: permits.id, lot_zone_id: permits.lotZoneId, zone_name: permits.zoneName })
      .from(permits)
      .where(liveReceipt)
      .get();
    if (!existing) throw new Error("push neither inserted nor matched a live receipt");
    return outcome(existing, undefined);
  }

  const { key, requestHash } = idempotency;
  const claim = sql`site_id = ${siteId} AND key = ${key} AND permit_id = ${id}`;
  const results = await d1.batch<Found & { request_hash: string }>([
    statement(
      d1,
      sql`
      INSERT INTO idempotency_keys (site_id, key, request_hash, permit_id, created_at)
      VALUES (${siteId}, ${key}, ${requestHash}, ${id}, ${now})
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
      WHERE ${claim}
        AND NOT EXISTS (SELECT 1 FROM permits WHERE id = ${id})
        AND EXISTS (SELECT 1 FROM permits WHERE ${liveReceipt})`,
    ),
    // The claim won but a running session kept the insert out: release the key, so it never answers a record that is not.
    ...(ctx.exclusive
      ? [statement(d1, sql`DELETE FROM idempotency_keys WHERE ${claim} AND NOT EXISTS (SELECT 1 FROM permits WHERE id = ${id})`)]
      : []),
    statement(
      d1,
      sql`
      SELECT i.request_hash, i.permit_id AS id, p.lot_zone_id, p.zone_name
      FROM idempotency_keys i LEFT JOIN permits p ON p.id = i.permit_id
      WHERE i.site_id = ${siteId} AND i.key = ${key}`,
    ),
    ...(ctx.exclusive ? [findRunning] : []),
  ]);
  const found = ctx.exclusive ? results.at(-2) : results.at(-1);
  const row = found?.results[0];
  if (row) {
    if (row.request_hash !== requestHash) return { ok: false, reason: "idempotency-conflict" };
    return outcome(row, results[1]?.results[0] as Inserted | undefined);
  }
  const other = ctx.exclusive ? results.at(-1)?.results[0] : undefined;
  if (other) return { ok: false, reason: "already-active", reference: other.id };
  throw new Error("push batch returned no idempotency record");
}
