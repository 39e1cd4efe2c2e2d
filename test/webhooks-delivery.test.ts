import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { cachedSiteConfig } from "../src/auth/authenticate";
import { seal } from "../src/auth/sealed";
import { clearMemo } from "../src/cache";
import { type DeliveryRef, fanOutEvent, redeliver } from "../src/db/webhooks";
import worker from "../src/index";
import { consumeWebhooks, WEBHOOKS_DEAD_LETTER_QUEUE, WEBHOOKS_QUEUE } from "../src/webhooks/consumer";
import type { DeliveryOptions } from "../src/webhooks/deliver";
import type { WebhookMessage } from "../src/webhooks/publish";
import { sweepWebhooks } from "../src/webhooks/sweep";
import { adminCall, count, eventually, newSite, pushed } from "./helpers";
import { payload, type Received, received, receivedWhen, registerEndpoint, type TestEndpoint, tellSecret } from "./webhook-receiver";

const now = () => Math.floor(Date.now() / 1000);
/** No jitter: each retry's delay is the schedule's. */
const EXACT: DeliveryOptions = { random: () => 0 };

type Json = Record<string, unknown>;

/** A site with one endpoint at the receiver (answering as `query` says) and one event fanned out to it, not attempted yet. */
async function pendingDelivery(query = "", events?: string[]) {
  const site = await newSite();
  const endpoint = await registerEndpoint(site.slug, { query, events });
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(site.slug).first<{ id: number }>())?.id as number;
  const event = {
    id: `msg_${crypto.randomUUID().replaceAll("-", "")}`,
    siteId,
    type: "permit.created" as const,
    body: JSON.stringify({ type: "permit.created", timestamp: "2026-11-23T10:00:00Z", data: { site: site.slug, n: 1 } }),
    at: now(),
    forgetFrom: now(),
  };
  const [ref] = await fanOutEvent(env.DB, event, now());
  if (!ref) throw new Error("no delivery fanned out");
  return { site, siteId, endpoint, event, ref };
}

/** A batch of the webhooks queue (or `queue`): one message per body, each delivered `attempts` times so far. */
function batchOf(bodies: WebhookMessage[], attempts = 1, queue = WEBHOOKS_QUEUE) {
  const messages = bodies.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts, body }));
  return { batch: createMessageBatch<WebhookMessage>(queue, messages), ids: messages.map((m) => m.id) };
}

/**
 * Runs the consumer on a batch and answers what it acknowledged and retried, each retry with the delay it asked
 * for (`getQueueResult` does not report `delaySeconds`, so each message's retry() call is recorded on the way).
 */
async function consume(batch: MessageBatch<WebhookMessage>, options: DeliveryOptions = EXACT) {
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (retryOptions?: QueueRetryOptions) => {
      delays.set(message.id, retryOptions?.delaySeconds);
      retry(retryOptions);
    };
  }
  const ctx = createExecutionContext();
  await consumeWebhooks(batch, env, options);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryMessages: result.retryMessages.map((r) => ({ ...r, delaySeconds: delays.get(r.msgId) })) };
}

const delivery = (ref: DeliveryRef) => ({ kind: "delivery" as const, ...ref });

async function stored(id: string) {
  return (await env.DB.prepare(
    "SELECT state, round, round_attempts AS roundAttempts, attempts, lease_until AS leaseUntil, next_attempt_at AS nextAttemptAt, last_status AS lastStatus, last_error AS lastError FROM webhook_deliveries WHERE id = ?",
  )
    .bind(id)
    .first()) as Json;
}

async function attemptsOf(id: string) {
  const { results } = await env.DB.prepare("SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY number").bind(id).all<Json>();
  return results;
}

/** A fetch that must not be called: the attempt was to be refused before any connection. */
const noFetch = (() => {
  throw new Error("fetch must not be called");
}) as unknown as typeof fetch;

