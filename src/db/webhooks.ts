import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import { ID_ALPHABET, randomString } from "../auth/secrets";
import { MAX_ENDPOINTS_PER_SITE, PREVIOUS_SECRET_SECONDS, type WebhookEventType } from "../domain/webhooks";
import { type D1Binding, database, statement } from "./client";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents, webhookOutbox } from "./schema";

/**
 * Webhook endpoints, the events they were sent, each delivery and its
 * attempts. Secrets arrive here sealed (the admin routes seal them) and leave
 * sealed (the delivery opens them). Deliveries change state only through
 * {@link claimDelivery}, {@link recordAttempt}, {@link skipDelivery},
 * {@link recordDeadLetter} and {@link redeliver}, each guarded by the
 * delivery's round, so a message of an earlier round never changes a later
 * one.
 */

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;

/** A new endpoint id: `wh_` and 16 random characters. */
export const newEndpointId = () => `wh_${randomString(16, ID_ALPHABET)}`;

/** The context a sealed endpoint secret is bound to: a secret copied to another endpoint's row does not open. */
export const secretContext = (endpointId: string) => `webhook:${endpointId}`;

/** The event types of an endpoint row. */
export const eventsOf = (row: Pick<EndpointRow, "events">) => row.events.split(",") as WebhookEventType[];

/** A new endpoint, its secret already sealed. */
export interface NewEndpoint {
  id: string;
  siteId: number;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  sealedSecret: string;
  secretPrefix: string;
}

/**
 * Registers an endpoint, unless the site already has {@link MAX_ENDPOINTS_PER_SITE}
 * (then null). The count is checked inside the insert, so racing creates
 * cannot pass the limit together.
 */
export async function createEndpoint(d1: D1Database, input: NewEndpoint, now: number): Promise<EndpointRow | null> {
  const row = await statement(
    d1,
    sql`INSERT INTO webhook_endpoints (id, site_id, url, description, events, secret, secret_prefix, created_at, updated_at)
        SELECT ${input.id}, ${input.siteId}, ${input.url}, ${input.description}, ${input.events.join(",")}, ${input.sealedSecret},
               ${input.secretPrefix}, ${now}, ${now}
        WHERE (SELECT count(*) FROM webhook_endpoints WHERE site_id = ${input.siteId}) < ${MAX_ENDPOINTS_PER_SITE}
        RETURNING id`,
  ).first<{ id: string }>();
  return row ? findEndpoint(d1, row.id) : null;
}

/** A site's endpoints, oldest first. */
export function listEndpoints(d1: D1Database, siteId: number): Promise<EndpointRow[]> {
  return database(d1)
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.siteId, siteId))
    .orderBy(webhookEndpoints.createdAt, webhookEndpoints.id);
}

/** One endpoint by id, or null. */
export async function findEndpoint(d1: D1Binding, id: string): Promise<EndpointRow | null> {
  return (await database(d1).select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get()) ?? null;
}

/** What an admin may change of an endpoint; `enabled` false disables it (`manual`), true enables it again. */
export interface EndpointChange {
  url?: string;
  description?: string | null;
  events?: WebhookEventType[];
  enabled?: boolean;
}

/** Changes an endpoint; disabling one already disabled keeps that disabling's time and reason. */
export async function updateEndpoint(d1: D1Database, id: string, change: EndpointChange, now: number): Promise<EndpointRow | null> {
  const set: SQLiteUpdateSetSource<typeof webhookEndpoints> = { updatedAt: now };
  if (change.url !== undefined) set.url = change.url;
  if (change.description !== undefined) set.description = change.description;
  if (change.events !== undefined) set.events = change.events.join(",");
  if (change.enabled === true) Object.assign(set, { disabledAt: null, disabledReason: null });
  if (change.enabled === false) {
    set.disabledAt = sql`coalesce(${webhookEndpoints.disabledAt}, ${now})`;
    set.disabledReason = sql`coalesce(${webhookEndpoints.disabledReason}, 'manual')`;
  }
  const row = await database(d1).update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning().get();
  return row ?? null;
}

