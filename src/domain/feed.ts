/**
 * The enforcement feed of a lot zone (Genetec Pay-by-Plate's "permits of a
 * zone"): which permits a zone's list holds at a moment, and why one a delta
 * reports is no longer in it. Pure rules; storage and routes apply them.
 */

/** A permit as the feed sees it. */
export interface FeedPermit {
  id: string;
  plateNorm: string;
  plateState: string | null;
  startAt: number;
  endAt: number;
  lotZoneId: number | null;
  deletedAt: number | null;
}

/** Continuation tokens older than this are refused: the change log they read from is kept 25 hours. */
export const FEED_TOKEN_MAX_AGE_SECONDS = 24 * 60 * 60;
/** How long the change log keeps a change: a token's age limit plus an hour for clocks that disagree. */
export const FEED_LOG_KEEP_SECONDS = FEED_TOKEN_MAX_AGE_SECONDS + 60 * 60;
/** A zone whose ParkMobile import has not succeeded for this long cannot be answered (503): five 3-minute runs. */
export const FEED_STALE_AFTER_SECONDS = 15 * 60;
/** The longest grace period a site may set; the feed's change log relies on it (see the migration's triggers). */
export const MAX_GRACE_MINUTES = 24 * 60;

/**
 * Whether zone `zoneId`'s list holds `p` at `now`: the plate check's rule
 * (started, not deleted, not ended or ended within the grace period), in
 * that lot zone.
 */
export function isListed(p: FeedPermit, zoneId: number, now: number, graceSeconds: number): boolean {
  return p.lotZoneId === zoneId && p.deletedAt === null && p.startAt <= now && p.endAt > now - graceSeconds;
}

/** Why a permit a delta reports is not (or no longer) in the zone's list. */
export type RemovalReason = "deleted" | "moved" | "expired" | "not-started";

/** The reason `p` is not in zone `zoneId`'s list at `now` (call only when {@link isListed} is false). */
export function removalReason(p: FeedPermit, zoneId: number, now: number): RemovalReason {
  if (p.deletedAt !== null) return "deleted";
  if (p.lotZoneId !== zoneId) return "moved";
  return p.startAt > now ? "not-started" : "expired";
}