describe("one attempt (the consumer, message by message)", () => {
  it("a 2xx is delivered and acknowledged; the attempt is logged with its time, status and duration", async () => {
    const { ref, event, endpoint } = await pendingDelivery();
    const { batch, ids } = batchOf([delivery(ref)]);
    // The Worker's own queue handler, as Queues calls it.
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result).toMatchObject({ outcome: "ok", explicitAcks: ids, retryMessages: [] });
    expect(await stored(ref.deliveryId)).toMatchObject({
      state: "delivered",
      attempts: 1,
      roundAttempts: 1,
      leaseUntil: null,
      lastStatus: 200,
    });
    const [attempt] = await attemptsOf(ref.deliveryId);
    expect(attempt).toMatchObject({ number: 1, round: 1, status: 200, error: null, response: "ok\n" });
    expect(Math.abs((attempt?.at as number) - now())).toBeLessThan(5);
    expect(attempt?.duration_ms).toBeGreaterThanOrEqual(0);
    const [got] = await received(endpoint.path);
    expect(got).toMatchObject({ id: event.id, body: event.body, verified: true, answered: 200 });
  });

  it("keeps the first 500 characters of an answer, reading no more of a huge one than those need", async () => {
    const { ref } = await pendingDelivery();
    let sent = 0;
    const chunk = new TextEncoder().encode("x".repeat(1024));
    // A receiver that would answer 1 GB: its body is produced as it is read.
    const endless = (() =>
      Promise.resolve(
        new Response(
          new ReadableStream({
            pull(controller) {
              sent += chunk.byteLength;
              if (sent > 1024 ** 3) controller.close();
              else controller.enqueue(chunk);
            },
          }),
        ),
      )) as unknown as typeof fetch;
    const result = await consume(batchOf([delivery(ref)]).batch, { ...EXACT, fetch: endless });
    expect(result.retryMessages).toEqual([]);
    const [attempt] = await attemptsOf(ref.deliveryId);
    expect(attempt).toMatchObject({ status: 200, response: "x".repeat(500) });
    expect(sent).toBeLessThanOrEqual(8 * 1024);
  });

  it("a 5xx is retried after the schedule's first delay, 5 s", async () => {
    const { ref } = await pendingDelivery("?status=503");
    const { batch, ids } = batchOf([delivery(ref)]);
    const result = await consume(batch);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: ids[0], delaySeconds: 5 }]);
    const row = await stored(ref.deliveryId);
    expect(row).toMatchObject({ state: "pending", lastStatus: 503, leaseUntil: null, roundAttempts: 1 });
    expect(Math.abs((row.nextAttemptAt as number) - (now() + 5))).toBeLessThanOrEqual(2);
  });

  it("each retry waits longer: the third attempt's failure is retried after 30 minutes", async () => {
    const { ref } = await pendingDelivery("?status=500");
    for (const [attempts, delay] of [
      [1, 5],
      [2, 300],
      [3, 1800],
    ] as const) {
      const { batch, ids } = batchOf([delivery(ref)], attempts);
      expect((await consume(batch)).retryMessages).toEqual([{ msgId: ids[0], delaySeconds: delay }]);
    }
    expect((await attemptsOf(ref.deliveryId)).map((a) => a.status)).toEqual([500, 500, 500]);
  });

  it("a 429 with Retry-After waits at least that long", async () => {
    const { ref } = await pendingDelivery("?status=429&retryAfter=120");
    const { batch, ids } = batchOf([delivery(ref)]);
    expect((await consume(batch)).retryMessages).toEqual([{ msgId: ids[0], delaySeconds: 120 }]);
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "pending", lastStatus: 429 });
  });

  it("a receiver that hangs past the timeout fails the attempt, which is retried", async () => {
    const { ref, endpoint } = await pendingDelivery("?hang=1");
    const { batch, ids } = batchOf([delivery(ref)]);
    const started = Date.now();
    const result = await consume(batch, { ...EXACT, timeoutMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(result.retryMessages).toEqual([{ msgId: ids[0], delaySeconds: 5 }]);
    const [attempt] = await attemptsOf(ref.deliveryId);
    expect(attempt).toMatchObject({ status: null, error: "No answer within 0.3 s." });
    expect(attempt?.duration_ms).toBeGreaterThanOrEqual(300);
    expect(await received(endpoint.path)).toHaveLength(1);
  });

  it("a redirect is not followed: it is a failed attempt, retried", async () => {
    const { ref, endpoint } = await pendingDelivery("?redirect=1");
    const { batch, ids } = batchOf([delivery(ref)]);
    expect((await consume(batch)).retryMessages).toEqual([{ msgId: ids[0], delaySeconds: 5 }]);
    expect((await attemptsOf(ref.deliveryId))[0]).toMatchObject({ status: 302, error: `Redirect to ${endpoint.path} not followed.` });
    // Followed, the receiver would have got a second request at the Location.
    expect(await received(endpoint.path)).toHaveLength(1);
  });

  it("410 Gone disables the endpoint: no retry, its waiting deliveries are skipped, new events no longer go to it", async () => {
    const { ref, siteId, endpoint, site } = await pendingDelivery("?status=410");
    const second = (
      await fanOutEvent(env.DB, { id: "msg_second410", siteId, type: "permit.created", body: "{}", at: now(), forgetFrom: now() }, now())
    )[0] as DeliveryRef;
    const { batch, ids } = batchOf([delivery(ref)]);
    expect(await consume(batch)).toMatchObject({ explicitAcks: ids, retryMessages: [] });
    expect(await stored(ref.deliveryId)).toMatchObject({
      state: "failed",
      lastStatus: 410,
      lastError: "410 Gone: the endpoint was disabled.",
    });
    const view = (await (await adminCall("GET", `/webhooks/${endpoint.id}`)).json()) as Json;
    expect(view).toMatchObject({ enabled: false, disabledReason: "gone" });
    // The site's cached config was dropped: it no longer lists permit.created, so pushes enqueue nothing for it.
    clearMemo();
    expect((await cachedSiteConfig(env, siteId))?.webhookEvents).toEqual([]);

    const next = batchOf([delivery(second)]);
    expect(await consume(next.batch)).toMatchObject({ explicitAcks: next.ids, retryMessages: [] });
    expect(await stored(second.deliveryId)).toMatchObject({ state: "skipped", lastError: "The endpoint is disabled." });
    expect(await received(endpoint.path)).toHaveLength(1);
    expect(
      await fanOutEvent(env.DB, { id: "msg_third410", siteId, type: "permit.created", body: "{}", at: now(), forgetFrom: now() }, now()),
    ).toEqual([]);
    expect(site.slug).toBeTruthy();
  });

  it("the 8th attempt's failure is logged as failed and sent on to the dead-letter queue, whose consumer records it", async () => {
    const { ref } = await pendingDelivery("?status=502");
    // Seven attempts already failed in this round.
    await env.DB.prepare("UPDATE webhook_deliveries SET round_attempts = 7, attempts = 7 WHERE id = ?").bind(ref.deliveryId).run();
    const { batch, ids } = batchOf([delivery(ref)], 8);
    // Not acknowledged: after max_retries, Queues moves the message to the dead-letter queue.
    expect(await consume(batch)).toMatchObject({ explicitAcks: [], retryMessages: [{ msgId: ids[0] }] });
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "failed", attempts: 8, lastStatus: 502, lastError: null });

    const dead = batchOf([delivery(ref)], 1, WEBHOOKS_DEAD_LETTER_QUEUE);
    expect(await consume(dead.batch)).toMatchObject({ explicitAcks: dead.ids, retryMessages: [] });
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "failed", lastError: null });
  });

  it("a delivery the queue gave up on while pending is recorded as failed by the dead-letter consumer", async () => {
    const { ref } = await pendingDelivery();
    const dead = batchOf([delivery(ref)], 1, WEBHOOKS_DEAD_LETTER_QUEUE);
    expect(await consume(dead.batch)).toMatchObject({ explicitAcks: dead.ids });
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "failed", lastError: "Moved to the dead-letter queue." });
  });

  it("never connects to a URL that became private (a row changed behind the API), nor to a name resolving to one", async () => {
    const { ref } = await pendingDelivery();
    await env.DB.prepare(
      "UPDATE webhook_endpoints SET url = 'https://10.0.0.1/x' WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = ?)",
    )
      .bind(ref.deliveryId)
      .run();
    const { batch, ids } = batchOf([delivery(ref)]);
    expect((await consume(batch, { ...EXACT, fetch: noFetch })).retryMessages).toEqual([{ msgId: ids[0], delaySeconds: 5 }]);
    expect((await attemptsOf(ref.deliveryId))[0]).toMatchObject({
      status: null,
      error: "Not sent: url must not name a private address (10.0.0.1): webhooks go to public hosts only.",
    });

    await env.DB.prepare(
      "UPDATE webhook_endpoints SET url = 'https://hooks.example.com/in' WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = ?)",
    )
      .bind(ref.deliveryId)
      .run();
    const resolve = async (name: string) => ({
      kind: "address" as const,
      message: `${name} resolves to a loopback address (127.0.0.1): webhooks go to public hosts only`,
    });
    const again = batchOf([delivery(ref)], 2);
    expect((await consume(again.batch, { ...EXACT, fetch: noFetch, resolve })).retryMessages).toEqual([
      { msgId: again.ids[0], delaySeconds: 300 },
    ]);
    expect((await attemptsOf(ref.deliveryId))[1]).toMatchObject({
      error: "Not sent: hooks.example.com resolves to a loopback address (127.0.0.1): webhooks go to public hosts only.",
    });
  });

  it("sends to a public name that resolves to public addresses, signed, with no redirect followed", async () => {
    const { ref, event, endpoint } = await pendingDelivery();
    await env.DB.prepare("UPDATE webhook_endpoints SET url = 'https://hooks.example.com/in' WHERE id = ?").bind(endpoint.id).run();
    const sent: Request[] = [];
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      sent.push(new Request(input, init));
      return new Response("thanks", { status: 202 });
    }) as typeof fetch;
    const { batch, ids } = batchOf([delivery(ref)]);
    expect(await consume(batch, { ...EXACT, fetch: fetchImpl, resolve: async () => null })).toMatchObject({ explicitAcks: ids });
    const [request] = sent;
    expect(request?.url).toBe("https://hooks.example.com/in");
    expect(request?.method).toBe("POST");
    expect(request?.redirect).toBe("manual");
    expect(request?.headers.get("webhook-id")).toBe(event.id);
    expect(request?.headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(await request?.text()).toBe(event.body);
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "delivered", lastStatus: 202 });
  });

  it("a secret that cannot be opened (SETTINGS_KEY changed) fails the attempt, sending nothing", async () => {
    const { ref, endpoint } = await pendingDelivery();
    const other = await seal("b3RoZXIta2V5LW9mLXRoaXJ0eS10d28tYnl0ZXMhISE=", "whsec_AAAA", `webhook:${endpoint.id}`);
    await env.DB.prepare("UPDATE webhook_endpoints SET secret = ? WHERE id = ?").bind(other, endpoint.id).run();
    const { batch } = batchOf([delivery(ref)]);
    await consume(batch, { ...EXACT, fetch: noFetch });
    expect((await attemptsOf(ref.deliveryId))[0]?.error).toContain("secret cannot be opened");
  });

  it("after a rotation both secrets sign for a day, and each verifies with a Standard Webhooks library", async () => {
    const { ref, endpoint } = await pendingDelivery();
    const rotated = (await (await adminCall("POST", `/webhooks/${endpoint.id}/rotate`)).json()) as { secret: string };
    const { batch } = batchOf([delivery(ref)]);
    await consume(batch);
    const [got] = await received(endpoint.path);
    // The receiver verified it with the old secret (the one it knows); the header carries the new one's signature too.
    expect(got).toMatchObject({ verified: true });
    expect(got?.signature?.split(" ")).toHaveLength(2);
    const second = (await fanOutEvent(env.DB, { ...(await anEvent(endpoint)), id: "msg_rotated" }, now()))[0] as DeliveryRef;
    await tellSecret(endpoint.path, rotated.secret);
    await consume(batchOf([delivery(second)]).batch);
    expect((await received(endpoint.path))[1]).toMatchObject({ id: "msg_rotated", verified: true });
    // A day later, only the new secret signs.
    await env.DB.prepare("UPDATE webhook_endpoints SET previous_secret_expires_at = 1 WHERE id = ?").bind(endpoint.id).run();
    const third = (await fanOutEvent(env.DB, { ...(await anEvent(endpoint)), id: "msg_alone" }, now()))[0] as DeliveryRef;
    await consume(batchOf([delivery(third)]).batch);
    const last = (await received(endpoint.path))[2];
    expect(last).toMatchObject({ verified: true });
    expect(last?.signature?.split(" ")).toHaveLength(1);
  });
});

