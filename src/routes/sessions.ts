import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import * as zm from "zod/mini";
import type { Caller } from "../auth/authenticate";
import { sha256Hex } from "../auth/secrets";
import { pushPermit } from "../db/permits/push";
import { checkPlates, countActive, type PermitRow } from "../db/permits/reads";
import { listSessions, readSession, type SessionRecord } from "../db/permits/sessions";
import { REFERENCE_MAX } from "../domain/attributes";
import { formatCents, MAX_CENTS, parseAmount } from "../domain/money";
import { isValidNormalizedPlate, normalizePlate, normalizePlateState, PLATE_MAX, PLATE_RULE } from "../domain/plate";
import {
  amountAtRate,
  EMAIL,
  MAX_SESSION_MINUTES,
  minutesBetween,
  SESSION_STATUSES,
  sessionStatus,
  sessionTransactions,
} from "../domain/session";
import { acceptedCurrency, type SiteConfig, ZONE_NAME_MAX, type ZoneConfig, zoneKey } from "../domain/site";
import { formatRfc3339, nowSeconds, parseRfc3339 } from "../domain/time";
import { permitSequencer, type SessionResult } from "../durable/permit-sequencer";
import { AppError, ErrorCode, errorBody, throwValidationError } from "../errors";
import { IdempotencyKeyHeader, idempotencyConflict, idempotencyKey, keysetCursor } from "../http";
import { publishPermitWrites } from "../webhooks/publish";
import { d1Session } from "./bookmark";
import { apiRoute, type CallerEnv } from "./caller";
import { LOOKUP_LIMIT } from "./lookup";
import { documented } from "./operation";
import { graceSeconds, plateToCheck, stateToCheck, zoneByNumber } from "./plate-input";

/**
 * The sessions API for aggregators (seed 003, ParkOnce), mounted at /api/v1:
 * zones with their rates and occupancy, sessions (start, read, list, stop,
 * extend) and a plate's rights. A session is a temporary permit whose source
 * is the client's label; only the client that started it may see or change it.
 */
export const sessions = new OpenAPIHono<CallerEnv>({ defaultHook: throwValidationError });

const TAGS = ["Sessions"];

// ---------------------------------------------------------------- schemas

const Plate = z
  .string()
  .trim()
  .min(1)
  .max(PLATE_MAX)
  .refine((s) => isValidNormalizedPlate(normalizePlate(s)), PLATE_RULE)
  .openapi({ example: "ABC1234" });

const ZoneNumber = z.union([z.string().trim().min(1).max(ZONE_NAME_MAX), z.number().int().nonnegative()]).openapi({
  description: "The zone's number (or, for a zone without one, its name); a JSON number is read as its digits.",
  example: "104",
});

const Money = z
  .union([z.string(), z.number()])
  .superRefine((v, ctx) => {
    const parsed = parseAmount(v);
    if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
  })
  .openapi({
    description: "As a push's amount: a string with two decimals (or a number with at most two), 0.01 to 999999.99.",
    example: "5.00",
  });

const Currency = z.string().trim().min(1).max(10).openapi({ description: "One the site accepts.", example: "CAD" });

const Minutes = z
  .number()
  .refine(Number.isInteger, "must be a whole number of minutes")
  .pipe(z.number().min(1).max(MAX_SESSION_MINUTES))
  .openapi({ type: "integer", minimum: 1, maximum: MAX_SESSION_MINUTES, description: "Minutes, a whole number.", example: 60 });

const SessionStart = z
  .object({
    zone_number: ZoneNumber,
    license_plate: Plate,
    duration: Minutes,
    license_plate_state: z
      .string()
      .trim()
      .min(1)
      .max(10)
      .refine((state) => normalizePlateState(state) !== undefined, "must be letters, digits or dashes, such as ON or US-CA")
      .nullish()
      .openapi({ example: "ON" }),
    space_number: z.string().trim().min(1).max(20).nullish().openapi({ example: "17" }),
    receipt_email: z.string().trim().max(254).regex(EMAIL, "must be an e-mail address").nullish().openapi({
      description: "The driver's, for the receipt: shown to this client only, never to others.",
      example: "driver@example.com",
    }),
    amount: Money.nullish(),
    currency: Currency.nullish(),
  })
  .openapi("SessionStart");

