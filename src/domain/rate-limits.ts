/**
 * Rate limits: how many calls a credential (an API token, or an OAuth client
 * through its access tokens) may make per minute, reads and writes counted
 * apart, by its tier. Enforced by the Workers Rate Limiting binding, whose
 * counts are per Cloudflare location and approximate (see the README).
 */

/** The tiers, lowest first: every credential starts at `standard`; an admin raises one for a busier integration. */
export const RATE_TIERS = ["standard", "high", "max"] as const;
export type RateTier = (typeof RATE_TIERS)[number];

/**
 * What a call does to the shared database: `writes` (a push, an update or
 * delete, a session's start, stop or extension) or `reads` (plate checks,
 * the enforcement feed, stats, zones, session reads, `/api/v1/me`).
 */
export const TRAFFIC = ["writes", "reads"] as const;
export type Traffic = (typeof TRAFFIC)[number];

/** The window every limit counts over: the binding takes 10 or 60 seconds. */
export const RATE_PERIOD_SECONDS = 60;

/**
 * Calls per credential and per {@link RATE_PERIOD_SECONDS}, by tier and
 * traffic. wrangler.toml configures one binding per cell with these numbers
 * (test/sources-agree.test.ts checks they agree).
 */
export const RATE_LIMITS: Readonly<Record<RateTier, Readonly<Record<Traffic, number>>>> = {
  standard: { writes: 120, reads: 600 },
  high: { writes: 600, reads: 3000 },
  max: { writes: 3000, reads: 15000 },
};

/** What the limiter decided for a request: the credential's tier, the traffic counted, what is left, when more comes. */
export interface RateLimitState {
  tier: RateTier;
  traffic: Traffic;
  /** Calls left in the current window, as the Worker instance counted them (0 when refused). */
  remaining: number;
  /** Seconds until more is allowed. */
  reset: number;
}

/** The Rate Limiting binding (wrangler.toml's `[[ratelimits]]`) that counts each tier's traffic. */
export const RATE_LIMIT_BINDINGS = {
  standard: { writes: "LIMIT_STANDARD_WRITES", reads: "LIMIT_STANDARD_READS" },
  high: { writes: "LIMIT_HIGH_WRITES", reads: "LIMIT_HIGH_READS" },
  max: { writes: "LIMIT_MAX_WRITES", reads: "LIMIT_MAX_READS" },
} as const satisfies Record<RateTier, Record<Traffic, keyof Env>>;