/** Whether an endpoint's previous secret (after a rotation) still signs at `now`. */
export const previousSecretSigns = (e: Pick<EndpointRow, "previousSecret" | "previousSecretExpiresAt">, now: number) =>
  e.previousSecret !== null && (e.previousSecretExpiresAt ?? 0) > now;

/**
 * Gives an endpoint a new (sealed) secret; the current one becomes the
 * previous, which signs beside it for {@link PREVIOUS_SECRET_SECONDS}.
 */
export async function rotateEndpointSecret(
  d1: D1Database,
  id: string,
  secret: { sealed: string; prefix: string },
  now: number,
): Promise<EndpointRow | null> {
  const row = await database(d1)
    .update(webhookEndpoints)
    .set({
      previousSecret: sql`${webhookEndpoints.secret}`,
      previousSecretExpiresAt: now + PREVIOUS_SECRET_SECONDS,
      secret: secret.sealed,
      secretPrefix: secret.prefix,
      updatedAt: now,
    })
    .where(eq(webhookEndpoints.id, id))
    .returning()
    .get();
  return row ?? null;
}

/**
 * Deletes an endpoint with its deliveries and their attempts, in one batch.
 * Its messages still in the queue find no delivery and are dropped; the
 * events it was sent stay until retention prunes them, like every event.
 */
export async function deleteEndpoint(d1: D1Database, id: string): Promise<boolean> {
  const results = await d1.batch([
    statement(d1, sql`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ${id})`),
    statement(d1, sql`DELETE FROM webhook_deliveries WHERE endpoint_id = ${id}`),
    statement(d1, sql`DELETE FROM webhook_endpoints WHERE id = ${id} RETURNING id`),
  ]);
  return (results[2]?.results.length ?? 0) > 0;
}

/**
 * The event types at least one enabled endpoint of the site wants (what the
 * site's cached config says, `SiteConfig.webhookEvents`): a query for the
 * batch that loads the config, and how to read its rows.
 */
export const subscriptions = {
  query: (d1: D1Binding, siteId: number) =>
    database(d1)
      .select({ events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.siteId, siteId), isNull(webhookEndpoints.disabledAt))),
  types: (rows: { events: string }[]): WebhookEventType[] => [...new Set(rows.flatMap(eventsOf))].sort(),
};

/** An event as the request that caused it enqueued it. */
export interface EventRecord {
  id: string;
  siteId: number;
  type: WebhookEventType;
  body: string;
  at: number;
  /** Where retention's N days for its plate start (`webhook_events.forget_from`). */
  forgetFrom: number;
}

/** A delivery's queue message: which delivery, and the round it belongs to. */
export interface DeliveryRef {
  deliveryId: string;
  round: number;
}

/**
 * Fans an event out: stores it and one delivery per enabled endpoint of its
 * site that wants its type (none: nothing is stored), in one batch, and
 * answers the deliveries not attempted yet, whose messages the caller sends.
 * Safe to repeat (a message delivered twice, a consumer that died before
 * sending): the event and each (endpoint, event) delivery are unique, and a
 * delivery already under way or done is not answered again.
 */
export async function fanOutEvent(d1: D1Database, event: EventRecord, now: number): Promise<DeliveryRef[]> {
  const wanted = sql`site_id = ${event.siteId} AND disabled_at IS NULL AND instr(',' || events || ',', ${`,${event.type},`}) > 0`;
  const results = await d1.batch<DeliveryRef>([
    statement(
      d1,
      sql`INSERT INTO webhook_events (id, site_id, type, body, created_at, forget_from)
          SELECT ${event.id}, ${event.siteId}, ${event.type}, ${event.body}, ${event.at}, ${event.forgetFrom}
          WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE ${wanted})
          ON CONFLICT DO NOTHING`,
    ),
    statement(
      d1,
      sql`INSERT INTO webhook_deliveries (id, event_id, endpoint_id, site_id, event_type, state, created_at)
          SELECT 'dl_' || lower(hex(randomblob(8))), ${event.id}, id, site_id, ${event.type}, 'pending', ${now}
          FROM webhook_endpoints WHERE ${wanted}
          ON CONFLICT DO NOTHING`,
    ),
    statement(
      d1,
      sql`SELECT id AS deliveryId, round FROM webhook_deliveries
          WHERE event_id = ${event.id} AND state = 'pending' AND round_attempts = 0 AND lease_until IS NULL`,
    ),
  ]);
  return results[2]?.results ?? [];
}

