import { unseal } from "../auth/sealed";
import { cacheKeys, invalidate } from "../cache";
import {
  type AttemptRecord,
  type AttemptResult,
  type ClaimedDelivery,
  claimDelivery,
  type DeliveryRef,
  previousSecretSigns,
  recordAttempt,
  secretContext,
  skipDelivery,
} from "../db/webhooks";
import { retryDelaySeconds } from "../domain/webhooks";
import { checkWebhookUrl, isLoopback } from "./address";
import { type Refusal, refusedAddress } from "./resolve";
import { webhookHeaders } from "./signature";

/** A receiver that has not answered after this long has failed the attempt (Standard Webhooks: 15 to 30 s; Svix: 15 s). */
export const DELIVERY_TIMEOUT_MS = 15_000;
/** An attempt holds its delivery this long: longer than any attempt takes, short enough that a dead consumer's is soon free. */
export const LEASE_SECONDS = 60;
/** How much of a receiver's answer the attempt log keeps. */
const RESPONSE_KEPT = 500;

/** What a delivery attempt uses from outside, replaceable in tests. */
export interface DeliveryOptions {
  /** Reaches the receiver. */
  fetch?: typeof fetch;
  /** Says whether a host name resolves to an address webhooks must not reach. */
  resolve?: (name: string) => Promise<Refusal | null>;
  timeoutMs?: number;
  /** In [0, 1): stretches each retry delay by up to 10%. */
  random?: () => number;
}

/**
 * What became of one delivery message: delivered; to be retried after
 * `delaySeconds`; failed for good (`exhausted`: its last attempt failed, so
 * the message goes on to the dead-letter queue; `gone`: the receiver answered
 * 410); nothing to do (`dropped`: the delivery is done, redelivered, deleted,
 * or its endpoint disabled); or another copy of the message is attempting it
 * (`busy`: look again once its lease ends).
 */
export type DeliveryOutcome =
  | { result: "delivered" | "dropped" }
  | { result: "retry" | "busy"; delaySeconds: number }
  | { result: "failed"; reason: "exhausted" | "gone" };

const seconds = (ms: number) => Math.floor(ms / 1000);

/** `Retry-After` in seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function retryAfterSeconds(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** The signing secrets of an endpoint now: its own, and the one before a rotation while that still signs. */
async function secretsOf(env: Env, endpoint: ClaimedDelivery["endpoint"], now: number): Promise<string[]> {
  const context = secretContext(endpoint.id);
  const secrets = [await unseal(env.SETTINGS_KEY, endpoint.secret, context)];
  if (endpoint.previousSecret !== null && previousSecretSigns(endpoint, now)) {
    secrets.push(await unseal(env.SETTINGS_KEY, endpoint.previousSecret, context));
  }
  return secrets;
}

/** Why the URL may not be reached now (its rule, or what its name resolves to), or null. */
async function refusal(env: Env, url: string, options: DeliveryOptions): Promise<string | null> {
  const check = checkWebhookUrl(url, env.WEBHOOKS_ALLOW_LOCALHOST === "true");
  if (!check.ok) return `Not sent: url ${check.rule}.`;
  if (check.host.type !== "name" || isLoopback(check.host)) return null;
  const refused = await (options.resolve ?? refusedAddress)(check.host.name);
  return refused ? `Not sent: ${refused.message}.` : null;
}

/** What an attempt got back: the status (null: no answer), the start of the body, `Retry-After`, or why it failed. */
type Answer = { status: number | null; response: string | null; retryAfter: string | null; error: string | null };

/** An attempt that sent nothing, and why. */
const notSent = (error: string): Answer => ({ status: null, response: null, retryAfter: null, error });

/** Sends a claimed delivery once, if its URL may be reached and its secret opened. */
async function send(env: Env, claim: ClaimedDelivery, at: number, options: DeliveryOptions): Promise<Answer> {
  const { delivery, endpoint, body } = claim;
  const refused = await refusal(env, endpoint.url, options);
  if (refused) return notSent(refused);
  let secrets: string[];
  try {
    secrets = await secretsOf(env, endpoint, at);
  } catch {
    return notSent("Not sent: the endpoint's secret cannot be opened (was SETTINGS_KEY changed?); rotate the secret.");
  }
  return post(endpoint.url, await webhookHeaders(secrets, delivery.eventId, at, body), body, options);
}