const SessionExtend = z
  .object({
    duration: Minutes.openapi({ description: "Minutes to add to the end." }),
    amount: Money.nullish().openapi({ description: "What the extension cost; without it, the zone's rate prices it." }),
    currency: Currency.nullish(),
  })
  .openapi("SessionExtend");

const Transaction = z
  .object({
    type: z.enum(["start", "extend", "stop", "update"]),
    at: z.string().openapi({ description: "When, RFC 3339 UTC." }),
    end_time: z.string().openapi({ description: "The session's end once this step was applied." }),
    duration: z.number().int().nullable().openapi({ description: "Minutes added (start, extend)." }),
    amount: z.string().nullable().openapi({ description: "Amount added by this step." }),
  })
  .openapi("SessionTransaction");

const SessionFields = z.object({
  session_id: z.string().openapi({ example: "1a9b5375-cb75-4c71-9939-eeae550b09ac" }),
  status: z.enum(SESSION_STATUSES),
  zone_number: z.string().openapi({ description: "The zone's number (its name when it has none)." }),
  zone: z.string().nullable().openapi({ description: "The lot zone's name." }),
  license_plate: z.string(),
  license_plate_state: z.string().nullable(),
  space_number: z.string().nullable(),
  start_time: z.string().openapi({ description: "RFC 3339, UTC.", example: "2026-11-22T20:00:00Z" }),
  end_time: z.string().openapi({ description: "RFC 3339, UTC; for a stopped session, when it was stopped." }),
  duration: z.number().int().openapi({ description: "Minutes from start to end, a started minute counted whole." }),
  amount: z.string().nullable().openapi({ example: "2.50" }),
  currency: z.string().nullable(),
  receipt_email: z.string().nullable(),
});
const Session = SessionFields.extend({ transactions: z.array(Transaction) }).openapi("Session");
const SessionSummary = SessionFields.openapi("SessionSummary");

// A new object, not `zm.extend(errorBody(), …)`: zod's JSON Schema would show a schema derived from a named one as
// that name, extended.
const SessionConflict = zm
  .object({
    ...errorBody().shape,
    session_id: zm.optional(
      zm.string().check(zm.meta({ description: "The running session of this plate in this zone (9022): extend it instead." })),
    ),
  })
  .check(zm.meta({ id: "SessionConflict" }));

const SessionParam = z.object({
  id: z
    .string()
    .max(REFERENCE_MAX)
    .openapi({
      param: { name: "id", in: "path" },
      description: "The session's session_id.",
      example: "1a9b5375-cb75-4c71-9939-eeae550b09ac",
    }),
});

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

// ---------------------------------------------------------------- helpers

/** A permit's zone as the sessions API names it: its lot zone's number (else name), or a disconnected record's raw zone name. */
const zoneNumberOf = (p: PermitRow) => (p.lotZone === null ? p.zoneName : zoneKey({ number: p.lotZoneNumber, name: p.lotZone }));

/** The answer of a session: its fields for its owner, with its transactions when the history was read. */
function sessionView(p: PermitRow, now: number): z.infer<typeof SessionSummary> {
  return {
    session_id: p.id,
    status: sessionStatus(p, now),
    zone_number: zoneNumberOf(p) ?? "",
    zone: p.lotZone,
    license_plate: p.plate,
    license_plate_state: p.plateState,
    space_number: p.spaceNumber,
    start_time: formatRfc3339(p.startAt),
    end_time: formatRfc3339(p.endAt),
    duration: minutesBetween(p.startAt, p.endAt),
    amount: p.amountCents === null ? null : formatCents(p.amountCents),
    currency: p.currency,
    receipt_email: p.receiptEmail,
  };
}

