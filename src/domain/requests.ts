import { AppError, ErrorCode } from "../errors";
import type { EndpointAttributes, Resolved } from "./attributes";
import { parseAmount } from "./money";
import type { NewPermit, PermitChange } from "./permit";
import { normalizePlate } from "./plate";
import type { SiteConfig } from "./site";
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
  let currency = v.currency === undefined ? null : acceptedCurrency(v.currency, names.currency, site);
  let amountCents: number | null = null;
  if (v.amount !== undefined) {
    amountCents = cents(v.amount, names.amount);
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

/** A currency the site accepts, upper-cased; 9033 otherwise. */
function acceptedCurrency(value: string, field: string, site: SiteConfig): string {
  const currency = value.trim().toUpperCase();
  if (!site.currencies.includes(currency)) {
    throw new AppError(ErrorCode.Invalid, `${field} must be one of ${site.currencies.join(", ")}.`, { field });
  }
  return currency;
}

/** An amount already checked by parseAttributes, in cents. */
function cents(value: string | number, field: string): number {
  const parsed = parseAmount(value);
  if ("error" in parsed) throw new AppError(ErrorCode.Invalid, `${field} ${parsed.error}.`, { field });
  return parsed.cents;
}

/** Permit Update, seed 001: the reference and what may change. */
export const updateAttributes = {
  apiToken: "required",
  referenceId: "required",
  plate: "optional",
  amount: "optional",
  currency: "optional",
  endTime: "optional",
} as const satisfies EndpointAttributes;

/** Permit Delete, seed 001. */
export const deleteAttributes = { apiToken: "required", referenceId: "required" } as const satisfies EndpointAttributes;

/** Permit Stats, seed 001. */
export const statsAttributes = { apiToken: "required", zones: "optional" } as const satisfies EndpointAttributes;

/** Turns a validated update into the change to apply; end-after-start is checked against the record itself. */
export function toPermitChange({ values: v, names }: Resolved<typeof updateAttributes>, site: SiteConfig): PermitChange {
  const change: PermitChange = {};
  if (v.plate !== undefined) {
    change.plate = v.plate;
    change.plateNorm = normalizePlate(v.plate);
  }
  if (v.currency !== undefined) change.currency = acceptedCurrency(v.currency, names.currency, site);
  if (v.amount !== undefined) change.amountCents = cents(v.amount, names.amount);
  if (v.endTime !== undefined) change.endAt = parseWireTime(v.endTime) as number;
  return change;
}