/** A delivery about to be attempted: its row after the claim, its endpoint's URL and sealed secrets, the event's body. */
export interface ClaimedDelivery {
  delivery: DeliveryRow;
  endpoint: Pick<EndpointRow, "id" | "siteId" | "url" | "secret" | "previousSecret" | "previousSecretExpiresAt">;
  body: string;
}

/**
 * What claiming a delivery found: it is this caller's to attempt now
 * (`claimed`); it no longer exists (`missing`: its endpoint was deleted);
 * this message is not the one to act (`obsolete`: the delivery is done,
 * skipped or failed, was redelivered since, or this is a second copy of a
 * message whose attempt was already made); its endpoint is disabled
 * (`disabled`); or another copy of this message holds the lease until
 * `leaseUntil` (`busy`).
 */
export type Claim =
  | ({ status: "claimed" } & ClaimedDelivery)
  | { status: "missing" | "obsolete" | "disabled" }
  | { status: "busy"; leaseUntil: number };

type Joined = DeliveryRow & {
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  disabledAt: number | null;
  body: string;
  claimed: number;
};

/**
 * Claims a delivery for one attempt, in one batch: the attempt counters move
 * on and a lease of `leaseSeconds` is taken, only if the delivery is pending
 * in `round`, its endpoint is enabled, no live lease is held, and it has had
 * fewer attempts in this round than the queue has delivered this message
 * (`queueAttempts`): so a second copy of a message whose attempt was made is
 * refused, while the same message retried (after a failure, or after a
 * consumer died holding the lease) goes on.
 */
export async function claimDelivery(
  d1: D1Database,
  ref: DeliveryRef,
  queueAttempts: number,
  now: number,
  leaseSeconds: number,
): Promise<Claim> {
  const [claim, read] = await d1.batch<Joined>([
    statement(
      d1,
      sql`UPDATE webhook_deliveries
          SET attempts = attempts + 1, round_attempts = round_attempts + 1, lease_until = ${now + leaseSeconds},
              last_attempt_at = ${now}, next_attempt_at = NULL
          WHERE id = ${ref.deliveryId} AND round = ${ref.round} AND state = 'pending' AND round_attempts < ${queueAttempts}
            AND (lease_until IS NULL OR lease_until <= ${now})
            AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = endpoint_id AND e.disabled_at IS NULL)
          RETURNING id`,
    ),
    statement(
      d1,
      sql`SELECT d.id, d.event_id AS eventId, d.endpoint_id AS endpointId, d.site_id AS siteId, d.event_type AS eventType, d.state,
                 d.round, d.round_attempts AS roundAttempts, d.attempts, d.lease_until AS leaseUntil, d.next_attempt_at AS nextAttemptAt,
                 d.last_attempt_at AS lastAttemptAt, d.last_status AS lastStatus, d.last_error AS lastError, d.created_at AS createdAt,
                 d.finished_at AS finishedAt, e.url, e.secret, e.previous_secret AS previousSecret,
                 e.previous_secret_expires_at AS previousSecretExpiresAt, e.disabled_at AS disabledAt, v.body
          FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN webhook_events v ON v.id = d.event_id
          WHERE d.id = ${ref.deliveryId}`,
    ),
  ]);
  const row = read?.results[0];
  if (!row) return { status: "missing" };
  const { url, secret, previousSecret, previousSecretExpiresAt, disabledAt, body, ...delivery } = row;
  if (claim?.results.length === 1) {
    return {
      status: "claimed",
      delivery,
      endpoint: { id: delivery.endpointId, siteId: delivery.siteId, url, secret, previousSecret, previousSecretExpiresAt },
      body,
    };
  }
  if (row.round !== ref.round || row.state !== "pending" || row.roundAttempts >= queueAttempts) return { status: "obsolete" };
  if (disabledAt !== null) return { status: "disabled" };
  return { status: "busy", leaseUntil: row.leaseUntil ?? now };
}