function fullView({ permit, events }: SessionRecord, now: number): z.infer<typeof Session> {
  return {
    ...sessionView(permit, now),
    transactions: sessionTransactions(events).map((t) => ({
      type: t.type,
      at: formatRfc3339(t.at),
      end_time: formatRfc3339(t.endAt),
      duration: t.minutes,
      amount: t.amountCents === null ? null : formatCents(t.amountCents),
    })),
  };
}

/** Whose sessions a caller sees: its site's, started by its own credential. */
const ownerOf = (caller: Caller) => ({ siteId: caller.site.id, owner: caller.actor });

const notFound = (id: string) => new AppError(ErrorCode.NotFound, `No session ${id} of this client.`, { field: "id" });

/** The session as its owner sees it now; 9009 when it is not one of theirs. */
async function answerSession(c: Context<CallerEnv>, id: string) {
  const record = await readSession(d1Session(c), ownerOf(c.get("caller")), id);
  if (!record) throw notFound(id);
  return fullView(record, nowSeconds());
}

/** A currency the site accepts, upper-cased; 9033 otherwise. */
const accepted = (site: SiteConfig, currency: string) => acceptedCurrency(site.currencies, currency);

/**
 * What a session costs and in which currency: the amount the client sent
 * (in its currency, else the zone's rate currency, else the site's
 * default), or the zone's rate for the minutes (rounded up to the cent), or
 * none.
 */
function pricing(
  site: SiteConfig,
  zone: ZoneConfig,
  input: { amount?: string | number | null; currency?: string | null },
  minutes: number,
) {
  const currency = input.currency == null ? null : accepted(site, input.currency);
  if (input.amount != null) {
    const cents = (parseAmount(input.amount) as { cents: number }).cents;
    return { amountCents: cents, currency: currency ?? zone.currency ?? site.currencies[0] ?? null };
  }
  if (zone.rateCents === null) return { amountCents: null, currency };
  if (currency !== null && currency !== zone.currency) {
    throw new AppError(ErrorCode.Invalid, `currency must be ${zone.currency}, the currency of the zone's rate (or send an amount).`, {
      field: "currency",
    });
  }
  const amountCents = amountAtRate(zone.rateCents, minutes);
  if (amountCents > MAX_CENTS) {
    throw new AppError(ErrorCode.Invalid, "duration: at the zone's rate the amount would pass 999999.99.", { field: "duration" });
  }
  return { amountCents, currency: zone.currency };
}

/** The error of a session write that did not happen. */
function refused(id: string, result: Extract<SessionResult, { ok: false }>): AppError {
  switch (result.reason) {
    case "not-found":
      return notFound(id);
    case "stopped":
      return new AppError(ErrorCode.EndInvalid, `Session ${id} was stopped: its end can no longer change. Start a new one.`, {
        status: 409,
        field: "id",
      });
    case "expired":
      return new AppError(ErrorCode.EndInvalid, `Session ${id} has expired: its end can no longer change. Start a new one.`, {
        status: 409,
        field: "id",
      });
    case "too-long":
      return new AppError(
        ErrorCode.Invalid,
        `duration would make the session longer than the zone's maximum of ${result.maxMinutes} minutes.`,
        {
          field: "duration",
        },
      );
    case "currency-mismatch":
      return new AppError(ErrorCode.Invalid, "currency must be the session's currency.", { field: "currency" });
    case "amount-too-large":
      return new AppError(ErrorCode.Invalid, "amount would bring the session's total past 999999.99.", { field: "amount" });
  }
}

/** The session list's pages: by start, then id. */
const CURSOR = keysetCursor("[A-Za-z0-9-]{1,50}", "next_cursor");

// ---------------------------------------------------------------- zones

const ZoneInfo = z
  .object({
    zone_number: z
      .string()
      .openapi({ description: "What `zone_number` takes: the zone's number, or its name when it has none.", example: "104" }),
    name: z.string().openapi({ example: "Lot 4" }),
    rate_per_hour: z
      .string()
      .nullable()
      .openapi({ description: "Price of an hour; a session without an amount is charged at it.", example: "2.50" }),
    currency: z.string().nullable().openapi({ example: "CAD" }),
    max_duration: z.number().int().openapi({ description: "The longest session, in minutes." }),
    time_zone: z.string().nullable().openapi({ description: "IANA time zone of the zone.", example: "America/Toronto" }),
    capacity: z.number().int().nullable(),
    occupancy: z.number().int().openapi({ description: "Permits active in the zone now, of every source." }),
  })
  .openapi("Zone");

