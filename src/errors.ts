import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * OPS-COM's API error codes (their "API Error Codes" page). Every error this
 * Worker answers carries one, on every surface, so clients handle one shape.
 */
export const ErrorCode = {
  ClientMissing: 9000,
  TokenMissing: 9001,
  NoPermission: 9002,
  Unparseable: 9003,
  EndRequired: 9004,
  EndInvalid: 9005,
  PlateRequired: 9006,
  StartInvalid: 9007,
  ReferenceRequired: 9008,
  NotFound: 9009,
  AlreadyExists: 9022,
  TooLong: 9030,
  Required: 9031,
  TooShort: 9032,
  Invalid: 9033,
  /** Not an OPS-COM code: our own, for the unexpected. The request can be retried. */
  Internal: 9999,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status a code answers with unless the thrower says otherwise. */
const defaultStatus: Record<ErrorCode, ContentfulStatusCode> = {
  9000: 400,
  9001: 401,
  9002: 401,
  9003: 400,
  9004: 400,
  9005: 400,
  9006: 400,
  9007: 400,
  9008: 400,
  9009: 404,
  9022: 409,
  9030: 400,
  9031: 400,
  9032: 400,
  9033: 400,
  9999: 500,
};

/** One line per code, for the README's table and the OpenAPI document. */
export const errorCatalogue: Record<ErrorCode, string> = {
  9000: "Client (site) is missing.",
  9001: "API token is missing from the request.",
  9002: "API token is unknown, revoked, or lacks the scope for this call.",
  9003: "The request could not be parsed: not JSON, not an object, wrong Content-Type, or too large.",
  9004: "End time is required.",
  9005: "End time is invalid or not after the start time.",
  9006: "Plate is required.",
  9007: "Start time is invalid.",
  9008: "Reference ID is required.",
  9009: "Record not found.",
  9022: "Record already exists (or an Idempotency-Key was reused for a different request).",
  9030: "Maximum characters exceeded.",
  9031: "Field is required.",
  9032: "Below minimum characters.",
  9033: "Value is invalid (including two aliases of one attribute with different values).",
  9999: "Internal error (permits-edge's own code, not OPS-COM's); retrying is safe.",
};

/** The one error type: a code, a message naming the rule, and the field at fault. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string; status?: ContentfulStatusCode } = {}) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.field = options.field;
    this.status = options.status ?? defaultStatus[code];
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
