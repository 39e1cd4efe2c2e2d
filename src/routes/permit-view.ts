import * as z from "zod/mini";
import type { PermitRow, PlateHit } from "../db/permits/reads";
import { formatCents } from "../domain/money";
import { type Changes, isDisconnected, statusAt } from "../domain/permit";
import { formatWireTime, nowSeconds } from "../domain/time";

/**
 * Everything the API shows of a permit, on any surface. Each surface answers
 * a `.pick()` of it (see {@link narrow}), so a field means the same wherever
 * it appears.
 */
export const PermitFields = z.object({
  reference_id: z.string(),
  type: z.enum(["temp", "standard"]),
  source: z.string().check(z.meta({ description: "push, ParkMobile, admin, or the label of the client that started a session" })),
  plate: z.string().check(z.meta({ description: "The plate as it was sent." })),
  plateNormalized: z.string(),
  plateState: z
    .nullable(z.string())
    .check(z.meta({ description: "The plate's state, province or jurisdiction, when the source sent one." })),
  zone: z.nullable(z.string()).check(z.meta({ description: "The lot zone, or the raw zone name of a disconnected record." })),
  lotZone: z.nullable(z.string()).check(z.meta({ description: "The lot zone the record belongs to; null when disconnected." })),
  disconnected: z.boolean(),
  amount: z.nullable(z.string()),
  currency: z.nullable(z.string()),
  start: z.string(),
  end: z.string(),
  permitNo: z.nullable(z.string()),
  ticketNumber: z.nullable(z.string()),
  promoCode: z.nullable(z.string()),
  spaceNumber: z.nullable(z.string()).check(z.meta({ description: "The space number, when the client sent one (sessions)." })),
  stoppedAt: z.nullable(z.string()).check(z.meta({ description: "When a session was stopped early." })),
  version: z.int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.nullable(z.string()),
  deleted: z.boolean(),
  status: z.enum(["active", "upcoming", "expired", "deleted"]).check(z.meta({ description: "Where the permit stands now." })),
  anonymizedAt: z.nullable(z.string()).check(z.meta({ description: "When retention removed the plate; null while it is kept." })),
});

/** The one mapper from a stored permit to what the API shows of it (its status as of `now`). */
export function permitFields(p: PermitRow, now = nowSeconds()): z.infer<typeof PermitFields> {
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
    spaceNumber: p.spaceNumber,
    stoppedAt: formatWireTime(p.stoppedAt),
    version: p.version,
    createdAt: formatWireTime(p.createdAt),
    updatedAt: formatWireTime(p.updatedAt),
    deletedAt: formatWireTime(p.deletedAt),
    deleted: p.deletedAt !== null,
    status: statusAt(p, now),
    anonymizedAt: formatWireTime(p.anonymizedAt),
  };
}

/** How a plate check found a permit: shown beside the permit's own fields on every plate-check surface. */
export const HitFields = z.object({
  matchedPlate: z.string().check(z.meta({ description: "The plate asked (normalized) that this permit matched." })),
  match: z.enum(["exact", "confusable"]).check(
    z.meta({
      description: "exact: the permit's plate is the one asked; confusable: the same once O/Q=0, I/L=1, B=8, S=5, Z=2, G=6.",
    }),
  ),
  expiredWithinGrace: z.boolean().check(
    z.meta({
      description:
        "The permit ended within the site's grace period: not valid now, shown so that a driver whose time just ran out is not ticketed.",
    }),
  ),
});

/** The one mapper from a plate check's hit to the API's fields: the permit's, and how it matched. */
export function hitFields(hit: PlateHit, now = nowSeconds()): z.infer<typeof PermitFields> & z.infer<typeof HitFields> {
  return { ...permitFields(hit, now), matchedPlate: hit.matchedPlate, match: hit.match, expiredWithinGrace: hit.expiredWithinGrace };
}

/** A version of a permit as its history shows it (the admin API's permit page, a webhook event's change). */
export const HistoryEntry = z.object({
  version: z.int(),
  action: z.enum(["create", "update", "delete"]),
  changes: z
    .record(z.string(), z.tuple([z.unknown(), z.unknown()]))
    .check(z.meta({ description: "field: [before, after], fields and values as the permit shows them (`amount`, `start`, …)" })),
  actor: z.string().check(z.meta({ description: "token:<id>, oauth:<client id>, admin, or job:<name>" })),
  at: z.string(),
});

/**
 * A history entry's changes in the API's own terms: the field names and
 * formats of {@link PermitFields} (`amount: "16.00"`, wire times), not the
 * storage columns (`amountCents`, epoch seconds) they were recorded as.
 */
export function historyChanges(changes: Changes): Record<string, [unknown, unknown]> {
  const shown: Record<string, [unknown, unknown]> = {};
  for (const [field, [before, after]] of Object.entries(changes)) {
    const view = HISTORY_FIELDS[field];
    if (view) shown[view.name] = [view.show(before), view.show(after)];
    else shown[field] = [before, after];
  }
  return shown;
}

const asIs = (v: unknown) => v;
const asTime = (v: unknown) => (typeof v === "number" ? formatWireTime(v) : v);
const HISTORY_FIELDS: Record<string, { name: string; show: (v: unknown) => unknown }> = {
  plateNorm: { name: "plateNormalized", show: asIs },
  zoneName: { name: "zone", show: asIs },
  amountCents: { name: "amount", show: (v) => (typeof v === "number" ? formatCents(v) : v) },
  startAt: { name: "start", show: asTime },
  endAt: { name: "end", show: asTime },
  deletedAt: { name: "deletedAt", show: asTime },
  externalId: { name: "sourceId", show: asIs },
  sourceModifiedAt: { name: "sourceModifiedAt", show: asTime },
};

/** The fields of `value` that `schema` shows, and no others. */
export function narrow<S extends z.ZodMiniObject>(schema: S, value: Record<string, unknown>): z.infer<S> {
  return Object.fromEntries(Object.keys(schema.shape).map((key) => [key, value[key]])) as z.infer<S>;
}
