/**
 * Webhooks as the domain knows them: the event types a site's endpoints
 * subscribe to, and the retry schedule of a delivery. No I/O.
 */

/** Every event type, with what it means (the README, the API's schema and the console say it with these words). */
export const WEBHOOK_EVENTS = {
  "permit.created": "A permit was created: an OC-TOMA push, a session start, a ParkMobile import, a standard permit.",
  "permit.updated": "A permit changed: an OC-TOMA update, a session's extension or stop, a ParkMobile change.",
  "permit.deleted": "A permit was deleted: an OC-TOMA delete, or an admin ended it.",
  "session.started": "An aggregator started a parking session.",
  "session.extended": "A parking session was extended.",
  "session.stopped": "A parking session was stopped early.",
  "import.finished": "A ParkMobile import run finished: succeeded, or partial (some zones failed).",
  "import.failed": "A ParkMobile import run failed.",
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS;

/** The event types, in the order above. */
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS) as [WebhookEventType, ...WebhookEventType[]];

/** How many endpoints a site may have: each event is delivered to each, so this bounds the work one event makes. */
export const MAX_ENDPOINTS_PER_SITE = 10;

/** How long the secret before a rotation keeps signing beside the new one, in seconds and in hours (as it is said). */
export const PREVIOUS_SECRET_SECONDS = 24 * 3600;
export const PREVIOUS_SECRET_HOURS = PREVIOUS_SECRET_SECONDS / 3600;

/** The longest endpoint URL. */
export const WEBHOOK_URL_MAX = 2000;

/**
 * The delay before each retry, in seconds, after attempts 1 to 7 (Svix's
 * schedule): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. Eight attempts over
 * about 27 hours and a half; after the eighth fails the delivery goes to the
 * dead-letter queue. wrangler.toml's `max_retries` is this list's length.
 */
export const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;

/** Attempts of one round of a delivery: the first, and one per retry delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** The longest a Queues message can be delayed (send or retry): 12 hours. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;

/** A delay is stretched by up to this share, at random, so that retries of many deliveries spread out. */
export const RETRY_JITTER = 0.1;

/**
 * The delay before the retry that follows failed attempt `attempt` (1-based,
 * within its round), or null when it was the last: the schedule's delay plus
 * up to 10% (`random` in [0, 1)), never less than a `Retry-After` the receiver
 * sent, never more than Queues can delay a message.
 */
export function retryDelaySeconds(attempt: number, retryAfterSeconds: number | null, random: number): number | null {
  const base = RETRY_DELAYS_SECONDS[attempt - 1];
  if (base === undefined) return null;
  const delay = Math.max(base + Math.floor(base * RETRY_JITTER * random), retryAfterSeconds ?? 0);
  return Math.min(delay, MAX_QUEUE_DELAY_SECONDS);
}
