/**
 * The transactions report, as pure rules: the range it covers, and the rows
 * one history event gives. One row per operation on a permit (a creation, an
 * update, a deletion, a session's start, extension or stop, an import's
 * change), read from the permit's history; money is what the operation
 * added to the permit's amount, so a column's sum over a range is what the
 * range charged, net of what it took back.
 */
import { AppError, ErrorCode } from "../errors";
import { formatCents } from "./money";
import { amountAdded, type Changes, SOURCES } from "./permit";
import { sessionStep } from "./session";
import { formatLocalTime, formatWireTime, instantOfWallClock, parseDate, parseWireTime } from "./time";

/** The longest range one report covers: a month of any length (an accounting period), read in one request. */
export const REPORT_MAX_DAYS = 31;

/** What happened to a permit in one row of the report. */
export const REPORT_OPERATIONS = ["create", "update", "delete", "session-start", "session-extend", "session-stop", "import"] as const;
export type ReportOperation = (typeof REPORT_OPERATIONS)[number];

/** A range bound as sent: a date (`Y-m-d`, a day in the site's time zone) or a UTC time (`Y-m-d\TH:i:s`, `Z` allowed). */
const RANGE_RULE = "must be a date (Y-m-d, a day in the site's time zone) or a UTC time (Y-m-d\\TH:i:s)";

/**
 * The instants a report covers, `[from, to)`, from the bounds as sent. A
 * date covers its whole day in `timeZone`: `from=2026-03-01&to=2026-03-31`
 * is March there, both days included. A time is that instant, `to`
 * excluded. 9033 for a bound that is neither (or not a real calendar day or
 * time) or a `to` not after `from`; 9030 for a range longer than
 * {@link REPORT_MAX_DAYS} days (calendar days when both bounds are dates).
 */
export function reportRange(from: string, to: string, timeZone: string): { from: number; to: number } {
  const bound = (value: string, field: "from" | "to") => {
    const day = parseDate(value);
    if (day !== undefined) return instantOfWallClock(field === "from" ? day : day + 86_400, timeZone);
    const time = parseWireTime(value);
    if (time === undefined) throw new AppError(ErrorCode.Invalid, `${field} ${RANGE_RULE}.`, { field });
    return time;
  };
  const range = { from: bound(from, "from"), to: bound(to, "to") };
  if (range.to <= range.from) throw new AppError(ErrorCode.Invalid, "to must be after from.", { field: "to" });
  // Dates count calendar days: a month of 31 days is 31 days long even where it holds the hour the clocks go back.
  const fromDay = parseDate(from);
  const toDay = parseDate(to);
  const days = fromDay !== undefined && toDay !== undefined ? (toDay - fromDay) / 86_400 + 1 : (range.to - range.from) / 86_400;
  if (days > REPORT_MAX_DAYS) {
    const message = `The range must be at most ${REPORT_MAX_DAYS} days long: ask for it a month at a time.`;
    throw new AppError(ErrorCode.TooLong, message, { field: "to" });
  }
  return range;
}

/** One history event, with what the report needs of its permit as it stood after the event. */
export interface ReportEvent {
  reference: string;
  version: number;
  action: "create" | "update" | "delete";
  changes: Changes;
  /** `token:<id>`, `oauth:<client id>`, `admin`, `job:<name>`. */
  actor: string;
  at: number;
  type: "temp" | "standard";
  source: string;
  /** A parking session (a permit with an owner): its steps are start, extend and stop. */
  session: boolean;
  /** Its plate after the event (empty once retention removed it). */
  plate: string;
  /** Its lot zone's name, or the zone name a disconnected record carries. */
  zone: string | null;
  /** The IANA time zone of its local time: its lot zone's, else the site's. */
  timeZone: string;
  /** Its amount and currency after the event. */
  amountCents: number | null;
  currency: string | null;
  permitNo: string | null;
  ticketNumber: string | null;
}

