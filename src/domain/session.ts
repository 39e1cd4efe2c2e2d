/**
 * Parking sessions (seed 003): a temporary permit started, stopped and
 * extended by an aggregator. Its status comes from the clock, as comparable
 * APIs compute it (Parkkihubi, Passport); only "stopped" is stored.
 */
import { amountAdded, type Changes } from "./permit";

export type SessionStatus = "active" | "stopped" | "expired";
export const SESSION_STATUSES = ["active", "stopped", "expired"] as const satisfies readonly SessionStatus[];

/** The longest session in a zone without its own maximum: a week, in minutes. */
export const MAX_SESSION_MINUTES = 7 * 24 * 60;

/** A session's status at `now`: stopped if stopped early, expired once its end has passed, active otherwise. */
export function sessionStatus(s: { stoppedAt: number | null; endAt: number }, now: number): SessionStatus {
  if (s.stoppedAt !== null) return "stopped";
  return s.endAt <= now ? "expired" : "active";
}

/** Minutes between two instants, a started minute counted whole (a session stopped after 61 s covered 2 minutes). */
export function minutesBetween(start: number, end: number): number {
  return Math.max(0, Math.ceil((end - start) / 60));
}

/**
 * What `minutes` cost at a rate of `rateCents` an hour, rounded up to the
 * whole cent (so a fraction of a cent is never lost to the operator): 25
 * minutes at 2.50 an hour is 1.05.
 */
export function amountAtRate(rateCents: number, minutes: number): number {
  // Integer arithmetic: cents × minutes is exact, and the division rounds once.
  return Math.ceil((rateCents * minutes) / 60);
}

/** One step of a session's life, from its history: start, each extension, the stop, and any other change. */
export interface SessionTransaction {
  type: "start" | "extend" | "stop" | "update";
  at: number;
  /** The session's end once this step was applied. */
  endAt: number;
  /** Minutes this step added (start: the first duration; extend: the extension); null for the others. */
  minutes: number | null;
  /** The amount this step added, in cents; null when it changed no amount. */
  amountCents: number | null;
}

/** A history event as sessions read it. */
export interface SessionEvent {
  action: "create" | "update" | "delete";
  changes: Changes;
  at: number;
}

const num = (v: unknown) => (typeof v === "number" ? v : null);

/** What one step of a session was, from its history event alone: the event's changes carry the values before. */
export interface SessionStep {
  type: SessionTransaction["type"];
  /** The session's end after the step, when the step set it (a create or a change of the end); null when it kept it. */
  endAt: number | null;
  minutes: number | null;
  amountCents: number | null;
}

/**
 * One history event of a session as a transaction (null for a deletion,
 * which is not one). A change that set `stoppedAt` is the stop; one that
 * moved only the end later (and perhaps the amount) is an extension,
 * whichever surface made it; any other change is an update. Read from the
 * event alone (its changes hold each field's value before and after), so
 * a report reading a day of history classifies the steps it reads without
 * the events before them.
 */
export function sessionStep(e: SessionEvent): SessionStep | null {
  const c = e.changes;
  const endBefore = num(c.endAt?.[0]);
  const endAfter = num(c.endAt?.[1]);
  if (e.action === "create") {
    const startAt = num(c.startAt?.[1]) ?? e.at;
    const end = endAfter ?? startAt;
    return { type: "start", endAt: end, minutes: minutesBetween(startAt, end), amountCents: num(c.amountCents?.[1]) };
  }
  if (e.action !== "update") return null;
  const amountCents = amountAdded(c);
  if ("stoppedAt" in c) return { type: "stop", endAt: endAfter, minutes: null, amountCents };
  const onlyTimeAndMoney = Object.keys(c).every((k) => k === "endAt" || k === "amountCents" || k === "currency");
  if (endBefore !== null && endAfter !== null && endAfter > endBefore && onlyTimeAndMoney) {
    return { type: "extend", endAt: endAfter, minutes: minutesBetween(endBefore, endAfter), amountCents };
  }
  return { type: "update", endAt: endAfter, minutes: null, amountCents };
}

/** The transactions of a session, from its history events (oldest first): each event's {@link sessionStep}, with the end it left. */
export function sessionTransactions(events: readonly SessionEvent[]): SessionTransaction[] {
  let endAt = 0;
  const out: SessionTransaction[] = [];
  for (const e of events) {
    const step = sessionStep(e);
    if (!step) continue;
    endAt = step.endAt ?? endAt;
    out.push({ type: step.type, at: e.at, endAt, minutes: step.minutes, amountCents: step.amountCents });
  }
  return out;
}

/** A receipt e-mail: one @, a dotted domain, no spaces (what a mailer will accept; not a full RFC 5322 parser). */
export const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[^\s@"<>()[\]\\,;:]+\.[^\s@"<>()[\]\\,;:.]+$/;
