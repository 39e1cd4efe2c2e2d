/**
 * A permit as the domain knows it: what creating one takes, what an update
 * may change, the receipt rule that makes a retried push harmless, and the
 * history event that records its creation.
 */

/** Who creates permits: the OC-TOMA push, the ParkMobile import, admins (standard permits). */
export const SOURCES = { push: "push", parkmobile: "ParkMobile", admin: "admin" } as const;

/** A permit to create, already validated and normalized. */
export interface NewPermit {
  siteId: number;
  type: "temp" | "standard";
  /** Who created it: `push` (OC-TOMA), `ParkMobile`, `admin`. */
  source: string;
  plate: string;
  plateNorm: string;
  /** The plate's state or jurisdiction, when the source sent one (a session's, ParkMobile's; normalized, see `normalizePlateState`). */
  plateState?: string | null;
  /** The zone name as sent; matched against the site's lot zones when stored. */
  zoneName: string | null;
  amountCents: number | null;
  currency: string | null;
  startAt: number;
  endAt: number;
  permitNo: string | null;
  ticketNumber: string | null;
  promoCode: string | null;
  /** The record's id at its source (ParkMobile's parkingRightId), for imported records. */
  externalId?: string | null;
  /** When the source last changed it. */
  sourceModifiedAt?: number | null;
  /** Sessions: the space number, as sent. */
  spaceNumber?: string | null;
  /** Sessions: the credential that started it (`oauth:<client id>` or `token:<token id>`). */
  owner?: string | null;
  /** Sessions: the driver's receipt e-mail, shown to the owner only and never written to the history. */
  receiptEmail?: string | null;
}

/** Fields a permit keeps that its history never records (personal data only its owner may read back). */
const UNRECORDED: ReadonlySet<string> = new Set(["receiptEmail"]);

/** The fields an update may change, already validated and normalized. */
export interface PermitChange {
  plate?: string;
  plateNorm?: string;
  amountCents?: number;
  /** Set with or without an amount; an amount alone keeps the record's currency (or takes the site's default). */
  currency?: string;
  endAt?: number;
}

/** One history entry's changes: `{ field: [before, after] }`, fields named as the permit's (camelCase). */
export type Changes = Record<string, [unknown, unknown]>;

/**
 * The receipt part of a permit's natural key (receipt, plate, start), unique
 * among live records of a site: a push's permitNo, else its TicketNumber
 * (a push with neither has no key and is never merged). A standard permit
 * without a number still has one (""): an admin import run twice must not
 * double the site's long-term permits.
 */
export function receiptOf(p: Pick<NewPermit, "permitNo" | "ticketNumber" | "type">): string | null {
  return p.permitNo ?? p.ticketNumber ?? (p.type === "standard" ? "" : null);
}

/**
 * What one history event added to the permit's amount, in cents (negative
 * when it lowered it), from the event's own `amountCents: [before, after]`;
 * null when it did not change the amount.
 */
export function amountAdded(changes: Changes): number | null {
  const change = changes.amountCents;
  if (!change) return null;
  const [before, after] = change;
  if (typeof after !== "number" || after === before) return null;
  return after - (typeof before === "number" ? before : 0);
}

/** The changes of a permit's creation event: every value it was created with, as `[null, value]`. */
export function creationChanges(p: Omit<NewPermit, "siteId">): Changes {
  return Object.fromEntries(
    Object.entries(p).flatMap(([k, v]) => (v === null || v === undefined || UNRECORDED.has(k) ? [] : [[k, [null, v]]])),
  );
}

/** Where a permit stands at `now`: deleted, not started yet, in force, or ended. */
export type PermitStatus = "deleted" | "upcoming" | "active" | "expired";

/** The status of a permit at `now`. */
export function statusAt(p: { startAt: number; endAt: number; deletedAt: number | null }, now: number): PermitStatus {
  if (p.deletedAt !== null) return "deleted";
  if (now < p.startAt) return "upcoming";
  return now < p.endAt ? "active" : "expired";
}

/**
 * Whether a stored permit is disconnected: it named a zone, and no lot zone
 * of its site has that name (seed 001: such records are kept and flagged).
 */
export function isDisconnected(p: { zoneName: string | null; lotZoneId: number | null }): boolean {
  return p.zoneName !== null && p.lotZoneId === null;
}

/** A record an import brings from its source (a ParkMobile parking right), already checked. */
export interface SourceRecord {
  /** The record's id at its source. */
  externalId: string;
  plate: string;
  plateNorm: string;
  /** The plate's state or jurisdiction, if the source says (ParkMobile's lpnState). */
  plateState: string | null;
  startAt: number;
  endAt: number;
  amountCents: number | null;
  /** When the source last changed it, if it says. */
  modifiedAt: number | null;
}