/** Marks a pending delivery of `round` skipped: its endpoint is disabled (redeliver it by hand once enabled). */
export async function skipDelivery(d1: D1Database, ref: DeliveryRef, now: number): Promise<void> {
  await database(d1)
    .update(webhookDeliveries)
    .set({ state: "skipped", leaseUntil: null, nextAttemptAt: null, lastError: "The endpoint is disabled.", finishedAt: now })
    .where(and(eq(webhookDeliveries.id, ref.deliveryId), eq(webhookDeliveries.round, ref.round), eq(webhookDeliveries.state, "pending")));
}

/** One attempt as it went: when, the answer's status (null: none), how long, why it failed, the start of the answer. */
export interface AttemptRecord {
  number: number;
  at: number;
  status: number | null;
  durationMs: number;
  error: string | null;
  response: string | null;
}

/** Where an attempt leaves its delivery: delivered, failed for good, or pending until the next attempt. */
export type AttemptResult =
  | { state: "delivered" | "failed"; disableEndpoint?: boolean }
  | { state: "pending"; nextAttemptAt: number | null };

/**
 * Logs an attempt and moves its delivery on, in one batch: the attempt is
 * always logged; the delivery's state changes (and its lease is released)
 * only while it is still in `ref.round`, so an attempt overtaken by a
 * redelivery by hand leaves the new round alone. A 410 also disables the
 * endpoint (`gone`). Returns whether the endpoint was disabled by this call.
 */
export async function recordAttempt(d1: D1Database, ref: DeliveryRef, attempt: AttemptRecord, result: AttemptResult): Promise<boolean> {
  const db = database(d1);
  const now = attempt.at;
  const statements = [
    statement(d1, db.insert(webhookAttempts).values({ deliveryId: ref.deliveryId, round: ref.round, ...attempt })),
    statement(
      d1,
      db
        .update(webhookDeliveries)
        .set({
          state: result.state,
          leaseUntil: null,
          lastStatus: attempt.status,
          lastError: attempt.error,
          nextAttemptAt: result.state === "pending" ? result.nextAttemptAt : null,
          finishedAt: result.state === "pending" ? null : now,
        })
        .where(and(eq(webhookDeliveries.id, ref.deliveryId), eq(webhookDeliveries.round, ref.round))),
    ),
  ];
  if (result.state === "failed" && result.disableEndpoint) {
    statements.push(
      statement(
        d1,
        db
          .update(webhookEndpoints)
          .set({ disabledAt: now, disabledReason: "gone", updatedAt: now })
          .where(
            and(
              isNull(webhookEndpoints.disabledAt),
              eq(webhookEndpoints.id, sql`(SELECT endpoint_id FROM webhook_deliveries WHERE id = ${ref.deliveryId})`),
            ),
          )
          .returning({ id: webhookEndpoints.id }),
      ),
    );
  }
  const results = await d1.batch(statements);
  return (results[2]?.results.length ?? 0) > 0;
}

/**
 * Records a delivery that reached the dead-letter queue: failed, if it was
 * still pending in that round (the consumer marks its own last failure
 * itself; this catches messages the queue gave up on first).
 */
