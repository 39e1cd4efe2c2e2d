import type { Context } from "hono";
import type { ClientErrorStatusCode, ContentfulStatusCode, ServerErrorStatusCode } from "hono/utils/http-status";
import * as z from "zod/mini";
import type { AppEnv } from "./http";

// The one home of errors, for every layer: the domain throws AppError too, so this module imports nothing of Hono
// at run time (its types only), and builds its schema (zod/mini) only when the document first asks for it.

/**
 * Every error this Worker answers, on every surface, carries one of these
 * codes: OPS-COM's own (their "API Error Codes" page), plus our own 99xx:
 * 9998 for a rate limit, 9999 for the unexpected. Each code has the HTTP statuses it answers with (the first is
 * its default) and one line saying what it means; the README's error table
 * is checked against this one (test/sources-agree.test.ts).
 */
const codes = {
  ClientMissing: { code: 9000, statuses: [400], summary: "client code missing (validate/plate's `client`)" },
  TokenMissing: {
    code: 9001,
    statuses: [401],
    summary:
      "API token missing (`apiToken`, validate/plate's `api_token`; `Authorization`/`X-Api-Key` on the lookup, zones, sessions and rights; Pay-by-Plate's `X-ApiKey`; or the admin API's `Authorization`)",
  },
  NoPermission: {
    code: 9002,
    statuses: [401, 403],
    summary:
      "token unknown, revoked, expired (an OAuth access token) or malformed (401); token lacks the scope for the call, or is not the validate/plate `client`'s (403)",
  },
  Unparseable: {
    code: 9003,
    statuses: [400, 413, 415],
    summary: "body not JSON or not a JSON object (400); too large (413); Content-Type not `application/json` (415)",
  },
  EndRequired: { code: 9004, statuses: [400], summary: "end time missing" },
  EndInvalid: {
    code: 9005,
    statuses: [400, 409],
    summary:
      "end time invalid, or not after the start (push: the sent start; update: the record's start) (400); a session stopped or expired, whose end can no longer change (stop, extend) (409)",
  },
  PlateRequired: { code: 9006, statuses: [400], summary: "plate missing" },
  StartInvalid: { code: 9007, statuses: [400], summary: "start time invalid" },
  ReferenceRequired: { code: 9008, statuses: [400], summary: "reference ID missing (update, delete)" },
  NotFound: {
    code: 9009,
    statuses: [404, 405],
    summary:
      "record not found: a permit reference that does not exist, is another site's or was deleted (update, delete); a session that does not exist or is another site's or another client's; an admin site, zone, token, OAuth client, permit, task, archive, webhook endpoint or delivery; a Pay-by-Plate zone that is not the site's, or a search that found nothing; an unknown route (404), or a method the route does not take (405, with `Allow`)",
  },
  AlreadyExists: {
    code: 9022,
    statuses: [409],
    summary:
      "already exists (site slug, zone name or number), an `Idempotency-Key` reused with a different request, a running session of the plate in the zone from the same client (its `session_id` in the body), or a task run already under way",
  },
  TooLong: {
    code: 9030,
    statuses: [400],
    summary:
      "maximum characters exceeded, or a number above its maximum (a session longer than a week, a transactions report longer than 31 days; a site's 11th webhook endpoint)",
  },
  Required: {
    code: 9031,
    statuses: [400],
    summary:
      "required field missing (push start time; the lookup's plate; the sessions API's fields; Pay-by-Plate's `PlateNumbers`, `PlateNumber`; admin fields)",
  },
  TooShort: {
    code: 9032,
    statuses: [400],
    summary: "below minimum (an empty plate to check; a duration below 1 minute; admin fields: empty name, empty list, a limit below 1)",
  },
  Invalid: {
    code: 9033,
    statuses: [400, 406],
    summary:
      "value invalid: wrong type or format, amount, currency, two names of one attribute that disagree, a zone number no zone has, a duration that is not whole minutes or passes the zone's maximum; a continuation token to replace by a full pull; an `x-d1-bookmark` that is not one; a webhook URL that is not https to a public host, an unknown event type, a redelivery to a disabled endpoint (400); an `Accept` header that allows none of the answer's formats (406)",
  },
  RateLimited: {
    code: 9998,
    statuses: [429],
    summary:
      "our own code, not OPS-COM's: too many calls by this credential this minute, its writes or its reads, for its tier; `Retry-After` says when to try again",
  },
  Internal: {
    code: 9999,
    statuses: [500, 503],
    summary:
      "our own code, not OPS-COM's: an unexpected failure, logged with the request id (500); an answer that cannot be known now, the permits of a zone whose ParkMobile import has not succeeded for 15 minutes (503, with `Retry-After`); a redelivery that could not be queued (503); retrying is safe",
  },
} as const satisfies Record<string, { code: number; statuses: readonly ContentfulStatusCode[]; summary: string }>;

