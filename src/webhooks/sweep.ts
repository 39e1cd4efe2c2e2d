import { heldEvents, releaseHeldEvents, restartStuckDeliveries } from "../db/webhooks";
import { MAX_ATTEMPTS } from "../domain/webhooks";
import { sendMessages } from "./publish";

/**
 * The webhook sweep, run by the Cron Trigger every 3 minutes: what the queue
 * could not be trusted with is put back on it. Events held in the outbox (a
 * request could not enqueue them, or their fan-out was dead-lettered) are
 * sent again; deliveries whose message was lost (a redelivery whose send
 * failed, a dead letter that could not be recorded) are failed or started
 * again as a new round. Delivery stays at least once, and never twice at
 * once: fan-out is idempotent per event, and a new round makes any late
 * message of the old one obsolete.
 */

/** A delivery nothing has happened to for this long, past when its message was due, has lost its message. */
export const STUCK_AFTER_SECONDS = 15 * 60;
/** What one sweep takes on at most, of each kind; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

export interface SweepCounts {
  /** Held events put on the queue again. */
  resent: number;
  /** Stuck deliveries failed (their round had had all its attempts). */
  failed: number;
  /** Stuck deliveries started again as a new round. */
  restarted: number;
}

export async function sweepWebhooks(env: Env, now: number): Promise<SweepCounts> {
  const held = await heldEvents(env.DB, SWEEP_BATCH);
  if (held.length > 0) {
    await sendMessages(
      env.WEBHOOKS,
      held.map((event) => ({ kind: "event", event })),
    );
    await releaseHeldEvents(
      env.DB,
      held.map((e) => e.id),
    );
  }
  const stuck = await restartStuckDeliveries(env.DB, now - STUCK_AFTER_SECONDS, now, MAX_ATTEMPTS, SWEEP_BATCH);
  // A send that fails leaves them pending in their new round, due now: the sweep after the next finds them again.
  await sendMessages(
    env.WEBHOOKS,
    stuck.restarted.map((ref) => ({ kind: "delivery", ...ref })),
  );
  return { resent: held.length, failed: stuck.failed, restarted: stuck.restarted.length };
}