export async function recordDeadLetter(d1: D1Database, ref: DeliveryRef, now: number): Promise<boolean> {
  const rows = await database(d1)
    .update(webhookDeliveries)
    .set({
      state: "failed",
      leaseUntil: null,
      nextAttemptAt: null,
      finishedAt: now,
      lastError: sql`coalesce(${webhookDeliveries.lastError} || ' ', '') || 'Moved to the dead-letter queue.'`,
    })
    .where(and(eq(webhookDeliveries.id, ref.deliveryId), eq(webhookDeliveries.round, ref.round), eq(webhookDeliveries.state, "pending")))
    .returning({ id: webhookDeliveries.id });
  return rows.length > 0;
}

/**
 * Starts a new round of a delivery of round `round`, for a redelivery by
 * hand: pending again, its round's attempts from zero, any lease dropped.
 * The caller has sent the new round's message already; null when the
 * delivery moved on meanwhile (another redelivery won), or does not exist.
 */
export async function redeliver(d1: D1Database, id: string, round: number, now: number): Promise<DeliveryRow | null> {
  const row = await database(d1)
    .update(webhookDeliveries)
    .set({ round: round + 1, roundAttempts: 0, state: "pending", leaseUntil: null, nextAttemptAt: now, finishedAt: null })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.round, round)))
    .returning()
    .get();
  return row ?? null;
}

/** One delivery by id, with its event's type and body, or null. */
export async function findDelivery(d1: D1Database, id: string): Promise<(DeliveryRow & { body: string }) | null> {
  const row = await database(d1)
    .select({ delivery: webhookDeliveries, body: webhookEvents.body })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.id, id))
    .get();
  return row ? { ...row.delivery, body: row.body } : null;
}

/** A delivery's attempts, in order. */
export function listAttempts(d1: D1Database, deliveryId: string): Promise<AttemptRow[]> {
  return database(d1).select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, deliveryId)).orderBy(webhookAttempts.number);
}

/** A page of an endpoint's deliveries. */
export interface DeliveryQuery {
  state?: DeliveryRow["state"];
  /** Continue after this delivery (the last of the previous page). */
  after?: { createdAt: number; id: string };
  limit: number;
}

/**
 * An endpoint's deliveries, newest first (ties by id), optionally in one
 * state: keyset pages over `webhook_deliveries_endpoint_created`, one row
 * more than asked to tell whether another page follows.
 */
