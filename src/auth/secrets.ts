const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The characters of the ids people read and type (`tk_…`, `oc_…`, `wh_…`): digits and lower case. */
export const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** `length` characters drawn uniformly from `alphabet` by rejection sampling, so no character is favoured. */
export function randomString(length: number, alphabet = BASE62): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** Hex SHA-256 of a string. */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two secrets in time that does not depend on where they differ. */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  // Hashing first gives equal-length inputs, which timingSafeEqual requires.
  const [ha, hb] = await Promise.all([a, b].map((s) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(s))));
  return crypto.subtle.timingSafeEqual(ha as ArrayBuffer, hb as ArrayBuffer);
}
