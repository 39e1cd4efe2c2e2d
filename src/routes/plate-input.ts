import { isValidNormalizedPlate, normalizePlate, normalizePlateState, PLATE_RULE } from "../domain/plate";
import { type SiteConfig, type ZoneConfig, zoneByKey } from "../domain/site";
import { AppError, ErrorCode } from "../errors";

/**
 * What the plate-check surfaces (lookup, rights, validate/plate, the
 * Pay-by-Plate calls) and sessions take from a request, each named by the
 * field the client used.
 */

/** A plate to check, normalized; 9032 when empty, 9033 when it is not letters and digits (spaces, dashes, dots ignored). */
export function plateToCheck(raw: string, field: string): string {
  const normalized = normalizePlate(raw);
  if (normalized === "") throw new AppError(ErrorCode.TooShort, `${field} must hold at least one letter or digit.`, { field });
  if (!isValidNormalizedPlate(normalized)) {
    throw new AppError(ErrorCode.Invalid, `${field} ${PLATE_RULE}.`, { field });
  }
  return normalized;
}

/** A plate state to narrow a check with (upper-cased), or undefined when none was sent; 9033 when it is not 1 to 10 letters, digits or dashes. */
export function stateToCheck(raw: string | undefined | null, field: string): string | undefined {
  const state = normalizePlateState(raw);
  if (state === undefined)
    throw new AppError(ErrorCode.Invalid, `${field} must be 1 to 10 letters, digits or dashes (e.g. ON).`, { field });
  return state ?? undefined;
}

/** The site's grace period in seconds. */
export function graceSeconds(site: SiteConfig): number {
  return site.graceMinutes * 60;
}

/** A flag sent in a query string: true, false, 1 or 0. */
export const FLAG_VALUES = ["true", "false", "1", "0"] as const;
export const isSet = (flag: (typeof FLAG_VALUES)[number] | undefined) => flag === "true" || flag === "1";

/**
 * The lot zone a `zone_number` names (sessions, rights), from the cached
 * site: the zone with that number, else the unnumbered zone of that name
 * ({@link zoneByKey}); 9033 when none does. A numbered zone is not found by
 * its name: a number and another zone's name may be alike.
 */
export function zoneByNumber(site: SiteConfig, value: string | number, field: string): ZoneConfig {
  const key = String(value).trim();
  const zone = zoneByKey(site.zones, key);
  if (!zone) throw new AppError(ErrorCode.Invalid, `${field} ${key} is not a zone of this site.`, { field });
  return zone;
}

/**
 * The lot zone a plate check's `zone` names, from the cached site: its name,
 * or else its number; 9033 when none does.
 */
export function zoneNamed(site: SiteConfig, value: string, field: string): ZoneConfig {
  const key = value.trim();
  const zone = site.zones.find((z) => z.name === key) ?? site.zones.find((z) => z.number === key);
  if (!zone) throw new AppError(ErrorCode.Invalid, `${field} ${key} is not a lot zone of this site.`, { field });
  return zone;
}
