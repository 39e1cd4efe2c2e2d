import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Caller } from "./auth/authenticate";
import type { RateLimitState } from "./domain/rate-limits";
import { AppError, ErrorCode } from "./errors";

/** A request's D1 session (see routes/bookmark.ts) and the bookmark it started from. */
export interface RequestSession {
  session: D1DatabaseSession;
  since: string | null;
}

/** The Hono environment every route shares. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** The request's D1 session, once a handler asked for it (`d1Session` in routes/bookmark.ts). */
    d1?: RequestSession;
    /** The credential the request authenticated with, whose use is recorded once it has succeeded (`recordCredentialUse`). */
    credential?: Caller;
    /** What the rate limiter decided for this request's credential (`countCall`), which its answer's headers say. */
    rateLimit?: RateLimitState;
    /** A read's count still under way (`admitCaller`): settled, and a refusal answered, by `sendRateLimit`. */
    rateLimitPending?: Promise<void>;
  };
}

/** OC-TOMA bodies are small; anything bigger is refused before it is read (9003, 413). */
export const MAX_BODY_BYTES = 32 * 1024;
/** Admin bodies may carry a standard-permit import of up to 5,000 rows. */
export const MAX_ADMIN_BODY_BYTES = 2 * 1024 * 1024;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The optional `Idempotency-Key` request header, as the OpenAPI document describes it ({@link idempotencyKey} reads it). */
export const IdempotencyKeyHeader = z.object({
  "Idempotency-Key": z.string().max(255).optional().openapi({
    description:
      "Makes a retry safe: the same key with the same request replays the first answer for 24 hours (with `Idempotent-Replayed: true`); the same key with another request is refused (9022, 409). 1 to 255 visible ASCII characters, per site.",
    // No example: the docs page would send it with every try, and a second try with another body would be 9022.
    pattern: IDEMPOTENCY_KEY.source,
  }),
});

/**
 * The request's `Idempotency-Key` header, if any: 1 to 255 visible ASCII
 * characters, else 9033 naming the header.
 */
export function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new AppError(ErrorCode.Invalid, "Idempotency-Key must be 1 to 255 visible ASCII characters.", { field: "Idempotency-Key" });
  }
  return key;
}

/** 9022 (409) for an `Idempotency-Key` already used with another request. */
export function idempotencyConflict(): AppError {
  return new AppError(ErrorCode.AlreadyExists, "Idempotency-Key was already used with a different request.", { field: "Idempotency-Key" });
}

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

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;

/**
 * Every surface's body gate: at most `maxSize` bytes (9003, 413, refused
 * before it is read when Content-Length says so), and valid UTF-8 (9003,
 * 400): JSON is UTF-8 (RFC 8259 §8.1), and a body decoded with replacement
 * characters would store what the client never sent. A form body's
 * percent-escapes must decode to UTF-8 too. Later reads of the body use
 * Hono's cached copy.
 */
export function acceptBody(maxSize: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError(ErrorCode.Unparseable, `The body is larger than ${maxSize} bytes.`, { status: 413 });
    },
  });
  return (c, next) =>
    limit(c, async () => {
      if (c.req.raw.body) {
        try {
          const text = strictUtf8.decode(await c.req.arrayBuffer());
          if (FORM_TYPE.test(c.req.header("content-type") ?? "")) decodeURIComponent(text.replace(/\+/g, " "));
        } catch (error) {
          if (error instanceof AppError) throw error;
          throw new AppError(ErrorCode.Unparseable, "The body is not valid UTF-8.");
        }
      }
      await next();
    });
}

/**
 * The media type to answer in, of those `offered` (the first is the
 * default): the one the `Accept` header (RFC 9110 §12.5.1) gives the
 * highest weight, a more specific range deciding for a type over a wider
 * one (`text/csv;q=0` refuses CSV even under `*\/*`), a tie going to the
 * earlier offer. No header, or an empty one, takes the default. 9033 (406,
 * field `Accept`) when no offer is acceptable.
 */
export function negotiate<const T extends string>(accept: string | undefined, offered: readonly [T, ...T[]]): T {
  if (accept === undefined || accept.trim() === "") return offered[0];
  const ranges = accept.split(",").flatMap((part) => {
    const [range = "", ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    if (!/^[\w.+-]+\/[\w.+*-]+$|^\*\/\*$/.test(range)) return [];
    const q = params.find((p) => p.startsWith("q="));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    return Number.isFinite(weight) ? [{ range, weight: Math.min(Math.max(weight, 0), 1) }] : [];
  });
  let best: { type: T; weight: number } | undefined;
  for (const type of offered) {
    const [major] = type.split("/");
    // The most specific range that matches decides the type's weight.
    const match =
      ranges.find((r) => r.range === type) ?? ranges.find((r) => r.range === `${major}/*`) ?? ranges.find((r) => r.range === "*/*");
    if (match && match.weight > 0 && (!best || match.weight > best.weight)) best = { type, weight: match.weight };
  }
  if (!best) {
    throw new AppError(ErrorCode.Invalid, `Accept must allow ${offered.join(" or ")}.`, { field: "Accept", status: 406 });
  }
  return best.type;
}

/**
 * A page cursor of a keyset: the last row's sort key (epoch seconds) and id,
 * as `base64("<key>.<id>")`. `decode` answers 9033 naming `cursor` for
 * anything that is not one of `idPattern`'s (what `name` calls the next
 * page's cursor in the answer).
 */
export function keysetCursor(idPattern: string, name: string) {
  const format = new RegExp(`^(\\d{1,12})\\.(${idPattern})$`);
  return {
    encode: (key: number, id: string) => btoa(`${key}.${id}`).replace(/=+$/, ""),
    decode(cursor: string): { key: number; id: string } {
      let text = "";
      try {
        text = atob(cursor);
      } catch {
        // falls through to the error below
      }
      const m = format.exec(text);
      if (!m) throw new AppError(ErrorCode.Invalid, `cursor must be the ${name} of a previous page.`, { field: "cursor" });
      return { key: Number(m[1]), id: m[2] as string };
    },
  };
}