/** The report's columns, in order: a CSV file's header row, and each JSON row's keys. */
export const REPORT_COLUMNS = [
  "time_utc",
  "time_local",
  "time_zone",
  "operation",
  "reference",
  "version",
  "type",
  "source",
  "plate",
  "zone",
  "amount",
  "amount_minor",
  "currency",
  "actor",
  "permit_no",
  "ticket_number",
] as const satisfies readonly (keyof TransactionRow)[];

export type TransactionRow = {
  time_utc: string;
  time_local: string;
  time_zone: string;
  operation: ReportOperation;
  reference: string;
  version: number;
  type: "temp" | "standard";
  source: string;
  plate: string;
  zone: string | null;
  /** What the operation added to the permit's amount, two decimals, negative when it took some back; null: nothing. */
  amount: string | null;
  /** The same in minor units (cents). */
  amount_minor: number | null;
  currency: string | null;
  actor: string;
  permit_no: string | null;
  ticket_number: string | null;
};

/** Every column of a row is in REPORT_COLUMNS (the compiler refuses one left out). */
const everyColumnListed: Record<Exclude<keyof TransactionRow, (typeof REPORT_COLUMNS)[number]>, never> = {};
void everyColumnListed;

const num = (v: unknown) => (typeof v === "number" ? v : null);
const text = (v: unknown) => (typeof v === "string" ? v : null);

/**
 * What the event was: a deletion; a session's step as the sessions API
 * names it (the same derivation, `sessionStep`), a session's other change
 * being an update; the ParkMobile import's creation or change of a record
 * (`import`); otherwise the event's own action.
 */
export function operationOf(e: Pick<ReportEvent, "action" | "changes" | "at" | "session" | "source" | "actor">): ReportOperation {
  if (e.action === "delete") return "delete";
  if (e.session) {
    const step = sessionStep(e);
    if (step?.type === "start") return "session-start";
    if (step?.type === "extend") return "session-extend";
    if (step?.type === "stop") return "session-stop";
    return "update";
  }
  if (e.source === SOURCES.parkmobile && e.actor.startsWith("job:")) return "import";
  return e.action;
}

/**
 * The amounts an event moved, each in its currency: a creation its amount;
 * a deletion the permit's amount taken back (negative: the record stays,
 * with its amount, but is no longer paid parking); any change what it added
 * (negative when it lowered the amount; none when it left it). A change of
 * currency moves two amounts: the old amount taken back in the old
 * currency, the new one charged in the new.
 */
function moneyOf(e: ReportEvent): { cents: number | null; currency: string | null }[] {
  if (e.action === "create") return [{ cents: e.amountCents, currency: e.currency }];
  if (e.action === "delete") return [{ cents: e.amountCents === null ? null : -e.amountCents, currency: e.currency }];
  const c = e.changes;
  const oldCurrency = text(c.currency?.[0]);
  const oldCents = c.amountCents ? num(c.amountCents[0]) : e.amountCents;
  if (oldCurrency !== null && e.currency !== null && oldCurrency !== e.currency && oldCents !== null) {
    return [
      { cents: -oldCents, currency: oldCurrency },
      { cents: e.amountCents, currency: e.currency },
    ];
  }
  // The amount a session's step added, as the sessions API reports it, and the same for any other permit.
  return [{ cents: amountAdded(c), currency: e.currency }];
}

/** The report's rows for one history event: one, or two for a change of currency (see {@link moneyOf}). */
export function transactionRows(e: ReportEvent): TransactionRow[] {
  const operation = operationOf(e);
  return moneyOf(e).map(({ cents, currency }) => ({
    time_utc: formatWireTime(e.at),
    time_local: formatLocalTime(e.at, e.timeZone),
    time_zone: e.timeZone,
    operation,
    reference: e.reference,
    version: e.version,
    type: e.type,
    source: e.source,
    plate: e.plate,
    zone: e.zone,
    amount: cents === null ? null : formatCents(cents),
    amount_minor: cents,
    currency,
    actor: e.actor,
    permit_no: e.permitNo,
    ticket_number: e.ticketNumber,
  }));
}
