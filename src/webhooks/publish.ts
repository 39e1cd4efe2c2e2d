import { cachedSiteConfig } from "../auth/authenticate";
import { sha256Hex } from "../auth/secrets";
import type { PermitWrite as StoredWrite } from "../db/permits/versions";
import type { TaskRun } from "../db/tasks";
import { type DeliveryRef, type EventRecord, holdEvents } from "../db/webhooks";
import type { SiteConfig } from "../domain/site";
import { formatRfc3339, formatWireTime, nowSeconds } from "../domain/time";
import type { WebhookEventType } from "../domain/webhooks";
import { historyChanges, permitFields } from "../routes/permit-view";

/**
 * Publishing events: what the request (or job) that caused an event does.
 * It builds the event's body and enqueues it on the WEBHOOKS queue, and never
 * waits for a delivery; the consumer (./consumer.ts) fans it out to the
 * site's endpoints. A site whose cached config lists no subscriber of a type
 * pays nothing for it: no body is built, nothing is sent.
 */

/** What travels on the queue: an event to fan out, or one delivery's next attempt (its retries and redeliveries). */
export type WebhookMessage = { kind: "event"; event: EventRecord } | ({ kind: "delivery" } & DeliveryRef);

/** One write of a permit (the row it left and its history event), as its webhook events tell it. */
export interface PermitWrite extends StoredWrite {
  /** A session's start, extension or stop is also a session event. */
  session?: "started" | "extended" | "stopped";
}

/** The event types a permit write makes: its permit event, and its session event if it is one. */
export function eventTypesOf(write: Pick<PermitWrite, "action" | "session">): WebhookEventType[] {
  const permit = write.action === "create" ? "permit.created" : write.action === "update" ? "permit.updated" : "permit.deleted";
  return write.session ? [permit, `session.${write.session}`] : [permit];
}

/**
 * Whether the site has subscribers for any event that writes of these
 * actions make: a bulk write (the import, an admin's standard permits) then
 * keeps what it wrote for {@link publishPermitWrites}, and builds nothing
 * otherwise.
 */
export function publishesAny(site: SiteConfig | null, actions: readonly PermitWrite["action"][]): boolean {
  return !!site && actions.some((action) => eventTypesOf({ action }).some((type) => site.webhookEvents.includes(type)));
}

/**
 * An event's id (`webhook-id`): derived from what it is about (its type and
 * the permit version, or the task run), so the same event built twice is one
 * event, delivered once per endpoint.
 */
export async function eventId(type: WebhookEventType, subject: string): Promise<string> {
  return `msg_${(await sha256Hex(`${type}:${subject}`)).slice(0, 32)}`;
}

/** The body every event has (Standard Webhooks' shape): its type, when it happened (RFC 3339, UTC), and its data. */
function envelope(type: WebhookEventType, at: number, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: formatRfc3339(at), data });
}

/**
 * The data of a permit event: the site, the permit as the admin API shows it
 * (at the version written; the driver's receipt e-mail never), and the
 * change, as the permit's history shows it.
 */
function permitData(site: SiteConfig, write: PermitWrite) {
  const zone = site.zones.find((z) => z.id === write.permit.lotZoneId);
  const permit = permitFields({ ...write.permit, lotZone: zone?.name ?? null, lotZoneNumber: zone?.number ?? null }, write.at);
  return {
    site: site.slug,
    permit,
    change: {
      version: write.permit.version,
      action: write.action,
      changes: historyChanges(write.changes),
      actor: write.actor,
      at: formatWireTime(write.at),
    },
  };
}

/** The data of an import event: the site, and the run as the admin API's run log shows it. */
function runData(site: SiteConfig, run: TaskRun) {
  return {
    site: site.slug,
    task: run.task,
    run: {
      number: run.number,
      trigger: run.trigger,
      startedAt: formatWireTime(run.startedAt),
      finishedAt: formatWireTime(run.finishedAt),
      outcome: run.outcome,
      message: run.message,
      counts: run.counts,
      rejections: run.rejections,
    },
  };
}

