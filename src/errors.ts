import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ClientErrorStatusCode, ContentfulStatusCode, ServerErrorStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./http";

/**
 * Every error this Worker answers, on every surface, carries one of these
 * codes: OPS-COM's own (their "API Error Codes" page), plus 9999 for the
 * unexpected. Each code has the HTTP statuses it answers with (the first is
 * its default) and one line saying what it means; the README's error table
 * is checked against this one (test/errors.test.ts).
 */
const codes = {
  ClientMissing: { code: 9000, statuses: [400], summary: "client code missing (validate/plate's `client`)" },
  TokenMissing: {
    code: 9001,
    statuses: [401],
    summary:
      "API token missing (`apiToken`, validate/plate's `api_token`, the lookup's `Authorization`/`X-Api-Key`, Pay-by-Plate's `X-ApiKey`, or the admin API's `Authorization`)",
  },
  NoPermission: {
    code: 9002,
    statuses: [401, 403],
    summary: "token unknown, revoked or malformed (401); token lacks the scope for the call, or is not the validate/plate `client`'s (403)",
  },
  Unparseable: {
    code: 9003,
    statuses: [400, 413, 415],
    summary: "body not JSON or not a JSON object (400); too large (413); Content-Type not `application/json` (415)",
  },
  EndRequired: { code: 9004, statuses: [400], summary: "end time missing" },
  EndInvalid: {
    code: 9005,
    statuses: [400],
    summary: "end time invalid, or not after the start (push: the sent start; update: the record's start)",
  },
  PlateRequired: { code: 9006, statuses: [400], summary: "plate missing" },
  StartInvalid: { code: 9007, statuses: [400], summary: "start time invalid" },
  ReferenceRequired: { code: 9008, statuses: [400], summary: "reference ID missing (update, delete)" },
  NotFound: {
    code: 9009,
    statuses: [404, 405],
    summary:
      "record not found: a permit reference that does not exist, is another site's or was deleted (update, delete); an admin site, zone, token, permit, task or archive; a Pay-by-Plate zone that is not the site's, or a search that found nothing; an unknown route (404), or a method the route does not take (405, with `Allow`)",
  },
  AlreadyExists: {
    code: 9022,
    statuses: [409],
    summary: "already exists (site slug, zone name), an `Idempotency-Key` reused with a different request, or a task run already under way",
  },
  TooLong: { code: 9030, statuses: [400], summary: "maximum characters exceeded" },
  Required: {
    code: 9031,
    statuses: [400],
    summary: "required field missing (push start time; the lookup's plate; Pay-by-Plate's `PlateNumbers`, `PlateNumber`; admin fields)",
  },
  TooShort: {
    code: 9032,
    statuses: [400],
    summary: "below minimum (an empty plate to check; admin fields: empty name, empty list, a limit below 1)",
  },
  Invalid: {
    code: 9033,
    statuses: [400],
    summary:
      "value invalid: wrong type or format, amount, currency, two names of one attribute that disagree; a continuation token to replace by a full pull; an `x-d1-bookmark` that is not one",
  },
  Internal: {
    code: 9999,
    statuses: [500, 503],
    summary:
      "our own code, not OPS-COM's: an unexpected failure, logged with the request id (500); an answer that cannot be known now, the permits of a zone whose ParkMobile import has not succeeded for 15 minutes (503, with `Retry-After`); retrying is safe",
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

  constructor(code: ErrorCode, message: string, options: { field?: string; status?: ContentfulStatusCode } = {}) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.field = options.field;
    this.status = options.status ?? (byCode.get(code)?.statuses[0] as ContentfulStatusCode);
  }

  /** The body every error answers with: OPS-COM's shape plus `status`, `field` and `requestId`. */
  toBody(requestId: string | undefined) {
    return {
      status: "error" as const,
      ErrorCode: this.code,
      ErrorMessage: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
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
  if (err instanceof AppError) return c.json(err.toBody(id), err.status);
  if (err instanceof HTTPException && err.status < 500) {
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

/** Turns the first zod issue of a request into our error, naming the field and the rule in words. */
function fromZodIssue(error: z.ZodError, input: unknown): AppError {
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
  switch (issue.code) {
    case "invalid_type":
      return value === undefined
        ? new AppError(ErrorCode.Required, `${field} is required.`, { field })
        : new AppError(ErrorCode.Invalid, `${field} must be ${issue.expected === "array" ? "an array" : `a ${issue.expected}`}.`, {
            field,
          });
    case "too_big":
      return new AppError(ErrorCode.TooLong, `${field} ${bound("at most", issue.maximum, issue.origin)}.`, { field });
    case "too_small":
      return new AppError(ErrorCode.TooShort, `${field} ${bound("at least", issue.minimum, issue.origin)}.`, { field });
    case "invalid_value":
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
export function throwValidationError(result: { success: boolean; error?: z.ZodError; data?: unknown }) {
  if (!result.success && result.error) throw fromZodIssue(result.error, result.data);
}

/** The error body in the OpenAPI document. */
export const ErrorBody = z
  .object({
    status: z.literal("error"),
    ErrorCode: z
      .number()
      .int()
      .openapi({ description: errorTable.map((row) => `${row.code}: ${row.summary}`).join("\n") }),
    ErrorMessage: z.string(),
    field: z.string().optional().openapi({ description: "The attribute at fault, under the name the client used." }),
    requestId: z.string().optional(),
  })
  .openapi("Error");

/** An HTTP status an error answers with. */
export type ErrorStatus = ClientErrorStatusCode | ServerErrorStatusCode;

/** The documented error answers of an operation, one entry per HTTP status. */
export function errorResponses<const S extends readonly ErrorStatus[]>(statuses: S) {
  const response = { description: "An error, in the one error shape", content: { "application/json": { schema: ErrorBody } } };
  return Object.fromEntries(statuses.map((s) => [s, response])) as Record<S[number], typeof response>;
}
