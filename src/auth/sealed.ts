import { AppError, ErrorCode } from "../errors";

/**
 * Secrets at rest (the ParkMobile credentials) are sealed with AES-256-GCM
 * under the SETTINGS_KEY Worker secret: `v1.<base64 iv>.<base64 ciphertext>`.
 * The additional data binds each value to its site and field, so a sealed
 * value copied to another row or column does not open.
 */
const VERSION = "v1";

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function importKey(secret: string | undefined): Promise<CryptoKey> {
  let raw: Uint8Array | undefined;
  try {
    raw = secret ? fromBase64(secret) : undefined;
  } catch {
    raw = undefined;
  }
  if (raw?.length !== 32) {
    throw new AppError(
      ErrorCode.Internal,
      "SETTINGS_KEY is not set to 32 bytes of base64 on this Worker: `openssl rand -base64 32 | wrangler secret put SETTINGS_KEY`.",
      {
        status: 500,
      },
    );
  }
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** Seals `plaintext`, bound to `context` (e.g. `parkmobile:12:password`). */
export async function seal(secret: string | undefined, plaintext: string, context: string): Promise<string> {
  const key = await importKey(secret);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    key,
    new TextEncoder().encode(plaintext),
  );
  return `${VERSION}.${toBase64(iv)}.${toBase64(new Uint8Array(sealed))}`;
}

/** Opens a sealed value; throws if the key, the context or the value is wrong. */
export async function unseal(secret: string | undefined, sealed: string, context: string): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== VERSION || !iv || !data) throw new Error("not a sealed value");
  const key = await importKey(secret);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv), additionalData: new TextEncoder().encode(context) },
    key,
    fromBase64(data),
  );
  return new TextDecoder().decode(plain);
}