sessions.openapi(
  apiRoute({
    method: "get",
    path: "/zones",
    operationId: "listSessionZones",
    scope: "sessions",
    traffic: "reads",
    tags: TAGS,
    summary: "The site's lot zones, with their rates, limits and occupancy",
    description:
      "Every lot zone of the site with what a session needs: the number to send, the rate, the longest session, the time zone, the capacity, and how many permits (of every source) are active in it now. Zone settings may be up to the cache's staleness bound old; occupancy is counted now.",
    responses: { 200: json(z.object({ zones: z.array(ZoneInfo) }).openapi("ZoneList"), "The zones, by name") },
    errors: [],
  }),
  async (c) => {
    const { site } = c.get("caller");
    const counts = await countActive(
      d1Session(c),
      site.id,
      site.zones.map((z) => z.id),
      nowSeconds(),
    );
    const occupancy = new Map<number, number>();
    for (const row of counts) occupancy.set(row.lotZoneId, (occupancy.get(row.lotZoneId) ?? 0) + row.total);
    const zones = site.zones.map((z) => ({
      zone_number: zoneKey(z),
      name: z.name,
      rate_per_hour: z.rateCents === null ? null : formatCents(z.rateCents),
      currency: z.currency,
      max_duration: z.maxMinutes ?? MAX_SESSION_MINUTES,
      time_zone: z.timeZone,
      capacity: z.capacity,
      occupancy: occupancy.get(z.id) ?? 0,
    }));
    return c.json({ zones }, 200);
  },
);

// ---------------------------------------------------------------- sessions

