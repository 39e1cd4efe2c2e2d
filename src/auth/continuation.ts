import { AppError, ErrorCode } from "../errors";

/**
 * The enforcement feed's continuation tokens: where a client's copy of a
 * zone's list stands. Opaque to clients; derived from data only (the change
 * log's sequence number and the moment of the answer), so they survive
 * restarts and deploys; authenticated with HMAC-SHA-256 under the
 * FEED_TOKEN_KEY Worker secret, so a forged or altered token is refused.
 *
 * Form: `<base64url JSON payload>.<base64url first 16 bytes of the MAC>`.
 */

/** What a token says. */
export interface FeedPosition {
  /** The site and lot zone the list is of: a token is good for that zone only. */
  siteId: number;
  zoneId: number;
  /** The change log's high-water mark the answer reflected. */
  seq: number;
  /** The moment (epoch seconds) whose list the answer brought the client to. */
  at: number;
  /** The grace period (seconds) that list applied: a changed grace period needs a full pull. */
  grace: number;
}

const MAC_BYTES = 16;
/** A domain tag in the MAC input: a MAC made under this key for another purpose never passes as a token. */
const PURPOSE = "permits-edge feed continuation v1\n";

const encoder = new TextEncoder();
const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
/** The bytes of a base64url text, or null unless it is the one canonical encoding of them (no ignored bits). */
function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const bytes = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    return toBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key from the secret (at least 32 characters), imported once per isolate. */
function macKey(secret: string | undefined): Promise<CryptoKey> {
  if (!secret || secret.length < 32) {
    throw new AppError(
      ErrorCode.Internal,
      "FEED_TOKEN_KEY is not set (at least 32 characters) on this Worker: `openssl rand -base64 32 | wrangler secret put FEED_TOKEN_KEY`.",
    );
  }
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

async function mac(secret: string | undefined, payload: string): Promise<Uint8Array> {
  const signature = await crypto.subtle.sign("HMAC", await macKey(secret), encoder.encode(PURPOSE + payload));
  return new Uint8Array(signature).slice(0, MAC_BYTES);
}

/** A token for `position`. */
export async function issueToken(secret: string | undefined, position: FeedPosition): Promise<string> {
  const payload = toBase64Url(
    encoder.encode(JSON.stringify([position.siteId, position.zoneId, position.seq, position.at, position.grace])),
  );
  return `${payload}.${toBase64Url(await mac(secret, payload))}`;
}

/** The position a token holds, or null when it is not a token this Worker issued under its key (damaged, forged, altered). */
export async function readToken(secret: string | undefined, token: string): Promise<FeedPosition | null> {
  const [payload, tag, ...rest] = token.split(".");
  if (!payload || !tag || rest.length > 0 || payload.length > 200) return null;
  const given = fromBase64Url(tag);
  const expected = await mac(secret, payload);
  if (!given || given.length !== MAC_BYTES || !crypto.subtle.timingSafeEqual(given, expected)) return null;
  const bytes = fromBase64Url(payload);
  let values: unknown;
  try {
    values = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
  } catch {
    return null;
  }
  if (!Array.isArray(values) || values.length !== 5 || !values.every((v) => Number.isSafeInteger(v) && v >= 0)) return null;
  const [siteId, zoneId, seq, at, grace] = values as number[];
  return { siteId, zoneId, seq, at, grace } as FeedPosition;
}
