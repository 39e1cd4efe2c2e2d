/**
 * Wire times are UTC `Y-m-d\TH:i:s` (seed 001), optionally with a trailing `Z`;
 * storage is epoch seconds.
 */
const WIRE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z?$/;

/** The wire time's shape as a JSON Schema `pattern`, for the OpenAPI document (the calendar check is parseWireTime's). */
export const WIRE_TIME_PATTERN = WIRE_TIME.source;

/** Days in month `month` (1 to 12) of `year`, in the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a Gregorian date (Howard Hinnant's days_from_civil), in integer arithmetic. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * Parses a wire time into epoch seconds, or `undefined` if it is malformed or not a real calendar time (2026-02-30,
 * 24:00:00, a 60th second). Plain arithmetic, no `Date`: an import parses three times per parking right.
 */
export function parseWireTime(value: string): number | undefined {
  const m = WIRE_TIME.exec(value);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  // Years before 0100 are refused, as they always were: nothing stores them, and helpers built on Date.UTC
  // (wallClock) would read them as 1900 to 1999.
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/** The Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's civil_from_days), in integer arithmetic. */
function civilFromDays(days: number): [year: number, month: number, day: number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const m = Math.floor((5 * dayOfYear + 2) / 153);
  const month = m < 10 ? m + 3 : m - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, dayOfYear - Math.floor((153 * m + 2) / 5) + 1];
}

const twoDigits = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * Formats epoch seconds as a wire time, `Y-m-d\TH:i:s` in UTC without a suffix, as the seeds print it; null stays
 * null. Integer arithmetic rather than `Date`: a feed of 10,000 permits formats 20,000 times.
 */
export function formatWireTime(epochSeconds: number): string;
export function formatWireTime(epochSeconds: number | null): string | null;
export function formatWireTime(epochSeconds: number | null): string | null {
  if (epochSeconds === null) return null;
  const seconds = Math.floor(epochSeconds);
  const days = Math.floor(seconds / 86400);
  const [year, month, day] = civilFromDays(days);
  // Years past four digits are written as `Date` writes them (never a wire time this API accepts); NaN throws there.
  if (!(year >= 0 && year <= 9999)) return new Date(seconds * 1000).toISOString().slice(0, 19);
  const time = seconds - days * 86400;
  const clock = `${twoDigits(Math.floor(time / 3600))}:${twoDigits(Math.floor(time / 60) % 60)}:${twoDigits(time % 60)}`;
  return `${String(year).padStart(4, "0")}-${twoDigits(month)}-${twoDigits(day)}T${clock}`;
}

/** The current time in epoch seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Formats epoch seconds as RFC 3339 in UTC (`2026-11-22T20:00:00Z`), as the sessions API answers; null stays null. */
export function formatRfc3339(epochSeconds: number): string;
export function formatRfc3339(epochSeconds: number | null): string | null;
export function formatRfc3339(epochSeconds: number | null): string | null {
  return epochSeconds === null ? null : `${formatWireTime(epochSeconds)}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 date-time into epoch seconds (fractions dropped). The
 * offset is required (`Z` or `±hh:mm`): a time without one names no instant.
 * `undefined` when malformed or not a real calendar time.
 */
export function parseRfc3339(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, date, time, , offset] = m as unknown as [string, string, string, string | undefined, string];
  const local = parseWireTime(`${date}T${time}`);
  if (local === undefined) return undefined;
  if (offset === "Z" || offset === "z") return local;
  const [h, mi] = offset.slice(1).split(":").map(Number) as [number, number];
  if (h > 23 || mi > 59) return undefined;
  return local - (offset.startsWith("-") ? -1 : 1) * (h * 3600 + mi * 60);
}

/**
 * The canonical IANA name of a time zone (`america/toronto` → `America/Toronto`),
 * or undefined when the runtime's time zone database does not know it.
 */
export function canonicalTimeZone(name: string): string | undefined {
  // Offsets such as "+05:00" are accepted by Intl but are not IANA zone names.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/**
 * The wall-clock time in `zone` at an instant (epoch seconds), as epoch
 * seconds of that wall clock read as UTC: `zone`'s offset at the instant is
 * the difference. One formatter per zone, reused.
 */
export function wallClock(epochSeconds: number, zone: string): number {
  let format = wallClocks.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    wallClocks.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(epochSeconds * 1000)).map((p) => [p.type, p.value]));
  const y = Number(parts.year);
  return Date.UTC(y, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)) / 1000;
}

/** The local time in `zone` at an instant, formatted like a wire time (`Y-m-d\TH:i:s`, no offset); null stays null. */
export function formatLocalTime(epochSeconds: number, zone: string): string;
export function formatLocalTime(epochSeconds: number | null, zone: string): string | null;
export function formatLocalTime(epochSeconds: number | null, zone: string): string | null {
  return epochSeconds === null ? null : formatWireTime(wallClock(epochSeconds, zone));
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses a calendar date `Y-m-d` into the epoch seconds of its midnight read
 * as UTC (a wall-clock time; see {@link instantOfWallClock}), or `undefined`
 * if it is malformed or not a real date (2026-02-30).
 */
export function parseDate(value: string): number | undefined {
  return DATE.test(value) ? parseWireTime(`${value}T00:00:00`) : undefined;
}

/**
 * The instant (epoch seconds) at which the wall clock in `zone` reads
 * `local` (a wall-clock time as epoch seconds read as UTC). When the clock
 * reads it twice (the hour a summer time ends), the first; when it never
 * does (the hour skipped when summer time begins, which some zones skip at
 * midnight), the instant the clock jumped past it.
 */
export function instantOfWallClock(local: number, zone: string): number {
  // A zone's offset changes at most once in a day on either side: the offsets a day before and after are the candidates.
  const offsets = [local - 86_400, local + 86_400].map((t) => wallClock(t, zone) - t);
  const fits = offsets.map((offset) => local - offset).filter((t) => wallClock(t, zone) === local);
  if (fits.length > 0) return Math.min(...fits);
  return local - Math.min(...offsets);
}
