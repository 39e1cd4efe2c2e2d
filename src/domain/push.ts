import type { NewPermit } from "../db/permits";
import type { SiteConfig } from "../db/sites";
import { AppError, ErrorCode } from "../errors";
import type { EndpointAttributes, Resolved } from "./attributes";
import { parseAmount } from "./money";
import { normalizePlate } from "./plate";
import { parseWireTime } from "./time";

/** Permit Create (push), seeds 001 and 004. */
export const pushAttributes = {
  apiToken: "required",
  plate: "required",
  amount: "optional",
  currency: "optional",
  startTime: "required",
  endTime: "required",
  permitNo: "optional",
  ticketNumber: "optional",
  zone: "optional",
  promoCode: "optional",
} as const satisfies EndpointAttributes;

/**
 * Turns a validated push into the permit to store: cents, epoch seconds,
 * normalized plate, the site's currency rules, end after start.
 */
export function toNewPermit({ values: v, names }: Resolved<typeof pushAttributes>, site: SiteConfig): Omit<NewPermit, "source" | "type"> {
  const startAt = parseWireTime(v.startTime) as number;
  const endAt = parseWireTime(v.endTime) as number;
  if (endAt <= startAt) {
    throw new AppError(ErrorCode.EndInvalid, `${names.endTime} must be after ${names.startTime}.`, { field: names.endTime });
  }
  let currency: string | null = null;
  if (v.currency !== undefined) {
    currency = v.currency.trim().toUpperCase();
    if (!site.currencies.includes(currency)) {
      throw new AppError(ErrorCode.Invalid, `${names.currency} must be one of ${site.currencies.join(", ")}.`, { field: names.currency });
    }
  }
  let amountCents: number | null = null;
  if (v.amount !== undefined) {
    const parsed = parseAmount(v.amount);
    // parseAttributes already applied the rule; this narrows the type.
    if ("error" in parsed) throw new AppError(ErrorCode.Invalid, `${names.amount} ${parsed.error}.`, { field: names.amount });
    amountCents = parsed.cents;
    currency ??= site.currencies[0] ?? null;
  }
  const zone = v.zone?.trim();
  return {
    siteId: site.id,
    plate: v.plate,
    plateNorm: normalizePlate(v.plate),
    zoneName: zone ? zone : null,
    amountCents,
    currency,
    startAt,
    endAt,
    permitNo: v.permitNo ?? null,
    ticketNumber: v.ticketNumber ?? null,
    promoCode: v.promoCode ?? null,
  };
}
