import { fanOutEvent, holdEvents, recordDeadLetter } from "../db/webhooks";
import { nowSeconds } from "../domain/time";
import { type DeliveryOptions, deliverOnce } from "./deliver";
import { sendMessages, type WebhookMessage } from "./publish";

/** The queue events and deliveries travel on (wrangler.toml's producer and first consumer). */
export const WEBHOOKS_QUEUE = "permits-edge-webhooks";
/** Where a delivery goes once the queue gives up on it (wrangler.toml's `dead_letter_queue`, also consumed here). */
export const WEBHOOKS_DEAD_LETTER_QUEUE = "permits-edge-webhooks-dlq";

/** A message that failed unexpectedly (D1 unreachable, a bug) is tried again after this long. */
const UNEXPECTED_RETRY_SECONDS = 30;

/**
 * Stores an event and a delivery per endpoint that wants it, then sends one
 * message per delivery not attempted yet: each is attempted, retried and
 * dead-lettered on its own. Repeating it (the event's message delivered
 * twice) sends nothing twice that matters: see {@link fanOutEvent}.
 */
async function fanOut(env: Env, message: Extract<WebhookMessage, { kind: "event" }>): Promise<void> {
  const deliveries = await fanOutEvent(env.DB, message.event, nowSeconds());
  await sendMessages(
    env.WEBHOOKS,
    deliveries.map((d) => ({ kind: "delivery", ...d })),
  );
}

/** One message of the webhooks queue, acknowledged or retried as its outcome says. */
async function consume(env: Env, message: Message<WebhookMessage>, options: DeliveryOptions): Promise<void> {
  const body = message.body;
  if (body.kind === "event") {
    await fanOut(env, body);
    return message.ack();
  }
  const outcome = await deliverOnce(env, body, message.attempts, options);
  switch (outcome.result) {
    case "retry":
    case "busy":
      return message.retry({ delaySeconds: outcome.delaySeconds });
    case "failed":
      // The round's last attempt failed (and is logged as such): not acknowledged, Queues moves it to the dead-letter queue.
      return outcome.reason === "exhausted" ? message.retry() : message.ack();
    default:
      return message.ack();
  }
}

/**
 * One message of the dead-letter queue: its delivery is recorded as failed,
 * if the consumer had not said so itself; an event the queue gave up fanning
 * out (D1 unreachable for its every try) is held in the outbox, for the
 * webhook sweep to send again.
 */
async function consumeDeadLetter(env: Env, message: Message<WebhookMessage>): Promise<void> {
  const body = message.body;
  if (body.kind === "delivery") await recordDeadLetter(env.DB, body, nowSeconds());
  else await holdEvents(env.DB, [body.event], nowSeconds());
  message.ack();
}

/**
 * The Worker's queue handler: the webhooks queue (events to fan out, and
 * deliveries to attempt) and its dead-letter queue. Messages are handled
 * concurrently and acknowledged or retried one by one, so one receiver's
 * failure never holds up another's delivery. An unexpected failure is
 * logged and the message retried.
 */
export async function consumeWebhooks(batch: MessageBatch<WebhookMessage>, env: Env, options: DeliveryOptions = {}): Promise<void> {
  const deadLetters = batch.queue === WEBHOOKS_DEAD_LETTER_QUEUE;
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await (deadLetters ? consumeDeadLetter(env, message) : consume(env, message, options));
      } catch (error) {
        console.error(
          JSON.stringify({
            webhooks: "message failed",
            queue: batch.queue,
            id: message.id,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
        );
        message.retry({ delaySeconds: UNEXPECTED_RETRY_SECONDS });
      }
    }),
  );
}