type CodeName = keyof typeof codes;

/** The codes by name: `ErrorCode.NotFound` is 9009. */
export const ErrorCode = Object.fromEntries(Object.entries(codes).map(([name, c]) => [name, c.code])) as {
  [K in CodeName]: (typeof codes)[K]["code"];
};
export type ErrorCode = (typeof ErrorCode)[CodeName];

/** The code table as rows, in code order: code, the HTTP statuses it answers with, what it means. */
export const errorTable: readonly { code: ErrorCode; statuses: readonly ContentfulStatusCode[]; summary: string }[] = Object.values(codes);

const byCode = new Map(errorTable.map((row) => [row.code, row]));

/** The one error type: a code, a message naming the rule, and the field at fault (under the name the client used). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly field: string | undefined;
  /** Headers the answer carries (e.g. `WWW-Authenticate` on a refused credential). */
  readonly headers: Readonly<Record<string, string>>;
  /** More fields of the body, documented by the operation (e.g. the `session_id` a conflict names). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { field?: string; status?: ContentfulStatusCode; headers?: Record<string, string>; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.field = options.field;
    this.status = options.status ?? (byCode.get(code)?.statuses[0] as ContentfulStatusCode);
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }

  /** The body every error answers with: OPS-COM's shape plus `status`, `field`, the details and `requestId`. */
  toBody(requestId: string | undefined) {
    return {
      status: "error" as const,
      ErrorCode: this.code,
      ErrorMessage: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...this.details,
      ...(requestId === undefined ? {} : { requestId }),
    };
  }
}

/**
 * The one error handler: an AppError answers its own body and status; a
 * framework 4xx (malformed JSON, wrong Content-Type) is 9003; anything else
 * is logged with the request id and answered with a generic 500 that leaks
 * nothing.
 */
export function answerError<E extends AppEnv>(err: Error, c: Context<E>) {
  const id = c.get("requestId");
  if (err instanceof AppError) {
    for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
    return c.json(err.toBody(id), err.status);
  }
  if (isHttpException(err) && err.status < 500) {
    const message = err.status === 415 ? "Content-Type must be application/json." : err.message || "Bad request.";
    const error = new AppError(ErrorCode.Unparseable, message, { status: err.status as ContentfulStatusCode });
    return c.json(error.toBody(id), error.status);
  }
  console.error(JSON.stringify({ requestId: id, error: err.stack ?? err.message }));
  const internal = new AppError(ErrorCode.Internal, "Internal error; it is safe to retry.");
  return c.json(internal.toBody(id), 500);
}

/**
 * The answer to a request no route serves: 9009, 404 for a path nothing
 * serves, 405 with `Allow` when other methods are served there (`allowed`).
 */
export function answerNotFound<E extends AppEnv>(c: Context<E>, allowed: string[]) {
  const path = new URL(c.req.url).pathname;
  if (allowed.length === 0) return answerError(new AppError(ErrorCode.NotFound, `No route for ${c.req.method} ${path}.`), c);
  c.header("Allow", allowed.join(", "));
  const message = `${path} does not take ${c.req.method}; it takes ${allowed.join(", ")}.`;
  return answerError(new AppError(ErrorCode.NotFound, message, { status: 405 }), c);
}

/**
 * Whether a zod issue says "too long" in characters: the attribute table's
 * length rules count code points, so they are custom issues marked
 * `params.tooLong` (OPS-COM's 9030, whichever surface checks them).
 */
export function isTooLongIssue(issue: z.core.$ZodIssue | undefined): boolean {
  return issue?.code === "custom" && (issue.params as { tooLong?: boolean } | undefined)?.tooLong === true;
}

