import { and, asc, desc, eq, gt, gte, isNotNull, isNull, lt, lte, or, type SQL } from "drizzle-orm";
import { MAX_CENTS } from "../../domain/money";
import type { Changes } from "../../domain/permit";
import { amountAtRate, MAX_SESSION_MINUTES, type SessionStatus } from "../../domain/session";
import { type D1Binding, database } from "../client";
import { lotZones, permitEvents, permits } from "../schema";
import { type PermitRow, withLotZone } from "./reads";
import { CAS_ATTEMPTS, compareAndSet, type PermitWrite, type Settable } from "./versions";

/**
 * Sessions are permits with an owner (the credential that started them);
 * they are started by {@link import("./push").pushPermit} (`exclusive`),
 * read, listed, and stopped or extended here as new versions of the permit,
 * through the reference's Durable Object like any update.
 */

/** Whose session: a site and the credential that started it. */
export interface SessionOwner {
  siteId: number;
  /** `oauth:<client id>` or `token:<token id>`. */
  owner: string;
}

/** A session with its history events, oldest first. */
export interface SessionRecord {
  permit: PermitRow;
  events: (typeof permitEvents.$inferSelect)[];
}

const mine = (row: { siteId: number; owner: string | null; deletedAt: number | null } | undefined, who: SessionOwner) =>
  row !== undefined && row.siteId === who.siteId && row.owner === who.owner && row.deletedAt === null;

/**
 * A session of this owner with its history, in one batch; null when there
 * is none by that reference: unknown, another site's or another client's,
 * not a session, or deleted.
 */
export async function readSession(d1: D1Binding, who: SessionOwner, reference: string): Promise<SessionRecord | null> {
  const db = database(d1);
  const [found, events] = await db.batch([
    db.select(withLotZone).from(permits).leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId)).where(eq(permits.id, reference)),
    db.select().from(permitEvents).where(eq(permitEvents.permitId, reference)).orderBy(asc(permitEvents.version)),
  ]);
  const permit = found[0];
  return permit && mine(permit, who) ? { permit, events } : null;
}

/** A page of an owner's sessions. */
export interface SessionQuery {
  plateNorm?: string;
  status?: SessionStatus;
  /** Only sessions started at or after this time. */
  since?: number;
  /** Continue after this session (the last of the previous page). */
  after?: { startAt: number; id: string };
  limit: number;
  now: number;
}

/**
 * An owner's sessions, newest start first (ties by id), filtered by plate,
 * status (computed from the clock, as {@link import("../../domain/session").sessionStatus}
 * does) and start; deleted ones left out. Keyset pagination over the index
 * `permits_owner (site_id, owner, start_at, id)`. Reads one row more than
 * asked, to tell whether another page follows.
 */
export async function listSessions(d1: D1Binding, who: SessionOwner, q: SessionQuery): Promise<{ rows: PermitRow[]; hasMore: boolean }> {
  const conditions: (SQL | undefined)[] = [eq(permits.siteId, who.siteId), eq(permits.owner, who.owner), isNull(permits.deletedAt)];
  if (q.plateNorm) conditions.push(eq(permits.plateNorm, q.plateNorm));
  if (q.status === "stopped") conditions.push(isNotNull(permits.stoppedAt));
  if (q.status === "active") conditions.push(isNull(permits.stoppedAt), gt(permits.endAt, q.now));
  if (q.status === "expired") conditions.push(isNull(permits.stoppedAt), lte(permits.endAt, q.now));
  if (q.since !== undefined) conditions.push(gte(permits.startAt, q.since));
  if (q.after) {
    const { startAt, id } = q.after;
    conditions.push(or(lt(permits.startAt, startAt), and(eq(permits.startAt, startAt), lt(permits.id, id))));
  }
  const rows = await database(d1)
    .select(withLotZone)
    .from(permits)
    .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
    .where(and(...conditions))
    .orderBy(desc(permits.startAt), desc(permits.id))
    .limit(q.limit + 1);
  return { rows: rows.slice(0, q.limit), hasMore: rows.length > q.limit };
}

/** Stopping or extending a session of an owner, by whom. */
export interface SessionStop extends SessionOwner {
  reference: string;
  actor: string;
}

export interface SessionExtension extends SessionStop {
  /** Whole minutes to add to the end. */
  minutes: number;
  /** What the extension cost, when the client says (cents); else the zone's rate prices it, if it has one. */
  amountCents?: number;
  /** The currency of `amountCents` (one the site accepts); else the session's, else the site's default. */
  currency?: string;
  defaultCurrency: string | null;
}

/**
 * What a session write answers: the version now stored (and whether this
 * call changed it), or why nothing was written: no such session of the
 * owner; it was stopped or has expired; the extension would pass the zone's
 * maximum (`maxMinutes`); its amount is in another currency than the
 * session's, or would bring the total past 999999.99.
 */
