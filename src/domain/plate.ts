/**
 * Plates keep their raw value and a normalized one for matching: upper case,
 * without spaces, dashes or dots, so "abc-123", "ABC 123" and "ABC123" match.
 */
export function normalizePlate(raw: string): string {
  return raw.toUpperCase().replace(/[\s.-]/gu, "");
}

/** A normalized plate is letters and digits of any script, nothing else. */
export function isValidNormalizedPlate(normalized: string): boolean {
  return /^[\p{L}\p{N}]+$/u.test(normalized);
}
