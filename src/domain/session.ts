/**
 * Parking sessions (seed 003): a temporary permit started, stopped and
 * extended by an aggregator. Its status comes from the clock, as comparable
 * APIs compute it (Parkkihubi, Passport); only "stopped" is stored.
 */
import type { Changes } from "./permit";

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

/**
 * The transactions of a session, from its history events (oldest first). A
 * change that set `stoppedAt` is the stop; one that moved only the end later
 * (and perhaps the amount) is an extension, whichever surface made it; any
 * other change is an update.
 */
export function sessionTransactions(events: readonly SessionEvent[]): SessionTransaction[] {
  let startAt = 0;
  let endAt = 0;
  let amount: number | null = null;
  const out: SessionTransaction[] = [];
  for (const e of events) {
    const c = e.changes;
    const newEnd = num(c.endAt?.[1]) ?? endAt;
    const newAmount: number | null = c.amountCents ? num(c.amountCents[1]) : amount;
    const added = newAmount !== amount && newAmount !== null ? newAmount - (amount ?? 0) : null;
    if (e.action === "create") {
      startAt = num(c.startAt?.[1]) ?? e.at;
      out.push({ type: "start", at: e.at, endAt: newEnd, minutes: minutesBetween(startAt, newEnd), amountCents: newAmount });
    } else if (e.action === "update") {
      const keys = Object.keys(c);
      if ("stoppedAt" in c) {
        out.push({ type: "stop", at: e.at, endAt: newEnd, minutes: null, amountCents: added });
      } else if (newEnd > endAt && keys.every((k) => k === "endAt" || k === "amountCents" || k === "currency")) {
        out.push({ type: "extend", at: e.at, endAt: newEnd, minutes: minutesBetween(endAt, newEnd), amountCents: added });
      } else {
        out.push({ type: "update", at: e.at, endAt: newEnd, minutes: null, amountCents: added });
      }
    }
    endAt = newEnd;
    amount = newAmount;
  }
  return out;
}

/** A receipt e-mail: one @, a dotted domain, no spaces (what a mailer will accept; not a full RFC 5322 parser). */
export const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[^\s@"<>()[\]\\,;:]+\.[^\s@"<>()[\]\\,;:.]+$/;