sessions.openapi(
  apiRoute({
    method: "post",
    path: "/sessions",
    operationId: "startSession",
    scope: "sessions",
    traffic: "writes",
    tags: TAGS,
    summary: "Start a parking session: zone, plate, duration",
    description:
      "Starts now and ends `duration` minutes later, within the zone's maximum. Without an amount, the zone's rate prices it (rounded up to the cent). Refused with 409 (9022, naming `session_id`) while this client has a running session of the plate in the zone: extend it instead. Retries are safe with an `Idempotency-Key` header (kept 24 hours): the same key and request answer the same session (`Idempotent-Replayed: true`); the same key with another request is 9022. One D1 round trip with warm caches.",
    request: {
      headers: IdempotencyKeyHeader,
      body: body(SessionStart),
    },
    responses: {
      201: json(Session, "Started (or a retry of a start)"),
      409: {
        description: "9022: a running session of the plate in the zone (its `session_id`), or an Idempotency-Key reused",
        content: { "application/json": { schema: documented(SessionConflict, "output") } },
      },
    },
    errors: [400, 413, 415],
  }),
  async (c) => {
    const caller = c.get("caller");
    const { site } = caller;
    const input = c.req.valid("json");
    const key = idempotencyKey(c);
    const zone = zoneByNumber(site, input.zone_number, "zone_number");
    const maxMinutes = zone.maxMinutes ?? MAX_SESSION_MINUTES;
    if (input.duration > maxMinutes) {
      throw new AppError(ErrorCode.Invalid, `duration must be at most ${maxMinutes} minutes in zone ${zoneKey(zone)}.`, {
        field: "duration",
      });
    }
    const { amountCents, currency } = pricing(site, zone, input, input.duration);
    const now = nowSeconds();
    const values = {
      zoneName: String(input.zone_number).trim(),
      plate: input.license_plate,
      plateNorm: normalizePlate(input.license_plate),
      plateState: normalizePlateState(input.license_plate_state) ?? null,
      spaceNumber: input.space_number ?? null,
      receiptEmail: input.receipt_email ?? null,
      amountCents,
      currency,
    };
    const outcome = await pushPermit(
      d1Session(c),
      {
        ...values,
        siteId: site.id,
        type: "temp",
        source: caller.label,
        owner: caller.actor,
        startAt: now,
        endAt: now + input.duration * 60,
        permitNo: null,
        ticketNumber: null,
        promoCode: null,
      },
      {
        actor: caller.actor,
        now,
        lotZoneId: zone.id,
        exclusive: true,
        idempotency:
          key === undefined
            ? undefined
            : // Keys are the client's own: two clients of a site may use the same one.
              {
                key: `session:${caller.actor}:${key}`,
                requestHash: await sha256Hex(JSON.stringify({ ...values, zone: zone.id, d: input.duration })),
              },
      },
    );
    if (!outcome.ok) {
      if (outcome.reason === "idempotency-conflict") {
        throw idempotencyConflict();
      }
      throw new AppError(
        ErrorCode.AlreadyExists,
        `${input.license_plate} already has a running session of this client in zone ${zoneKey(zone)}: extend it instead.`,
        { field: "license_plate", details: { session_id: outcome.reference } },
      );
    }
    if (!outcome.created) {
      c.header("Idempotent-Replayed", "true");
      return c.json(await answerSession(c, outcome.reference), 201);
    }
    if (outcome.write) c.executionCtx.waitUntil(publishPermitWrites(c.env, site, [{ ...outcome.write, session: "started" }]));
    const endAt = now + input.duration * 60;
    const session: z.infer<typeof Session> = {
      session_id: outcome.reference,
      status: "active",
      zone_number: outcome.disconnected ? values.zoneName : zoneKey(zone),
      zone: outcome.disconnected ? null : zone.name,
      license_plate: values.plate,
      license_plate_state: values.plateState,
      space_number: values.spaceNumber,
      start_time: formatRfc3339(now),
      end_time: formatRfc3339(endAt),
      duration: input.duration,
      amount: amountCents === null ? null : formatCents(amountCents),
      currency,
      receipt_email: values.receiptEmail,
      transactions: [
        {
          type: "start",
          at: formatRfc3339(now),
          end_time: formatRfc3339(endAt),
          duration: input.duration,
          amount: amountCents === null ? null : formatCents(amountCents),
        },
      ],
    };
    return c.json(session, 201);
  },
);

sessions.openapi(
  apiRoute({
    method: "get",
    path: "/sessions/{id}",
    operationId: "getSession",
    scope: "sessions",
    traffic: "reads",
    tags: TAGS,
    summary: "A session with its status and transactions",
    description:
      "`status` is computed from the clock: `active` until its end, then `expired`; `stopped` if stopped early. `transactions` lists the start, each extension, the stop and any other change, oldest first. Another client's, another site's or an unknown session is 9009.",
    request: { params: SessionParam },
    responses: { 200: json(Session, "The session") },
    errors: [400, 404],
  }),
  async (c) => c.json(await answerSession(c, c.req.valid("param").id), 200),
);