/** Another event of the endpoint's site. */
async function anEvent(endpoint: TestEndpoint) {
  const siteId = (await env.DB.prepare("SELECT site_id AS s FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<{ s: number }>())
    ?.s as number;
  return { id: "", siteId, type: "permit.created" as const, body: '{"type":"permit.created"}', at: now(), forgetFrom: now() };
}

describe("concurrency", () => {
  it("two copies of one message (Queues delivers at least once) post once", async () => {
    const { ref, endpoint } = await pendingDelivery();
    const { batch, ids } = batchOf([delivery(ref), delivery(ref)]);
    const other = batchOf([delivery(ref)]);
    const [one, two] = await Promise.all([consume(batch), consume(other.batch)]);
    expect([...one.explicitAcks, ...two.explicitAcks].sort()).toEqual([...ids, ...other.ids].sort());
    expect(await received(endpoint.path)).toHaveLength(1);
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "delivered", attempts: 1 });
  });

  it("a second copy arriving after a failed attempt does not start a second retry schedule", async () => {
    const { ref, endpoint } = await pendingDelivery("?status=503");
    const first = batchOf([delivery(ref)]);
    expect((await consume(first.batch)).retryMessages).toHaveLength(1);
    const copy = batchOf([delivery(ref)]);
    expect(await consume(copy.batch)).toMatchObject({ explicitAcks: copy.ids, retryMessages: [] });
    expect(await received(endpoint.path)).toHaveLength(1);
  });

  it("a lease left by a consumer that died holds its message back until it expires, then the attempt goes on", async () => {
    const { ref, endpoint } = await pendingDelivery();
    // A consumer claimed attempt 1 and died before logging it.
    await env.DB.prepare("UPDATE webhook_deliveries SET round_attempts = 1, attempts = 1, lease_until = ? WHERE id = ?")
      .bind(now() + 40, ref.deliveryId)
      .run();
    const redelivered = batchOf([delivery(ref)], 2);
    const [retry] = (await consume(redelivered.batch)).retryMessages;
    expect(retry?.msgId).toBe(redelivered.ids[0]);
    expect(retry?.delaySeconds).toBeGreaterThanOrEqual(38);
    expect(retry?.delaySeconds).toBeLessThanOrEqual(40);
    expect(await received(endpoint.path)).toHaveLength(0);
    await env.DB.prepare("UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?")
      .bind(now() - 1, ref.deliveryId)
      .run();
    const later = batchOf([delivery(ref)], 3);
    expect(await consume(later.batch)).toMatchObject({ explicitAcks: later.ids });
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "delivered", attempts: 2 });
  });

  it("a redelivery by hand racing the scheduled retry: the new round delivers, the old round's retry is dropped", async () => {
    const { ref, endpoint } = await pendingDelivery("?fail=1");
    const first = batchOf([delivery(ref)]);
    expect((await consume(first.batch)).retryMessages).toHaveLength(1);
    const res = await adminCall("POST", `/webhooks/${endpoint.id}/deliveries/${ref.deliveryId}/redeliver`);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ id: ref.deliveryId, state: "pending", round: 2, attempts: 1 });
    // The round-2 message and round 1's retry arrive together.
    const round2 = { deliveryId: ref.deliveryId, round: 2 };
    const together = createMessageBatch<WebhookMessage>(WEBHOOKS_QUEUE, [
      { id: "old-retry", timestamp: new Date(), attempts: 2, body: delivery(ref) },
      { id: "redelivery", timestamp: new Date(), attempts: 1, body: delivery(round2) },
    ]);
    const result = await consume(together);
    expect(result.explicitAcks.sort()).toEqual(["old-retry", "redelivery"]);
    const got = await received(endpoint.path);
    expect(got.map((r) => r.answered)).toEqual([503, 200]);
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "delivered", round: 2, attempts: 2 });
    expect((await attemptsOf(ref.deliveryId)).map((a) => [a.number, a.round, a.status])).toEqual([
      [1, 1, 503],
      [2, 2, 200],
    ]);
    // The old retry coming later still changes nothing.
    const late = batchOf([delivery(ref)], 3);
    expect(await consume(late.batch)).toMatchObject({ explicitAcks: late.ids });
    expect(await received(endpoint.path)).toHaveLength(2);
  });

  it("two redeliveries of one round at once start one new round", async () => {
    const { ref } = await pendingDelivery();
    await consume(batchOf([delivery(ref)]).batch);
    const won = await Promise.all([1, 2, 3].map(() => redeliver(env.DB, ref.deliveryId, 1, now())));
    expect(won.filter((row) => row !== null).map((row) => row?.round)).toEqual([2]);
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "pending", round: 2, roundAttempts: 0, attempts: 1 });
  });
});

