/**
 * Wire times are UTC `Y-m-d\TH:i:s` (seed 001), optionally with a trailing `Z`;
 * storage is epoch seconds.
 */
const WIRE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z?$/;

/** Parses a wire time into epoch seconds, or `undefined` if it is malformed or not a real calendar time (2026-02-30). */
export function parseWireTime(value: string): number | undefined {
  const m = WIRE_TIME.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 02-30 over to 03-02 and 24:00 to the next day: a real time survives the round trip.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return ms / 1000;
}

/** Formats epoch seconds as a wire time, `Y-m-d\TH:i:s` in UTC without a suffix, as the seeds print it; null stays null. */
export function formatWireTime(epochSeconds: number): string;
export function formatWireTime(epochSeconds: number | null): string | null;
export function formatWireTime(epochSeconds: number | null): string | null {
  return epochSeconds === null ? null : new Date(epochSeconds * 1000).toISOString().slice(0, 19);
}

/** The current time in epoch seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
