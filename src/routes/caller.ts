import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { authenticate, type Caller, shouldTouch, type TokenSource } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { touchToken } from "../db/tokens";
import { isWellFormedToken } from "../domain/attributes";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode, type ErrorStatus, errorResponses } from "../errors";
import { type AppEnv, acceptBody, MAX_BODY_BYTES } from "../http";

/** The Hono environment of an API whose routes know their caller. */
export type CallerEnv = AppEnv & { Variables: { caller: Caller } };

/**
 * Authenticates a request's token for `scope` (see {@link authenticate}) and
 * records the token's use: at most once a minute per token and isolate, on
 * every surface, so "last used" means any call, not only a push.
 */
export async function authenticateRequest<E extends AppEnv>(
  c: Context<E>,
  token: string,
  scope: Scope,
  from: TokenSource,
): Promise<Caller> {
  const caller = await authenticate(c.env, token, scope, from);
  const now = nowSeconds();
  if (shouldTouch(caller.grant.tokenId, now)) await touchToken(c.env.DB, caller.grant.tokenId, now).run();
  return caller;
}

/**
 * The header forms a token travels in:
 * - `standard`: `Authorization: Bearer <token>` or `X-Api-Key: <token>` (what
 *   aggregators such as ParkOnce send);
 * - `X-ApiKey`: Genetec Pay-by-Plate's `X-ApiKey: <token>`, alone.
 */
export type HeaderForm = "standard" | "X-ApiKey";

/** Each form's OpenAPI security requirement (typed: an inline literal of two shapes breaks a route's type inference). */
const HEADER_SECURITY: Record<HeaderForm, Record<string, string[]>[]> = {
  standard: [{ bearer: [] }, { apiKey: [] }],
  "X-ApiKey": [{ pbpApiKey: [] }],
};

/** Where the token is in a request of `form`, and the header it came in; nothing when no such header was sent. */
function tokenOf(c: Context, form: HeaderForm): { token: string | undefined; from: TokenSource } {
  if (form === "X-ApiKey") return { token: c.req.header("x-apikey"), from: "X-ApiKey" };
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ? { token: bearer, from: "Authorization" } : { token: c.req.header("x-api-key"), from: "X-Api-Key" };
}

/**
 * The token of an API whose token travels in a header, not the body, in
 * `form`. Missing: 9001; malformed, unknown or revoked: 9002 (401); without
 * `scope`: 9002 (403). Errors name the header the client used (or should
 * have used).
 */
export async function headerCaller<E extends AppEnv>(c: Context<E>, scope: Scope, form: HeaderForm = "standard"): Promise<Caller> {
  const { token, from } = tokenOf(c, form);
  if (!token) {
    const message =
      form === "X-ApiKey"
        ? "Send the API token in the X-ApiKey header."
        : "Send the API token as Authorization: Bearer <token> or X-Api-Key.";
    throw new AppError(ErrorCode.TokenMissing, message, { field: form === "X-ApiKey" ? "X-ApiKey" : "Authorization" });
  }
  if (!isWellFormedToken(token)) throw new AppError(ErrorCode.NoPermission, `The token in ${from} is not valid.`, { field: from });
  return authenticateRequest(c, token, scope, from);
}

/**
 * Route middleware: the caller, authenticated from the headers of `form` for
 * `scope` before anything else runs (the route's own validation comes after,
 * so a caller without a valid token learns nothing about the rules).
 */
export function requireCaller(scope: Scope, form: HeaderForm = "standard"): MiddlewareHandler<CallerEnv> {
  return async (c, next) => {
    c.set("caller", await headerCaller(c, scope, form));
    await next();
  };
}

/**
 * Declares an operation of an API whose token travels in a header (`credential`,
 * the standard form unless told): its caller authenticated for `scope` first,
 * then its body (if any) checked (size, UTF-8), then its own validation; and
 * its error answers documented: 401 and 403 for every operation, and those it
 * lists.
 */
export function apiRoute<
  const R extends Omit<RouteConfig, "security" | "middleware"> & {
    operationId: string;
    scope: Scope;
    credential?: HeaderForm;
    errors: readonly ErrorStatus[];
  },
>(config: R) {
  const { scope, errors, credential = "standard", ...route } = config;
  return createRoute({
    ...route,
    security: HEADER_SECURITY[credential],
    middleware: [requireCaller(scope, credential), acceptBody(MAX_BODY_BYTES)] as const,
    responses: { ...route.responses, ...errorResponses([401, 403, ...errors]) },
  });
}
