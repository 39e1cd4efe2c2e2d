import { inject } from "vitest";
import type { ReceivedWebhook } from "../scripts/webhook-receiver";
import { WEBHOOK_EVENT_TYPES } from "../src/domain/webhooks";
import { adminCall } from "./helpers";

/**
 * The tests' side of the webhook receiver stand-in (scripts/webhook-receiver.ts, run by test/global-setup.ts): an
 * endpoint registered at a path of the receiver no other test uses, its secret given to the receiver, and what the
 * receiver got there (each delivery with the Standard Webhooks library's verdict on its signature).
 */

/** One delivery as the receiver got it. */
export type Received = ReceivedWebhook;

/** Where the receiver listens. */
export const receiverUrl = () => inject("webhookReceiver").url;

/** Has the receiver verify `path`'s deliveries with `secret`. */
export async function tellSecret(path: string, secret: string): Promise<void> {
  const res = await fetch(`${receiverUrl()}/_receiver/secrets`, { method: "PUT", body: JSON.stringify({ path, secret }) });
  if (res.status !== 204) throw new Error(`receiver secrets: ${res.status}`);
}

/** What the receiver got at `path`, in arrival order. */
export async function received(path: string): Promise<Received[]> {
  const res = await fetch(`${receiverUrl()}/_receiver/received?${new URLSearchParams({ path })}`);
  return (await res.json()) as Received[];
}

/** What the receiver got at `path` once `ok` holds of it (polled for up to `ms`); the last list otherwise. */
export async function receivedWhen(path: string, ok: (list: Received[]) => boolean, ms = 5_000): Promise<Received[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const list = await received(path);
    if (ok(list) || Date.now() > deadline) return list;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A registered endpoint: its id and secret, the receiver path it posts to, and that path with its query (the URL's tail). */
export interface TestEndpoint {
  id: string;
  secret: string;
  path: string;
  url: string;
}

/**
 * Registers an endpoint of the site at a fresh path of the receiver (`query` tells the receiver how to answer:
 * `?status=503`, `?fail=1`, `?hang=1`, …) for `events` (every type by default), and gives the receiver its secret.
 */
export async function registerEndpoint(
  slug: string,
  options: { events?: string[]; query?: string; description?: string } = {},
): Promise<TestEndpoint> {
  const path = `/t/${crypto.randomUUID()}`;
  const url = `${receiverUrl()}${path}${options.query ?? ""}`;
  const res = await adminCall("POST", `/sites/${slug}/webhooks`, {
    url,
    events: options.events ?? [...WEBHOOK_EVENT_TYPES],
    description: options.description,
  });
  const body = (await res.json()) as { id: string; secret: string };
  if (res.status !== 201) throw new Error(`webhook create: ${res.status} ${JSON.stringify(body)}`);
  await tellSecret(path, body.secret);
  return { id: body.id, secret: body.secret, path, url };
}

/** The parsed body of a delivery. */
export const payload = (r: Received) => JSON.parse(r.body) as { type: string; timestamp: string; data: Record<string, unknown> };
