import { z } from "@hono/zod-openapi";
import type { PermitRow, PlateHit } from "../db/permits/reads";
import { formatCents } from "../domain/money";
import { isDisconnected } from "../domain/permit";
import { formatWireTime } from "../domain/time";

/**
 * Everything the API shows of a permit, on any surface. Each surface answers
 * a `.pick()` of it (see {@link narrow}), so a field means the same wherever
 * it appears.
 */
export const PermitFields = z.object({
  reference_id: z.string(),
  type: z.enum(["temp", "standard"]),
  source: z.string().openapi({ description: "push, ParkMobile or admin" }),
  plate: z.string().openapi({ description: "The plate as it was sent." }),
  plateNormalized: z.string(),
  plateState: z.string().nullable().openapi({ description: "The plate's state or jurisdiction, when the source sent one." }),
  zone: z.string().nullable().openapi({ description: "The lot zone, or the raw zone name of a disconnected record." }),
  lotZone: z.string().nullable().openapi({ description: "The lot zone the record belongs to; null when disconnected." }),
  disconnected: z.boolean(),
  amount: z.string().nullable(),
  currency: z.string().nullable(),
  start: z.string(),
  end: z.string(),
  permitNo: z.string().nullable(),
  ticketNumber: z.string().nullable(),
  promoCode: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable(),
  deleted: z.boolean(),
  anonymizedAt: z.string().nullable().openapi({ description: "When retention removed the plate; null while it is kept." }),
});

/** The one mapper from a stored permit to what the API shows of it. */
export function permitFields(p: PermitRow): z.infer<typeof PermitFields> {
  return {
    reference_id: p.id,
    type: p.type,
    source: p.source,
    plate: p.plate,
    plateNormalized: p.plateNorm,
    plateState: p.plateState,
    zone: p.lotZone ?? p.zoneName,
    lotZone: p.lotZone,
    disconnected: isDisconnected(p),
    amount: p.amountCents === null ? null : formatCents(p.amountCents),
    currency: p.currency,
    start: formatWireTime(p.startAt),
    end: formatWireTime(p.endAt),
    permitNo: p.permitNo,
    ticketNumber: p.ticketNumber,
    promoCode: p.promoCode,
    version: p.version,
    createdAt: formatWireTime(p.createdAt),
    updatedAt: formatWireTime(p.updatedAt),
    deletedAt: formatWireTime(p.deletedAt),
    deleted: p.deletedAt !== null,
    anonymizedAt: formatWireTime(p.anonymizedAt),
  };
}

/** How a plate check found a permit: shown beside the permit's own fields on every plate-check surface. */
export const HitFields = z.object({
  matchedPlate: z.string().openapi({ description: "The plate asked (normalized) that this permit matched." }),
  match: z.enum(["exact", "confusable"]).openapi({
    description: "exact: the permit's plate is the one asked; confusable: the same once O/Q=0, I/L=1, B=8, S=5, Z=2, G=6.",
  }),
  expiredWithinGrace: z.boolean().openapi({
    description:
      "The permit ended within the site's grace period: not valid now, shown so that a driver whose time just ran out is not ticketed.",
  }),
});

/** The one mapper from a plate check's hit to the API's fields: the permit's, and how it matched. */
export function hitFields(hit: PlateHit): z.infer<typeof PermitFields> & z.infer<typeof HitFields> {
  return { ...permitFields(hit), matchedPlate: hit.matchedPlate, match: hit.match, expiredWithinGrace: hit.expiredWithinGrace };
}

/** The fields of `value` that `schema` shows, and no others. */
export function narrow<S extends z.ZodObject>(schema: S, value: Record<string, unknown>): z.infer<S> {
  return Object.fromEntries(Object.keys(schema.shape).map((key) => [key, value[key]])) as z.infer<S>;
}
