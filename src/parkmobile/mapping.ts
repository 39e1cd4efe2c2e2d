import { z } from "zod";

import type { SourceRecord } from "../domain/permit";
import { isValidNormalizedPlate, normalizePlate, normalizePlateState, PLATE_MAX } from "../domain/plate";
import { parseWireTime, wallClock } from "../domain/time";

export type MappedRight = { ok: true; right: SourceRecord } | { ok: false; parkingRightId: string | number | null; reason: string };

/** ParkMobile UTC times: 7 fractional digits and a Z (fewer digits are tolerated); the fraction is dropped. */
const UTC = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d{1,7})?Z$/;
/** ParkMobile local times: no offset; the right's `timeZone` (a Windows zone name) says where. */
const LOCAL = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d{1,7})?$/;

/** The Windows zone names of North American ParkMobile markets, for payloads that predate the *Utc fields. */
const WINDOWS_ZONES: Record<string, string> = {
  "Eastern Standard Time": "America/New_York",
  "Central Standard Time": "America/Chicago",
  "Mountain Standard Time": "America/Denver",
  "US Mountain Standard Time": "America/Phoenix",
  "Pacific Standard Time": "America/Los_Angeles",
  "Alaskan Standard Time": "America/Anchorage",
  "Hawaiian Standard Time": "Pacific/Honolulu",
  "Atlantic Standard Time": "America/Halifax",
  "Newfoundland Standard Time": "America/St_Johns",
  "Canada Central Standard Time": "America/Regina",
  "US Eastern Standard Time": "America/Indianapolis",
  UTC: "UTC",
};

/** Epoch seconds of a ParkMobile UTC time, or undefined if it is malformed or not a real calendar time. */
function parseUtc(value: unknown): number | undefined {
  const m = typeof value === "string" ? UTC.exec(value) : null;
  return m ? parseWireTime(m[1] as string) : undefined;
}

/** The UTC instant (epoch seconds) of a wall-clock time in an IANA zone (two passes settle the offset, DST included). */
function parseLocal(value: unknown, windowsZone: unknown): number | undefined {
  if (typeof value !== "string" || typeof windowsZone !== "string") return undefined;
  const zone = Object.hasOwn(WINDOWS_ZONES, windowsZone) ? WINDOWS_ZONES[windowsZone] : undefined;
  const m = LOCAL.exec(value);
  if (!zone || !m) return undefined;
  // The wall clock read as if it were UTC; the zone's offset at an instant is its wall clock minus the instant.
  const wall = parseWireTime(m[1] as string);
  if (wall === undefined) return undefined;
  const offsetAt = (instant: number) => wallClock(instant, zone) - instant;
  const instant = wall - offsetAt(wall);
  return wall - offsetAt(instant);
}

/** The fields a right must carry, as ParkMobile spells them; anything else is ignored. */
const RightShape = z.object({
  parkingRightId: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,30}$/)]),
  lpn: z.string(),
  lpnState: z.unknown().optional(),
  purchaseAmount: z.number().optional().nullable(),
});

/**
 * Checks one parking right and turns it into permit values, or says why it
 * is rejected (no id, no usable plate, no usable times, an end not after the
 * start). Prefers the *Utc times; older payloads without them are read from
 * the local times and the right's `timeZone`. `lpnState` becomes the plate's
 * state when it is one (1 to 10 letters, digits or dashes).
 */
export function mapRight(raw: unknown): MappedRight {
  const id = (raw as { parkingRightId?: unknown })?.parkingRightId;
  const parkingRightId = typeof id === "number" || typeof id === "string" ? id : null;
  const shape = RightShape.safeParse(raw);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    return { ok: false, parkingRightId, reason: `${issue?.path.join(".") || "right"}: ${issue?.message ?? "invalid"}` };
  }
  const r = raw as Record<string, unknown>;
  const plate = shape.data.lpn.trim();
  const plateNorm = normalizePlate(plate);
  if ([...plate].length > 25 || !isValidNormalizedPlate(plateNorm)) {
    return {
      ok: false,
      parkingRightId,
      reason: `lpn ${JSON.stringify(shape.data.lpn)} is not a usable plate (letters and digits, at most ${PLATE_MAX} characters)`,
    };
  }
  const startAt = parseUtc(r.startDateUtc) ?? parseLocal(r.startDateLocal, r.timeZone);
  const endAt = parseUtc(r.endDateUtc) ?? parseLocal(r.endDateLocal, r.timeZone);
  if (startAt === undefined || endAt === undefined) {
    return { ok: false, parkingRightId, reason: "no usable start and end (startDateUtc/endDateUtc, or local times with a known timeZone)" };
  }
  if (endAt <= startAt) return { ok: false, parkingRightId, reason: "the end is not after the start" };
  const amount = shape.data.purchaseAmount;
  // The state narrows plate checks when known; one ParkMobile sends in a shape we do not know is kept as unknown, not a rejection.
  const { lpnState } = shape.data;
  const plateState = typeof lpnState === "string" ? (normalizePlateState(lpnState) ?? null) : null;
  return {
    ok: true,
    right: {
      externalId: String(shape.data.parkingRightId),
      plate,
      plateNorm,
      plateState,
      startAt: Math.floor(startAt),
      endAt: Math.floor(endAt),
      amountCents: typeof amount === "number" && Number.isFinite(amount) && amount >= 0 ? Math.round(amount * 100) : null,
      modifiedAt: parseUtc(r.modifiedDateUtc) ?? parseLocal(r.modifiedDate, r.timeZone) ?? null,
    },
  };
}