/** The site's config through the caches, for callers that hold only its id (the Durable Object, jobs). */
async function siteConfig(env: Env, site: SiteConfig | number): Promise<SiteConfig | null> {
  return typeof site === "number" ? cachedSiteConfig(env, site) : site;
}

/**
 * Publishes the events of permit writes that the site has subscribers for;
 * nothing at all when it has none. Call it off the answer's path
 * (`waitUntil`): it never throws, a failure to enqueue is logged.
 */
export async function publishPermitWrites(env: Env, site: SiteConfig | number, writes: readonly PermitWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const config = await siteConfig(env, site);
  if (!config || config.webhookEvents.length === 0) return;
  const wanted = new Set(config.webhookEvents);
  const events: EventRecord[] = [];
  for (const write of writes) {
    const types = eventTypesOf(write).filter((t) => wanted.has(t));
    if (types.length === 0) continue;
    // A session's write is two events with the same data: built once.
    const data = permitData(config, write);
    for (const type of types) {
      const id = await eventId(type, `${write.permit.id}:${write.permit.version}`);
      const body = envelope(type, write.at, data);
      events.push({ id, siteId: config.id, type, body, at: write.at, forgetFrom: Math.min(write.at, write.permit.endAt) });
    }
  }
  await enqueue(env, events);
}

/** Publishes the end of an import run (`import.finished`, or `import.failed`) if the site has subscribers for it. */
export async function publishImportRun(env: Env, site: SiteConfig | number, run: TaskRun): Promise<void> {
  if (run.outcome === "running") return;
  const type: WebhookEventType = run.outcome === "failed" ? "import.failed" : "import.finished";
  const config = await siteConfig(env, site);
  if (!config?.webhookEvents.includes(type)) return;
  const at = run.finishedAt ?? run.startedAt;
  const id = await eventId(type, `run:${run.id}`);
  await enqueue(env, [{ id, siteId: config.id, type, body: envelope(type, at, runData(config, run)), at, forgetFrom: at }]);
}

/** Queues takes at most 100 messages and 256 KB in one `sendBatch`. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200 * 1024;
/** Sending is tried this many times (a Queues error such as its throughput limit passes). */
const SEND_TRIES = 3;

/** Sends messages in batches within Queues' limits, each batch tried {@link SEND_TRIES} times; throws if one never goes. */
export async function sendMessages(queue: Queue, messages: WebhookMessage[], options: QueueSendBatchOptions = {}): Promise<void> {
  const batches: WebhookMessage[][] = [];
  let current: WebhookMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = JSON.stringify(message).length;
    if (current.length === BATCH_MESSAGES || (current.length > 0 && bytes + size > BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  for (const batch of batches) {
    for (let attempt = 1; ; attempt++) {
      try {
        await queue.sendBatch(
          batch.map((body) => ({ body })),
          options,
        );
        break;
      } catch (error) {
        if (attempt >= SEND_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** attempt));
      }
    }
  }
}

/**
 * Enqueues events to fan out. When Queues will not take them, they are held
 * in D1's outbox, which the webhook sweep sends again within minutes; only if
 * D1 refuses them too are they lost, and logged. Never throws at the request
 * that caused them.
 */
async function enqueue(env: Env, events: EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await sendMessages(
      env.WEBHOOKS,
      events.map((event) => ({ kind: "event", event })),
    );
  } catch (queueError) {
    try {
      await holdEvents(env.DB, events, nowSeconds());
    } catch (error) {
      console.error(
        JSON.stringify({
          webhooks: "events lost: neither enqueued nor held",
          events: events.map((e) => `${e.type} ${e.id}`),
          queueError: queueError instanceof Error ? queueError.message : String(queueError),
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }
  }
}
