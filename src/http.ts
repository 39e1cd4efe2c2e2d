import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError, ErrorCode } from "./errors";

/** The Hono environment every route shares. */
export interface AppEnv {
  Bindings: Env;
  Variables: { requestId: string };
}

/** OC-TOMA bodies are small; anything bigger is refused before it is read (9003, 413). */
export const MAX_BODY_BYTES = 32 * 1024;
/** Admin bodies may carry a standard-permit import of up to 5,000 rows. */
export const MAX_ADMIN_BODY_BYTES = 2 * 1024 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads a JSON object body: the wrong Content-Type (415), text that is not
 * JSON, or JSON that is not an object, are all 9003.
 */
export async function readJsonObject(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new AppError(ErrorCode.Unparseable, `Content-Type must be application/json, not ${type ? `"${type}"` : "missing"}.`, {
      status: 415,
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new AppError(ErrorCode.Unparseable, "The body is not valid JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError(ErrorCode.Unparseable, "The body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

/** A `bodyLimit` of `maxSize` bytes whose 413 is in the one error shape. */
export function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError(ErrorCode.Unparseable, `The body is larger than ${maxSize} bytes.`, { status: 413 });
    },
  });
}
