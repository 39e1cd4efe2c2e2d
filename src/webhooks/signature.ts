/**
 * Standard Webhooks signatures (v1.0.0, symmetric): each endpoint has a
 * secret `whsec_<base64 of 32 random bytes>`; a delivery carries
 * `webhook-id`, `webhook-timestamp` (Unix seconds of the attempt) and
 * `webhook-signature: v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
 * one entry per secret in use, space-separated (two during the day after a
 * rotation). Any Standard Webhooks library verifies it.
 */

const PREFIX = "whsec_";
/** Standard Webhooks asks for 24 to 64 random bytes. */
const SECRET_BYTES = 32;

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** A new endpoint secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${PREFIX}${toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;
}

/** The HMAC key of a `whsec_` secret: the bytes its base64 part encodes. */
async function keyOf(secret: string): Promise<CryptoKey> {
  if (!secret.startsWith(PREFIX)) throw new Error("a webhook secret starts with whsec_");
  const raw = Uint8Array.from(atob(secret.slice(PREFIX.length)), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** One signature entry, `v1,<base64>`, of the message `id` sent at `timestamp` (Unix seconds) with `body`. */
export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await keyOf(secret), new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The headers of one attempt: the id, the attempt's timestamp, and a signature per secret. */
export async function webhookHeaders(secrets: string[], id: string, timestamp: number, body: string): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((s) => signWebhook(s, id, timestamp, body)));
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatures.join(" "),
  };
}