sessions.openapi(
  apiRoute({
    method: "get",
    path: "/sessions",
    operationId: "listSessions",
    scope: "sessions",
    traffic: "reads",
    tags: TAGS,
    summary: "This client's sessions, newest first",
    description:
      "Filters: `license_plate` (matched normalized), `status` (active, stopped, expired, computed now), `since` (started at or after; RFC 3339 with an offset). Pages of `limit` (1 to 100, default 50); pass `next_cursor` as `cursor` for the next page, until it is null. Sessions are listed without their transactions.",
    request: {
      query: z.object({
        license_plate: z
          .string()
          .max(PLATE_MAX)
          .optional()
          .openapi({ description: "Only this plate's sessions; case, spaces, dashes and dots ignored." }),
        status: z.enum(SESSION_STATUSES).optional().openapi({ description: "Only sessions in this status, computed now." }),
        since: z.string().max(40).optional().openapi({
          description: "Only sessions started at or after this time: RFC 3339 with an offset.",
          format: "date-time",
          example: "2026-11-22T00:00:00Z",
        }),
        limit: z.coerce
          .number()
          .int()
          .min(1)
          .max(100)
          .default(50)
          .openapi({ description: "Sessions per page: 1 to 100.", format: "int32" }),
        cursor: z.string().max(100).optional().openapi({ description: "The previous page's next_cursor, as it came (opaque)." }),
      }),
    },
    responses: {
      200: json(
        z.object({ sessions: z.array(SessionSummary), next_cursor: z.string().nullable() }).openapi("SessionList"),
        "A page of sessions",
      ),
    },
    errors: [400],
  }),
  async (c) => {
    const q = c.req.valid("query");
    const plateNorm = q.license_plate?.trim() ? plateToCheck(q.license_plate, "license_plate") : undefined;
    let since: number | undefined;
    if (q.since !== undefined) {
      since = parseRfc3339(q.since);
      if (since === undefined) {
        throw new AppError(ErrorCode.Invalid, "since must be an RFC 3339 time with an offset, e.g. 2026-11-22T00:00:00Z.", {
          field: "since",
        });
      }
    }
    const after = q.cursor === undefined ? undefined : CURSOR.decode(q.cursor);
    const now = nowSeconds();
    const { rows, hasMore } = await listSessions(d1Session(c), ownerOf(c.get("caller")), {
      plateNorm,
      status: q.status,
      since,
      after: after && { startAt: after.key, id: after.id },
      limit: q.limit,
      now,
    });
    const last = rows.at(-1);
    return c.json(
      { sessions: rows.map((r) => sessionView(r, now)), next_cursor: hasMore && last ? CURSOR.encode(last.startAt, last.id) : null },
      200,
    );
  },
);

