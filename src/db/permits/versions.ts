import { and, eq, sql } from "drizzle-orm";
import type { Changes, PermitChange } from "../../domain/permit";
import { type D1Binding, database, statement } from "../client";
import { permits } from "../schema";
import { permitColumns } from "./reads";

/**
 * Which permits a writer may change: vendors (OC-TOMA tokens, aggregators)
 * their temporary permits; admins any permit of their site, standard
 * (long-term) permits included.
 */
export type Writer = "vendor" | "admin";

/** An update of one permit of a site, by whom. */
export interface PermitUpdate {
  siteId: number;
  reference: string;
  writer: Writer;
  change: PermitChange;
  /** For an amount sent without a currency on a record that has none. */
  defaultCurrency: string | null;
  actor: string;
}

/** A delete of one permit of a site, by whom. */
export interface PermitDelete {
  siteId: number;
  reference: string;
  writer: Writer;
  actor: string;
}

/** A stored permit, every column. */
export type PermitRecord = typeof permits.$inferSelect;

/**
 * What a write did to a permit: the row as it left it and the history event
 * it recorded (what its webhooks tell).
 */
export interface PermitWrite {
  permit: PermitRecord;
  action: "create" | "update" | "delete";
  /** The history event's changes: `{ field: [before, after] }`. */
  changes: Changes;
  actor: string;
  at: number;
}

/**
 * What writing a version answers: the version now stored (and whether this
 * call changed it, with what it wrote), or why nothing was written: no live
 * permit of that site by that reference, a standard permit a vendor may not
 * change, or an end that is not after the permit's start.
 */
export type VersionResult =
  | { ok: true; version: number; changed: boolean; write?: PermitWrite }
  | { ok: false; reason: "not-found" | "standard-permit" | "end-not-after-start" };

/** A compare-and-set lost to another writer this many times in a row is reported, not retried forever. */
export const CAS_ATTEMPTS = 5;

/** The columns an update may change, with what compare-and-set needs. */
const readPermit = (d1: D1Binding, reference: string) =>
  database(d1)
    .select({
      id: permits.id,
      siteId: permits.siteId,
      type: permits.type,
      plate: permits.plate,
      plateNorm: permits.plateNorm,
      amountCents: permits.amountCents,
      currency: permits.currency,
      startAt: permits.startAt,
      endAt: permits.endAt,
      version: permits.version,
      deletedAt: permits.deletedAt,
    })
    .from(permits)
    .where(eq(permits.id, reference))
    .get();

type Versioned = { id: string; siteId: number; version: number };
/** The columns a new version may set. */
export type Settable = Partial<
  Pick<typeof permits.$inferInsert, "plate" | "plateNorm" | "amountCents" | "currency" | "endAt" | "deletedAt" | "stoppedAt">
>;

/**
 * Writes one new version of a permit: `UPDATE … WHERE version = <read>` and
 * the history event in one batch, the event inserted only if the update
 * changed a row. Returns what it wrote, or null when another writer got
 * there first.
 */
export async function compareAndSet(
  d1: D1Binding,
  row: Versioned,
  set: Settable,
  event: { action: "update" | "delete"; changes: Changes; actor: string; now: number },
): Promise<PermitWrite | null> {
  const db = database(d1);
  const [update] = await d1.batch<PermitRecord>([
    // RETURNING, not meta.changes: D1 counts the rows the feed's triggers write too.
    statement(
      d1,
      sql`${db
        .update(permits)
        .set({ ...set, version: sql`${permits.version} + 1`, updatedAt: event.now })
        .where(and(eq(permits.id, row.id), eq(permits.version, row.version)))
        .getSQL()} RETURNING ${permitColumns()}`,
    ),
    // Raw: changes() is the row count of the statement before (triggers excluded), in the same transaction.
    statement(
      d1,
      sql`INSERT INTO permit_events (permit_id, site_id, version, action, changes, actor, at)
          SELECT ${row.id}, ${row.siteId}, ${row.version + 1}, ${event.action}, ${JSON.stringify(event.changes)}, ${event.actor}, ${event.now}
          WHERE changes() = 1`,
    ),
  ]);
  const permit = update?.results[0];
  return permit ? { permit, action: event.action, changes: event.changes, actor: event.actor, at: event.now } : null;
}

/**
 * Applies an update to a live permit of the site as the next version. Call it
 * through {@link import("../../durable/permit-sequencer").PermitSequencer}, which
 * runs the calls for one reference one at a time; the compare-and-set keeps
 * it correct even if two objects ever ran for one reference.
 */
export async function updatePermit(d1: D1Binding, input: PermitUpdate, now: number): Promise<VersionResult> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const row = await readPermit(d1, input.reference);
    if (!row || row.siteId !== input.siteId || row.deletedAt !== null) return { ok: false, reason: "not-found" };
    if (row.type === "standard" && input.writer !== "admin") return { ok: false, reason: "standard-permit" };
    const { change } = input;
    if (change.endAt !== undefined && change.endAt <= row.startAt) return { ok: false, reason: "end-not-after-start" };
    const next = {
      plate: change.plate ?? row.plate,
      plateNorm: change.plateNorm ?? row.plateNorm,
      amountCents: change.amountCents ?? row.amountCents,
      currency: change.currency ?? (change.amountCents !== undefined ? (row.currency ?? input.defaultCurrency) : row.currency),
      endAt: change.endAt ?? row.endAt,
    };
    const set: Record<string, unknown> = {};
    const changes: Changes = {};
    for (const [field, value] of Object.entries(next)) {
      const before = row[field as keyof typeof next];
      if (before === value) continue;
      set[field] = value;
      changes[field] = [before, value];
    }
    if (Object.keys(set).length === 0) return { ok: true, version: row.version, changed: false };
    const write = await compareAndSet(d1, row, set as Settable, { action: "update", changes, actor: input.actor, now });
    if (write) return { ok: true, version: row.version + 1, changed: true, write };
  }
  throw new Error(`permit ${input.reference}: compare-and-set lost ${CAS_ATTEMPTS} times in a row`);
}

/** Marks a permit of the site deleted, as the next version; deleting it again answers success with the same version. */
export async function deletePermit(d1: D1Binding, input: PermitDelete, now: number): Promise<VersionResult> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const row = await readPermit(d1, input.reference);
    if (!row || row.siteId !== input.siteId) return { ok: false, reason: "not-found" };
    if (row.type === "standard" && input.writer !== "admin") return { ok: false, reason: "standard-permit" };
    if (row.deletedAt !== null) return { ok: true, version: row.version, changed: false };
    const changes: Changes = { deletedAt: [null, now] };
    const write = await compareAndSet(d1, row, { deletedAt: now }, { action: "delete", changes, actor: input.actor, now });
    if (write) return { ok: true, version: row.version + 1, changed: true, write };
  }
  throw new Error(`permit ${input.reference}: compare-and-set lost ${CAS_ATTEMPTS} times in a row`);
}