describe("the webhook sweep (what the queue could not be trusted with)", () => {
  it("an event Queues refused on the request's path is held in D1, and the next sweep sends it: the receiver gets it once", async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug);
    const refused = vi.spyOn(env.WEBHOOKS, "sendBatch").mockRejectedValue(new Error("Too Many Requests"));
    let reference: string;
    try {
      reference = await pushed(site.token, { permitNo: "HELD-1" });
      await eventually(
        () => count("webhook_outbox", "json_extract(body, '$.data.permit.reference_id') = ?", reference),
        (n) => n === 1,
      );
    } finally {
      refused.mockRestore();
    }
    expect(await received(endpoint.path)).toEqual([]);
    // (Another test file's cron run may sweep too: what counts is what the receiver gets, not which sweep sent it.)
    await sweepWebhooks(env, now());
    expect(await count("webhook_outbox", "json_extract(body, '$.data.permit.reference_id') = ?", reference)).toBe(0);
    const [got] = await receivedWhen(endpoint.path, (list) => list.length > 0);
    expect(payload(got as Received)).toMatchObject({ type: "permit.created", data: { permit: { reference_id: reference } } });
    // A second sweep has nothing of it left to send.
    await sweepWebhooks(env, now());
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await received(endpoint.path)).toHaveLength(1);
  });

  it("an event whose fan-out the queue gave up on is held by the dead-letter consumer, not dropped", async () => {
    const site = await newSite();
    const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(site.slug).first<{ id: number }>())?.id as number;
    const event = {
      id: `msg_dead${crypto.randomUUID().slice(0, 8)}`,
      siteId,
      type: "permit.created" as const,
      body: "{}",
      at: now(),
      forgetFrom: now(),
    };
    const { batch, ids } = batchOf([{ kind: "event", event }], 8, WEBHOOKS_DEAD_LETTER_QUEUE);
    expect(await consume(batch)).toMatchObject({ explicitAcks: ids, retryMessages: [] });
    expect(await count("webhook_outbox", "id = ?", event.id)).toBe(1);
  });

  it("a delivery whose message was lost starts a new round; a late message of the old round posts nothing", async () => {
    const { ref, endpoint } = await pendingDelivery();
    // Fanned out 20 minutes ago, and its message never came.
    await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ? WHERE id = ?")
      .bind(now() - 1200, ref.deliveryId)
      .run();
    await sweepWebhooks(env, now());
    const [got] = await receivedWhen(endpoint.path, (list) => list.length > 0);
    expect(got).toMatchObject({ verified: true });
    await eventually(
      () => stored(ref.deliveryId),
      (row) => row.state === "delivered",
    );
    expect(await stored(ref.deliveryId)).toMatchObject({ state: "delivered", round: 2, attempts: 1 });
    // The old round's message turns up after all: obsolete, acknowledged, nothing posted.
    const late = batchOf([delivery(ref)]);
    expect(await consume(late.batch)).toMatchObject({ explicitAcks: late.ids, retryMessages: [] });
    expect(await received(endpoint.path)).toHaveLength(1);
  });

  it("leaves alone a delivery waiting for its next attempt or under way, and fails one whose last attempt went unrecorded", async () => {
    const waiting = await pendingDelivery();
    const leased = await pendingDelivery();
    const exhausted = await pendingDelivery();
    const old = now() - 7200;
    await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ?, round_attempts = 3, next_attempt_at = ? WHERE id = ?")
      .bind(old, now() + 3600, waiting.ref.deliveryId)
      .run();
    await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ?, round_attempts = 1, lease_until = ? WHERE id = ?")
      .bind(old, now() + 10, leased.ref.deliveryId)
      .run();
    await env.DB.prepare("UPDATE webhook_deliveries SET created_at = ?, round_attempts = 8, attempts = 8, last_attempt_at = ? WHERE id = ?")
      .bind(old, old, exhausted.ref.deliveryId)
      .run();
    await sweepWebhooks(env, now());
    expect(await stored(waiting.ref.deliveryId)).toMatchObject({ state: "pending", round: 1, roundAttempts: 3 });
    expect(await stored(leased.ref.deliveryId)).toMatchObject({ state: "pending", round: 1, roundAttempts: 1 });
    expect(await stored(exhausted.ref.deliveryId)).toMatchObject({ state: "failed", round: 1 });
    expect((await stored(exhausted.ref.deliveryId)).lastError).toMatch(/failed by the sweep/);
  });
});
