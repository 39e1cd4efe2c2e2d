/**
 * Plates keep their raw value and a normalized one for matching: upper case,
 * without spaces, dashes or dots, so "abc-123", "ABC 123" and "ABC123" match.
 */
export function normalizePlate(raw: string): string {
  return raw.toUpperCase().replace(/[\s.-]/gu, "");
}

/** The longest plate, as sent (seed 004's LicencePlate: 25 characters); the same on every surface. */
export const PLATE_MAX = 25;

/** The plate rule, as every error that refuses a plate states it after the field's name. */
export const PLATE_RULE = "must hold letters and digits (spaces, dashes and dots are ignored)";

/** A normalized plate is letters and digits of any script, nothing else. */
export function isValidNormalizedPlate(normalized: string): boolean {
  return /^[\p{L}\p{N}]+$/u.test(normalized);
}

/**
 * The characters plate cameras confuse, each with the one it is folded to:
 * O/0/Q, I/1/L, B/8, S/5, Z/2, G/6 (openalpr #502 and #307, ultimateALPR
 * #283 report these). Folding is for reads only: an opt-in plate check
 * compares folded plates, so a camera's "0BC123" finds the permit of
 * "OBC123"; what is stored is never folded.
 *
 * The one table behind both {@link foldPlate} (what a check asks for) and
 * {@link foldedPlateSql} (the generated column `permits.plate_folded` that
 * answers it from an index).
 */
export const CONFUSABLES: Readonly<Record<string, string>> = {
  O: "0",
  Q: "0",
  I: "1",
  L: "1",
  B: "8",
  S: "5",
  Z: "2",
  G: "6",
};

/** A normalized plate with every confusable character replaced by its digit. */
export function foldPlate(normalized: string): string {
  return [...normalized].map((ch) => CONFUSABLES[ch] ?? ch).join("");
}

/**
 * The SQL expression folding `column` as {@link foldPlate} does: nested
 * `replace()` calls, deterministic, so SQLite can keep it as a generated
 * column and index it.
 */
export function foldedPlateSql(column: string): string {
  return Object.entries(CONFUSABLES).reduce((expr, [from, to]) => `replace(${expr}, '${from}', '${to}')`, column);
}

/** A plate's state, province or jurisdiction as stored: 1 to 10 letters, digits or dashes, upper case ("ON", "QC", "US-CA"). */
const PLATE_STATE = /^[A-Z0-9-]{1,10}$/;

/**
 * The stored form of a plate's state (trimmed, upper case), `null` when
 * none was sent, or `undefined` when what was sent is not one.
 */
export function normalizePlateState(raw: string | null | undefined): string | null | undefined {
  if (raw === null || raw === undefined) return null;
  const state = raw.trim().toUpperCase();
  if (state === "") return null;
  return PLATE_STATE.test(state) ? state : undefined;
}