/** Posts the event to the receiver once: no redirects followed, at most `timeoutMs`. */
/**
 * The first {@link RESPONSE_KEPT} characters of an answer's body, for the
 * attempt log. It reads only as many bytes as those can take (4 per
 * character) and cancels the rest: a receiver answering gigabytes costs no
 * more than one answering a line. Null when there is none or it cannot be read.
 */
async function answerStart(res: Response): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < RESPONSE_KEPT * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
    text += decoder.decode();
  } catch {
    return text.slice(0, RESPONSE_KEPT) || null;
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, RESPONSE_KEPT) || null;
}

async function post(url: string, headers: Record<string, string>, body: string, options: DeliveryOptions): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers: { ...headers, "user-agent": "permits-edge-webhooks/1" },
      body,
      redirect: "manual",
      signal,
    });
    const response = await answerStart(res);
    const error = res.status >= 300 && res.status < 400 ? `Redirect to ${res.headers.get("location") ?? "?"} not followed.` : null;
    return { status: res.status, response, retryAfter: res.headers.get("retry-after"), error };
  } catch (error) {
    const timedOut = signal.aborted || (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"));
    const message = timedOut
      ? `No answer within ${timeoutMs / 1000} s.`
      : `Could not connect: ${error instanceof Error ? error.message : String(error)}.`;
    return notSent(message);
  }
}

/**
 * One attempt at one delivery, as its queue message (`ref`, delivered
 * `queueAttempts` times so far) asks: claims the delivery (see
 * {@link claimDelivery}), signs the event's stored body with the endpoint's
 * secret(s), posts it, logs the attempt and moves the delivery on. 2xx is
 * delivered; 410 disables the endpoint; anything else (a 3xx, a 4xx, a 5xx,
 * no answer, an address refused) is retried on the schedule, after at least
 * the receiver's `Retry-After`, until the round's last attempt fails.
 */
export async function deliverOnce(
  env: Env,
  ref: DeliveryRef,
  queueAttempts: number,
  options: DeliveryOptions = {},
): Promise<DeliveryOutcome> {
  const claim = await claimDelivery(env.DB, ref, queueAttempts, seconds(Date.now()), LEASE_SECONDS);
  switch (claim.status) {
    case "missing":
    case "obsolete":
      return { result: "dropped" };
    case "disabled":
      await skipDelivery(env.DB, ref, seconds(Date.now()));
      return { result: "dropped" };
    case "busy":
      return { result: "busy", delaySeconds: Math.max(1, claim.leaseUntil - seconds(Date.now())) };
  }
  const { delivery, endpoint } = claim;
  const startedMs = Date.now();
  const at = seconds(startedMs);
  const got = await send(env, claim, at, options);
  const endedMs = Date.now();
  const attempt: AttemptRecord = {
    number: delivery.attempts,
    at,
    status: got.status,
    durationMs: endedMs - startedMs,
    error: got.error,
    response: got.response,
  };

  let outcome: DeliveryOutcome;
  let result: AttemptResult;
  if (got.status !== null && got.status >= 200 && got.status < 300) {
    outcome = { result: "delivered" };
    result = { state: "delivered" };
  } else if (got.status === 410) {
    attempt.error = "410 Gone: the endpoint was disabled.";
    outcome = { result: "failed", reason: "gone" };
    result = { state: "failed", disableEndpoint: true };
  } else {
    const delay = retryDelaySeconds(delivery.roundAttempts, retryAfterSeconds(got.retryAfter, endedMs), (options.random ?? Math.random)());
    if (delay === null) {
      outcome = { result: "failed", reason: "exhausted" };
      result = { state: "failed" };
    } else {
      outcome = { result: "retry", delaySeconds: delay };
      result = { state: "pending", nextAttemptAt: seconds(endedMs) + delay };
    }
  }
  const disabled = await recordAttempt(env.DB, ref, attempt, result);
  // The site's cached config lists the types its enabled endpoints want: this one no longer counts.
  if (disabled) await invalidate(env.CACHE, cacheKeys.site(endpoint.siteId));
  return outcome;
}
