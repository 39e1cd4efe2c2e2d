import type { z } from "@hono/zod-openapi";
import { AppError, ErrorCode } from "./errors";

/** Turns the first zod issue of a request into our error, naming the field and the rule in words. */
function validationError(error: z.ZodError, input: unknown): AppError {
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
  if (!result.success && result.error) throw validationError(result.error, result.data);
}