/** Turns the first zod issue of a request into our error, naming the field and the rule in words. */
function fromZodIssue(error: { issues: readonly z.core.$ZodIssue[] }, input: unknown): AppError {
  const issue = error.issues[0];
  if (!issue) return new AppError(ErrorCode.Invalid, "The request is invalid.");
  const field = issue.path.join(".") || "body";
  const value = issue.path.reduce<unknown>(
    (v, key) => (typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined),
    input,
  );
  /** "at most 200 characters", "at least 1 item", "at most 200": the rule in words for strings, lists and numbers. */
  const bound = (word: "at most" | "at least", n: unknown, origin: string) =>
    origin === "array"
      ? `must have ${word} ${n} item${n === 1 ? "" : "s"}`
      : origin === "string"
        ? `must be ${word} ${n} character${n === 1 ? "" : "s"} long`
        : `must be ${word} ${n}`;
  // A JSON body that is not an object (an array, a number) is unparseable, as on every surface.
  if (issue.path.length === 0 && issue.code === "invalid_type") {
    return new AppError(ErrorCode.Unparseable, "The body must be a JSON object.");
  }
  switch (issue.code) {
    case "invalid_union": {
      if (value === undefined) return new AppError(ErrorCode.Required, `${field} is required.`, { field });
      // Each alternative's expected type: "a string or a number".
      const expected = [
        ...new Set(
          issue.errors.flatMap((branch) => branch.flatMap((i) => (i.code === "invalid_type" && i.path.length === 0 ? [i.expected] : []))),
        ),
      ];
      const types = expected.length > 0 ? expected.map((t) => `a ${t}`).join(" or ") : "valid";
      return new AppError(ErrorCode.Invalid, `${field} must be ${types}.`, { field });
    }
    case "invalid_type":
      return value === undefined
        ? new AppError(ErrorCode.Required, `${field} is required.`, { field })
        : new AppError(ErrorCode.Invalid, `${field} must be ${issue.expected === "array" ? "an array" : `a ${issue.expected}`}.`, {
            field,
          });
    case "too_big":
      return new AppError(ErrorCode.TooLong, `${field} ${bound("at most", issue.maximum, issue.origin)}.`, { field });
    case "custom":
      return new AppError(isTooLongIssue(issue) ? ErrorCode.TooLong : ErrorCode.Invalid, `${field} ${issue.message}.`, { field });
    case "too_small":
      return new AppError(ErrorCode.TooShort, `${field} ${bound("at least", issue.minimum, issue.origin)}.`, { field });
    case "invalid_value":
      // zod reports a missing enum as a value outside it: missing is missing.
      if (value === undefined) return new AppError(ErrorCode.Required, `${field} is required.`, { field });
      return new AppError(ErrorCode.Invalid, `${field} must be one of ${issue.values.join(", ")}.`, { field });
    default:
      return new AppError(ErrorCode.Invalid, `${field} ${issue.message}.`, { field });
  }
}

/**
 * The `defaultHook` of every route declared with zod (admin API, lookup):
 * a failed validation becomes the one error shape, naming the field and the
 * rule, instead of the validator's own 400.
 */
export function throwValidationError(result: { success: boolean; error?: { issues: readonly z.core.$ZodIssue[] }; data?: unknown }) {
  if (!result.success && result.error) throw fromZodIssue(result.error, result.data);
}

/** `value` parsed by `schema` (a public operation's request part: src/routes/operation.ts), or the one error shape. */
export function parseInput<S extends z.core.$ZodType>(schema: S, value: unknown): z.output<S> {
  const result = z.safeParse(schema, value);
  if (!result.success) throw fromZodIssue(result.error, value);
  return result.data;
}

/** The error body's name in the document ({@link errorBody}, which src/openapi.ts adds to its components), and its reference. */
const ERROR_SCHEMA_ID = "Error";
const ERROR_SCHEMA_REF = `#/components/schemas/${ERROR_SCHEMA_ID}`;

let errorBodySchema: ReturnType<typeof buildErrorBody> | undefined;

function buildErrorBody() {
  return z
    .object({
      status: z.literal("error"),
      ErrorCode: z.int().check(z.meta({ description: errorTable.map((row) => `${row.code}: ${row.summary}`).join("\n") })),
      ErrorMessage: z.string(),
      field: z.optional(z.string().check(z.meta({ description: "The attribute at fault, under the name the client used." }))),
      requestId: z.optional(z.string()),
    })
    .check(z.meta({ id: ERROR_SCHEMA_ID }));
}

/** The error body (the `Error` schema of the document), built on first use: only the document and its extensions read it. */
export function errorBody() {
  errorBodySchema ??= buildErrorBody();
  return errorBodySchema;
}

/** A Hono HTTPException, told by its shape (`status` and `getResponse()`), so this module needs no Hono at run time. */
function isHttpException(err: Error): err is Error & { status: number } {
  const e = err as { status?: unknown; getResponse?: unknown };
  return typeof e.status === "number" && typeof e.getResponse === "function";
}

/** An HTTP status an error answers with. */
export type ErrorStatus = ClientErrorStatusCode | ServerErrorStatusCode;

/** The documented error answers of an operation, one entry per HTTP status. */
export function errorResponses<const S extends readonly ErrorStatus[]>(statuses: S) {
  const response = {
    description: "An error, in the one error shape",
    content: { "application/json": { schema: { $ref: ERROR_SCHEMA_REF } } },
  };
  return Object.fromEntries(statuses.map((s) => [s, response])) as Record<S[number], typeof response>;
}
