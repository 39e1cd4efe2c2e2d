import { sql } from "drizzle-orm";
import { creationChanges, isDisconnected, type NewPermit, receiptOf } from "../../domain/permit";
import { type D1Binding, database, statement } from "../client";
import { permits } from "../schema";

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
    }
  /** The Idempotency-Key was used before with another request. */
  | { ok: false; reason: "idempotency-conflict" };

type Found = { id: string; lot_zone_id: number | null; zone_name: string | null };

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
 * The writes are raw SQL: drizzle has no INSERT … SELECT … ON CONFLICT.
 */
export async function pushPermit(
  d1: D1Binding,
  p: NewPermit,
  ctx: { actor: string; now: number; idempotency?: Idempotency },
): Promise<PushOutcome> {
  const id = crypto.randomUUID();
  const receipt = receiptOf(p);
  const { now, idempotency } = ctx;
  const { siteId, ...fields } = p;
  const outcome = (row: Found): PushOutcome => ({
    ok: true,
    reference: row.id,
    created: row.id === id,
    disconnected: isDisconnected({ zoneName: row.zone_name, lotZoneId: row.lot_zone_id }),
  });

  const claimWon = idempotency
    ? sql`EXISTS (SELECT 1 FROM idempotency_keys WHERE site_id = ${siteId} AND key = ${idempotency.key} AND permit_id = ${id})`
    : sql`1`;
  const insertPermit = statement(
    d1,
    sql`
    INSERT INTO permits (id, site_id, type, source, plate, plate_norm, plate_state, zone_name, lot_zone_id, amount_cents, currency,
                         start_at, end_at, permit_no, ticket_number, promo_code, receipt, version, created_at, updated_at)
    SELECT ${id}, ${siteId}, ${p.type}, ${p.source}, ${p.plate}, ${p.plateNorm}, ${p.plateState ?? null}, ${p.zoneName},
           (SELECT id FROM lot_zones WHERE site_id = ${siteId} AND name = ${p.zoneName}),
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
    SELECT id, 1, 'create', ${JSON.stringify(creationChanges(fields))}, ${ctx.actor}, ${now} FROM permits WHERE id = ${id}`,
  );
  const liveReceipt = sql`site_id = ${siteId} AND receipt = ${receipt} AND plate_norm = ${p.plateNorm}
                          AND start_at = ${p.startAt} AND deleted_at IS NULL`;

  if (!idempotency) {
    const [inserted] = await d1.batch<Found>([insertPermit, insertEvent]);
    const row = inserted?.results[0];
    if (row) return outcome(row);
    // A retry: the receipt matched a live record.
    const existing = await database(d1)
      .select({ id: permits.id, lot_zone_id: permits.lotZoneId, zone_name: permits.zoneName })
      .from(permits)
      .where(liveReceipt)
      .get();
    if (!existing) throw new Error("push neither inserted nor matched a live receipt");
    return outcome(existing);
  }

  const { key, requestHash } = idempotency;
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
      WHERE site_id = ${siteId} AND key = ${key} AND permit_id = ${id}
        AND NOT EXISTS (SELECT 1 FROM permits WHERE id = ${id})
        AND EXISTS (SELECT 1 FROM permits WHERE ${liveReceipt})`,
    ),
    statement(
      d1,
      sql`
      SELECT i.request_hash, i.permit_id AS id, p.lot_zone_id, p.zone_name
      FROM idempotency_keys i LEFT JOIN permits p ON p.id = i.permit_id
      WHERE i.site_id = ${siteId} AND i.key = ${key}`,
    ),
  ]);
  const row = results[4]?.results[0];
  if (!row) throw new Error("push batch returned no idempotency record");
  if (row.request_hash !== requestHash) return { ok: false, reason: "idempotency-conflict" };
  return outcome(row);
}