sessions.openapi(
  apiRoute({
    method: "post",
    path: "/sessions/{id}/stop",
    operationId: "stopSession",
    scope: "sessions",
    traffic: "writes",
    tags: TAGS,
    summary: "Stop a session early: its end becomes now",
    description:
      "The end becomes now (never later than it was). Stopping a stopped session answers it again; an expired one is 409 (9005). Stops and extensions of one session are applied one at a time, in arrival order, each kept in its history.",
    request: { params: SessionParam },
    responses: { 200: json(Session, "Stopped") },
    errors: [400, 404, 409],
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const caller = c.get("caller");
    const result = await permitSequencer(c.env, id).stopSession({ ...ownerOf(caller), reference: id, actor: caller.actor });
    // The answer is read after the write, wherever the session's reads go.
    d1Session(c, result.bookmark);
    if (!result.ok) throw refused(id, result);
    return c.json(await answerSession(c, id), 200);
  },
);

sessions.openapi(
  apiRoute({
    method: "post",
    path: "/sessions/{id}/extend",
    operationId: "extendSession",
    scope: "sessions",
    traffic: "writes",
    tags: TAGS,
    summary: "Extend a running session by whole minutes",
    description:
      "The end moves `duration` minutes later, as long as the session then lasts no longer than its zone's maximum (400, 9033). The amount grows by the `amount` sent (in the session's currency) or, without one, by the zone's rate for those minutes. A stopped or expired session is 409 (9005). Applied one at a time with the session's other changes.",
    request: { params: SessionParam, body: body(SessionExtend) },
    responses: { 200: json(Session, "Extended") },
    errors: [400, 404, 409, 413, 415],
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const caller = c.get("caller");
    const { site } = caller;
    const result = await permitSequencer(c.env, id).extendSession({
      ...ownerOf(caller),
      reference: id,
      actor: caller.actor,
      minutes: input.duration,
      amountCents: input.amount == null ? undefined : (parseAmount(input.amount) as { cents: number }).cents,
      currency: input.currency == null ? undefined : accepted(site, input.currency),
      defaultCurrency: site.currencies[0] ?? null,
    });
    d1Session(c, result.bookmark);
    if (!result.ok) throw refused(id, result);
    return c.json(await answerSession(c, id), 200);
  },
);

// ---------------------------------------------------------------- rights

const Right = z
  .object({
    right_id: z.string().openapi({ description: "The permit's reference (a session's session_id)." }),
    kind: z.enum(["session", "permit"]),
    type: z.enum(["temp", "standard"]),
    source: z.string().openapi({ description: "push, ParkMobile, admin, or the label of the client that started a session." }),
    zone_number: z
      .string()
      .nullable()
      .openapi({ description: "The lot zone's number (its name when it has none); the raw zone name when disconnected." }),
    zone: z.string().nullable().openapi({ description: "The lot zone's name; null when disconnected." }),
    license_plate: z.string(),
    license_plate_state: z.string().nullable(),
    space_number: z.string().nullable(),
    start_time: z.string(),
    end_time: z.string(),
    expired_within_grace: z
      .boolean()
      .openapi({ description: "It ended within the site's grace period: not valid now, not to be ticketed yet." }),
  })
  .openapi("Right");

sessions.openapi(
  apiRoute({
    method: "get",
    path: "/rights",
    operationId: "plateRights",
    scope: "lookup",
    traffic: "reads",
    tags: TAGS,
    summary: "Every right a plate holds now, whatever its source",
    description:
      "Sessions (of every client), pushes, ParkMobile imports and standard permits active now, and those that ended within the site's grace period (flagged `expired_within_grace`), the plate matched normalized (case, spaces, dashes and dots ignored), optionally in one zone (by its number, else its name) and state. At most 100, latest end first. Needs the `lookup` scope; a read replica near the caller may answer (send `x-d1-bookmark` to read at least what you wrote).",
    request: {
      query: z.object({
        license_plate: z
          .string()
          .min(1)
          .max(PLATE_MAX)
          .openapi({ description: "The plate; case, spaces, dashes and dots ignored.", example: "ABC1234" }),
        zone_number: z
          .string()
          .max(ZONE_NAME_MAX)
          .optional()
          .openapi({ description: "Only rights in this zone: its number, else its name.", example: "104" }),
        license_plate_state: z
          .string()
          .max(10)
          .optional()
          .openapi({ description: "Leaves out rights of another known state.", example: "ON" }),
      }),
    },
    responses: {
      200: json(
        z
          .object({
            license_plate: z.string(),
            normalized: z.string(),
            zone_number: z.string().nullable(),
            active: z.boolean().openapi({ description: "A right is valid now (grace not counted)." }),
            within_grace: z.boolean().openapi({ description: "No right is valid now, but one ended within the grace period." }),
            grace_minutes: z.number().int(),
            checked_at: z.string().openapi({ description: "RFC 3339, UTC." }),
            rights: z.array(Right),
          })
          .openapi("PlateRights"),
        "The plate's rights now",
      ),
    },
    errors: [400],
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { site } = c.get("caller");
    const normalized = plateToCheck(q.license_plate, "license_plate");
    const state = stateToCheck(q.license_plate_state, "license_plate_state");
    const zone = q.zone_number === undefined || q.zone_number.trim() === "" ? undefined : zoneByNumber(site, q.zone_number, "zone_number");
    const now = nowSeconds();
    const rows = await checkPlates(d1Session(c), {
      siteId: site.id,
      plates: [normalized],
      now,
      graceSeconds: graceSeconds(site),
      plateState: state,
      lotZoneIds: zone && [zone.id],
      limit: LOOKUP_LIMIT,
    });
    const active = rows.some((h) => !h.expiredWithinGrace);
    return c.json(
      {
        license_plate: q.license_plate,
        normalized,
        zone_number: zone ? zoneKey(zone) : null,
        active,
        within_grace: !active && rows.length > 0,
        grace_minutes: site.graceMinutes,
        checked_at: formatRfc3339(now),
        rights: rows.map((p) => ({
          right_id: p.id,
          kind: p.owner === null ? ("permit" as const) : ("session" as const),
          type: p.type,
          source: p.source,
          zone_number: zoneNumberOf(p),
          zone: p.lotZone,
          license_plate: p.plate,
          license_plate_state: p.plateState,
          space_number: p.spaceNumber,
          start_time: formatRfc3339(p.startAt),
          end_time: formatRfc3339(p.endAt),
          expired_within_grace: p.expiredWithinGrace,
        })),
      },
      200,
    );
  },
);
