/** Seed 001: "at least 3 digits, two of which are penny values", 0.01 to 999999.99. */
const AMOUNT = /^\d{1,6}\.\d{2}$/;
export const MIN_CENTS = 1;
export const MAX_CENTS = 99_999_999;

/**
 * Parses an OPS-COM amount into integer cents: a string with exactly two
 * decimals, or a JSON number with at most two. Returns an error message when
 * the value breaks the rule.
 */
export function parseAmount(value: string | number): { cents: number } | { error: string } {
  let cents: number;
  if (typeof value === "string") {
    if (!AMOUNT.test(value)) return { error: "must be a decimal string with exactly two decimals, e.g. 14.50" };
    const [whole, pennies] = value.split(".") as [string, string];
    cents = Number(whole) * 100 + Number(pennies);
  } else {
    if (!Number.isFinite(value)) return { error: "must be a finite number" };
    cents = Math.round(value * 100);
    if (Math.abs(value * 100 - cents) > 1e-6) return { error: "must have at most two decimals" };
  }
  if (cents < MIN_CENTS || cents > MAX_CENTS) return { error: "must be between 0.01 and 999999.99" };
  return { cents };
}

/** Formats cents as the wire's two-decimal string (a refund or a lowered amount keeps its minus sign). */
export function formatCents(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}
