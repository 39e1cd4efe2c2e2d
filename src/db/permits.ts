import { sql } from "drizzle-orm";
import { statement } from "./client";

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

/** The key that makes a push without Idempotency-Key a retry: receipt (permitNo, else TicketNumber), plate, start. */
export function receiptOf(p: Pick<NewPermit, "permitNo" | "ticketNumber">): string | null {
  return p.permitNo ?? p.ticketNumber;
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
 * The last statement reads back which reference answers the call.
 *
 * Throws {@link IdempotencyConflict} when the key was used with another request.
 */
export async function pushPermit(
  d1: D1Database,
  p: NewPermit,
  ctx: { actor: string; tokenId: string; now: number; idempotency?: Idempotency },
): Promise<PushOutcome> {
  const id = crypto.randomUUID();
  const receipt = receiptOf(p);
  const { now, idempotency } = ctx;
  const changes = JSON.stringify(
    Object.fromEntries(
      Object.entries({ ...p, siteId: undefined }).flatMap(([k, v]) => (v === null || v === undefined ? [] : [[k, [null, v]]])),
    ),
  );

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
    ON CONFLICT DO NOTHING`,
  );
  const insertEvent = statement(
    d1,
    sql`
    INSERT INTO permit_events (permit_id, version, action, changes, actor, at)
    SELECT id, 1, 'create', ${changes}, ${ctx.actor}, ${now} FROM permits WHERE id = ${id}`,
  );
  // The token's last use, at most once a minute, in the same round trip.
  const touchToken = statement(
    d1,
    sql`
    UPDATE api_tokens SET last_used_at = ${now}
    WHERE id = ${ctx.tokenId} AND (last_used_at IS NULL OR last_used_at < ${now - 60})`,
  );
  const liveReceipt = sql`site_id = ${p.siteId} AND receipt = ${receipt} AND plate_norm = ${p.plateNorm}
                          AND start_at = ${p.startAt} AND deleted_at IS NULL`;

  if (!idempotency) {
    const [, , , found] = await d1.batch<{ id: string; lot_zone_id: number | null; zone_name: string | null }>([
      insertPermit,
      insertEvent,
      touchToken,
      statement(
        d1,
        sql`
        SELECT id, lot_zone_id, zone_name FROM permits
        WHERE id = ${id} OR (${liveReceipt})
        ORDER BY id = ${id} DESC LIMIT 1`,
      ),
    ]);
    const row = found?.results[0];
    if (!row) throw new Error("push batch returned no permit");
    return { reference: row.id, created: row.id === id, disconnected: row.zone_name !== null && row.lot_zone_id === null };
  }

  const { key, requestHash } = idempotency;
  const [, , , , , found] = await d1.batch<{
    request_hash: string;
    permit_id: string;
    lot_zone_id: number | null;
    zone_name: string | null;
  }>([
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
    touchToken,
    statement(
      d1,
      sql`
      SELECT i.request_hash, i.permit_id, p.lot_zone_id, p.zone_name
      FROM idempotency_keys i LEFT JOIN permits p ON p.id = i.permit_id
      WHERE i.site_id = ${p.siteId} AND i.key = ${key}`,
    ),
  ]);
  const row = found?.results[0];
  if (!row) throw new Error("push batch returned no idempotency record");
  if (row.request_hash !== requestHash) throw new IdempotencyConflict();
  return { reference: row.permit_id, created: row.permit_id === id, disconnected: row.zone_name !== null && row.lot_zone_id === null };
}