export type SessionWriteResult =
  | { ok: true; version: number; changed: boolean; write?: PermitWrite }
  | { ok: false; reason: "not-found" | "stopped" | "expired" | "currency-mismatch" | "amount-too-large" }
  | { ok: false; reason: "too-long"; maxMinutes: number };

/** The session, with what stop and extend check, read from D1 (never the cache: the zone's maximum and rate as they are now). */
const readForWrite = (d1: D1Binding, reference: string) =>
  database(d1)
    .select({
      id: permits.id,
      siteId: permits.siteId,
      owner: permits.owner,
      startAt: permits.startAt,
      endAt: permits.endAt,
      stoppedAt: permits.stoppedAt,
      amountCents: permits.amountCents,
      currency: permits.currency,
      version: permits.version,
      deletedAt: permits.deletedAt,
      maxMinutes: lotZones.maxMinutes,
      rateCents: lotZones.rateCents,
      rateCurrency: lotZones.rateCurrency,
    })
    .from(permits)
    .leftJoin(lotZones, eq(lotZones.id, permits.lotZoneId))
    .where(eq(permits.id, reference))
    .get();

/**
 * Stops a running session of the owner as the next version: its end becomes
 * `now` (it is later than now while it runs, so the end only moves
 * earlier). Stopping a stopped session answers its version again; an
 * expired one cannot be stopped. Call it through the reference's
 * {@link import("../../durable/permit-sequencer").PermitSequencer}.
 */
export async function stopSession(d1: D1Binding, input: SessionStop, now: number): Promise<SessionWriteResult> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const row = await readForWrite(d1, input.reference);
    if (!row || !mine(row, input)) return { ok: false, reason: "not-found" };
    if (row.stoppedAt !== null) return { ok: true, version: row.version, changed: false };
    if (row.endAt <= now) return { ok: false, reason: "expired" };
    const changes: Changes = { endAt: [row.endAt, now], stoppedAt: [null, now] };
    const write = await compareAndSet(d1, row, { endAt: now, stoppedAt: now }, { action: "update", changes, actor: input.actor, now });
    if (write) return { ok: true, version: row.version + 1, changed: true, write };
  }
  throw new Error(`session ${input.reference}: compare-and-set lost ${CAS_ATTEMPTS} times in a row`);
}

/**
 * Extends a running session of the owner by whole minutes as the next
 * version, within its zone's maximum session (a week in a zone without
 * one), counted from its start. The amount grows by what the client says
 * the extension cost or, without that, by the zone's rate for the minutes
 * added (when the zone has a rate in the session's currency). Call it
 * through the reference's Durable Object.
 */
export async function extendSession(d1: D1Binding, input: SessionExtension, now: number): Promise<SessionWriteResult> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const row = await readForWrite(d1, input.reference);
    if (!row || !mine(row, input)) return { ok: false, reason: "not-found" };
    if (row.stoppedAt !== null) return { ok: false, reason: "stopped" };
    if (row.endAt <= now) return { ok: false, reason: "expired" };
    const maxMinutes = row.maxMinutes ?? MAX_SESSION_MINUTES;
    const endAt = row.endAt + input.minutes * 60;
    if (endAt - row.startAt > maxMinutes * 60) return { ok: false, reason: "too-long", maxMinutes };

    let added: number | null = null;
    let currency = row.currency;
    if (input.amountCents !== undefined) {
      const sent = input.currency ?? row.currency ?? input.defaultCurrency;
      if (row.currency !== null && sent !== row.currency) return { ok: false, reason: "currency-mismatch" };
      added = input.amountCents;
      currency = sent;
    } else if (row.rateCents !== null && (row.currency === null || row.currency === row.rateCurrency)) {
      added = amountAtRate(row.rateCents, input.minutes);
      currency = row.rateCurrency;
    }
    const amountCents = added === null ? row.amountCents : (row.amountCents ?? 0) + added;
    if (amountCents !== null && amountCents > MAX_CENTS) return { ok: false, reason: "amount-too-large" };

    const set: Settable = { endAt };
    const changes: Changes = { endAt: [row.endAt, endAt] };
    if (amountCents !== row.amountCents) {
      set.amountCents = amountCents;
      changes.amountCents = [row.amountCents, amountCents];
    }
    if (currency !== row.currency) {
      set.currency = currency;
      changes.currency = [row.currency, currency];
    }
    const write = await compareAndSet(d1, row, set, { action: "update", changes, actor: input.actor, now });
    if (write) return { ok: true, version: row.version + 1, changed: true, write };
  }
  throw new Error(`session ${input.reference}: compare-and-set lost ${CAS_ATTEMPTS} times in a row`);
}
