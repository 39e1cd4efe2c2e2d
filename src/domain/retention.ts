/**
 * The retention policy of a site, as pure rules: which permits lose their
 * plate, which months are archived, and where an archive lives. A site sets
 * N (days) and M (months); the defaults are in the schema (90 days, 13 months).
 */

/** The bounds an admin may set: at least a day (the feed's grace period is at most a day), at most ten years. */
export const ANONYMIZE_DAYS = { min: 1, max: 3650 } as const;
export const ARCHIVE_MONTHS = { min: 1, max: 120 } as const;

/** Permits that ended before this moment (epoch seconds) lose their plate: `days` days before `now`. */
export function anonymizeBefore(now: number, days: number): number {
  return now - days * 86_400;
}

/**
 * Permits that ended before this moment are archived: the first instant of
 * the calendar month (UTC) holding `now` minus `months` months, so only whole
 * months that ended more than `months` months ago are archived, each once.
 */
export function archiveBefore(now: number, months: number): number {
  const d = new Date(now * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, 1) / 1000;
}

/** The UTC month (`YYYY-MM`) holding an instant. */
export function monthOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 7);
}

/** The first instant of a month and of the month after it (epoch seconds). */
export function monthSpan(month: string): { from: number; to: number } {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return { from: Date.UTC(y, m - 1, 1) / 1000, to: Date.UTC(y, m, 1) / 1000 };
}

/** A month as the archive API takes it. */
export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The R2 key of a site's archive of one month (by the month its permits ended in). */
export function archiveKey(siteSlug: string, month: string): string {
  return `${archivePrefix(siteSlug)}${month}.ndjson.gz`;
}

/** The R2 prefix of a site's archives. */
export function archivePrefix(siteSlug: string): string {
  return `permits/${siteSlug}/`;
}