export async function listDeliveries(
  d1: D1Database,
  endpointId: string,
  q: DeliveryQuery,
): Promise<{ rows: DeliveryRow[]; hasMore: boolean }> {
  const { after } = q;
  const rows = await database(d1)
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpointId),
        q.state ? eq(webhookDeliveries.state, q.state) : undefined,
        after
          ? or(
              lt(webhookDeliveries.createdAt, after.createdAt),
              and(eq(webhookDeliveries.createdAt, after.createdAt), lt(webhookDeliveries.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(q.limit + 1);
  return { rows: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

/**
 * Deletes up to `limit` of a site's events whose plate's days started
 * before `before` (`forget_from`), with their deliveries and attempts
 * (retention: their bodies hold plates), and such events still held in the
 * outbox. Returns how many events it deleted.
 */
export async function pruneWebhookEvents(d1: D1Database, siteId: number, before: number, limit: number): Promise<number> {
  const db = database(d1);
  const [ids, held] = await Promise.all([
    db
      .select({ id: webhookEvents.id })
      .from(webhookEvents)
      .where(and(eq(webhookEvents.siteId, siteId), lt(webhookEvents.forgetFrom, before)))
      .limit(limit),
    db
      .delete(webhookOutbox)
      .where(and(eq(webhookOutbox.siteId, siteId), lt(webhookOutbox.forgetFrom, before)))
      .returning({ id: webhookOutbox.id }),
  ]);
  if (ids.length === 0) return held.length;
  // The ids travel as one JSON parameter (D1's 100-parameter limit).
  const json = JSON.stringify(ids.map((r) => r.id));
  const events = sql`SELECT value FROM json_each(${json})`;
  const results = await d1.batch([
    statement(d1, sql`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE event_id IN (${events}))`),
    statement(d1, sql`DELETE FROM webhook_deliveries WHERE event_id IN (${events})`),
    statement(d1, sql`DELETE FROM webhook_events WHERE id IN (${events}) RETURNING id`),
  ]);
  return (results[2]?.results.length ?? 0) + held.length;
}

/**
 * Holds events in the outbox, for the sweep to send again (an event already
 * held is held once). One statement, the events as one JSON parameter.
 */
export async function holdEvents(d1: D1Database, events: readonly EventRecord[], now: number): Promise<void> {
  if (events.length === 0) return;
  // INSERT … SELECT … ON CONFLICT over json_each: drizzle cannot say it (`WHERE true` resolves SQLite's parsing ambiguity).
  await statement(
    d1,
    sql`INSERT INTO webhook_outbox (id, site_id, type, body, at, forget_from, held_at)
        SELECT value ->> 'id', value ->> 'siteId', value ->> 'type', value ->> 'body', value ->> 'at', value ->> 'forgetFrom', ${now}
        FROM json_each(${JSON.stringify(events)}) WHERE true
        ON CONFLICT (id) DO NOTHING`,
  ).run();
}

/** Up to `limit` events held in the outbox, the longest held first. */
export async function heldEvents(d1: D1Binding, limit: number): Promise<EventRecord[]> {
  const rows = await database(d1).select().from(webhookOutbox).orderBy(webhookOutbox.heldAt).limit(limit);
  return rows.map(({ heldAt: _, type, ...event }) => ({ ...event, type: type as WebhookEventType }));
}

/** Lets go of held events once they are on the queue again. */
export async function releaseHeldEvents(d1: D1Database, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await statement(d1, sql`DELETE FROM webhook_outbox WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`).run();
}

/**
 * Deliveries whose queue message is lost: pending, no live lease, and
 * nothing about them (the next attempt due, the lease, the last attempt, or
 * their creation) later than `before`, when Queues would have brought their
 * message long since. Up to `limit` of them are settled, in one batch: one
 * whose round had all its attempts is failed (its last failure was not
 * recorded, the dead-letter queue's record of it lost too); any other starts
 * a new round, as a redelivery by hand does, and is answered for the caller
 * to send its message. A message of the old round that turns up after all
 * is obsolete, so nothing is posted twice.
 */
export async function restartStuckDeliveries(
  d1: D1Database,
  before: number,
  now: number,
  maxAttempts: number,
  limit: number,
): Promise<{ failed: number; restarted: DeliveryRef[] }> {
  const stuck = sql`SELECT id FROM webhook_deliveries INDEXED BY webhook_deliveries_pending
      WHERE state = 'pending' AND created_at < ${before}
        AND max(coalesce(next_attempt_at, 0), coalesce(lease_until, 0), coalesce(last_attempt_at, 0)) < ${before}
      LIMIT ${limit}`;
  // UPDATE … WHERE id IN (subquery with LIMIT) with RETURNING: drizzle cannot put INDEXED BY in the subquery.
  const [failed, restarted] = await d1.batch<DeliveryRef>([
    statement(
      d1,
      sql`UPDATE webhook_deliveries
          SET state = 'failed', lease_until = NULL, next_attempt_at = NULL, finished_at = ${now},
              last_error = coalesce(last_error || ' ', '') || 'Its last attempt was not recorded as final; failed by the sweep.'
          WHERE id IN (${stuck}) AND round_attempts >= ${maxAttempts}
          RETURNING id AS deliveryId, round`,
    ),
    statement(
      d1,
      sql`UPDATE webhook_deliveries
          SET round = round + 1, round_attempts = 0, lease_until = NULL, next_attempt_at = ${now}
          WHERE id IN (${stuck}) AND round_attempts < ${maxAttempts}
          RETURNING id AS deliveryId, round`,
    ),
  ]);
  return { failed: failed?.results.length ?? 0, restarted: restarted?.results ?? [] };
}
