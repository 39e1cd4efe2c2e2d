import { AppError, ErrorCode } from "../errors";
import type { WebhookEventType } from "./webhooks";

/** The longest lot zone name (and zone name a permit carries), as the push's `zone` attribute allows. */
export const ZONE_NAME_MAX = 200;

/** What a session needs of a lot zone besides its name: all optional. */
export interface ZoneMetadata {
  /** The zone number drivers enter or read on the sign. */
  number: string | null;
  /** Price of an hour, in cents of `currency`. */
  rateCents: number | null;
  /** The rate's currency (one of the site's). */
  currency: string | null;
  /** The longest session, in minutes. */
  maxMinutes: number | null;
  /** IANA time zone name. */
  timeZone: string | null;
  /** How many vehicles the zone holds. */
  capacity: number | null;
}

/** A lot zone as every request sees it. */
export interface ZoneConfig extends ZoneMetadata {
  id: number;
  name: string;
}

/**
 * What every request of a site needs: its slug, accepted currencies, grace period, lot zones, and the webhook event
 * types it has subscribers for (cached in KV under `site:v3:<id>`).
 */
export interface SiteConfig {
  id: number;
  slug: string;
  /** Accepted currencies; the first is the default. */
  currencies: string[];
  /** How long after its end a permit still answers a plate check, flagged. */
  graceMinutes: number;
  zones: ZoneConfig[];
  /** The webhook event types at least one enabled endpoint wants; empty: an event costs the request nothing. */
  webhookEvents: WebhookEventType[];
}

/** The key a zone is found by: its number when it has one, else its name. */
export function zoneKey(zone: { number: string | null; name: string }): string {
  return zone.number ?? zone.name;
}

/**
 * The lot zone a zone number (a session's `zone_number`, a ParkMobile signage
 * code) names: the zone with that number, else the zone without a number
 * whose name it is, exactly. A site named its ParkMobile zones `4410` before
 * zones had numbers, and a zone numbered 4410 named "Downtown" is found too.
 */
export function zoneByKey<Z extends { number: string | null; name: string }>(zones: readonly Z[], key: string): Z | undefined {
  return zones.find((z) => z.number === key) ?? zones.find((z) => z.number === null && z.name === key);
}

/** `currency`, trimmed and upper-cased, if it is one of `currencies`; 9033 naming `field` otherwise. */
export function acceptedCurrency(currencies: readonly string[], currency: string, field = "currency"): string {
  const code = currency.trim().toUpperCase();
  if (!currencies.includes(code)) throw new AppError(ErrorCode.Invalid, `${field} must be one of ${currencies.join(", ")}.`, { field });
  return code;
}
