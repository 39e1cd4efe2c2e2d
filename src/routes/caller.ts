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
 * The token of an API whose token travels in a header, not the body:
 * `Authorization: Bearer <token>` or `X-Api-Key: <token>` (what aggregators
 * such as ParkOnce send). Missing: 9001; malformed, unknown or revoked: 9002
 * (401); without `scope`: 9002 (403). Errors name the header the client used.
 */
export async function headerCaller<E extends AppEnv>(c: Context<E>, scope: Scope): Promise<Caller> {
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? c.req.header("x-api-key");
  const from: TokenSource = bearer ? "Authorization" : "X-Api-Key";
  if (!token)
    throw new AppError(ErrorCode.TokenMissing, "Send the API token as Authorization: Bearer <token> or X-Api-Key.", {
      field: "Authorization",
    });
  if (!isWellFormedToken(token)) throw new AppError(ErrorCode.NoPermission, `The token in ${from} is not valid.`, { field: from });
  return authenticateRequest(c, token, scope, from);
}

/**
 * Route middleware: the caller, authenticated from the headers for `scope`
 * before anything else runs (the route's own validation comes after, so a
 * caller without a valid token learns nothing about the rules).
 */
export function requireCaller(scope: Scope): MiddlewareHandler<CallerEnv> {
  return async (c, next) => {
    c.set("caller", await headerCaller(c, scope));
    await next();
  };
}

/** Either header carries the token. (Typed: an inline literal of two shapes breaks a route's type inference.) */
const headerTokenSecurity: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

/**
 * Declares an operation of an API whose token travels in a header: its
 * caller authenticated for `scope` first, then its body (if any) checked
 * (size, UTF-8), then its own validation; and its error answers documented:
 * 401 and 403 for every operation, and those it lists.
 */
export function apiRoute<
  const R extends Omit<RouteConfig, "security" | "middleware"> & { operationId: string; scope: Scope; errors: readonly ErrorStatus[] },
>(config: R) {
  const { scope, errors, ...route } = config;
  return createRoute({
    ...route,
    security: headerTokenSecurity,
    middleware: [requireCaller(scope), acceptBody(MAX_BODY_BYTES)] as const,
    responses: { ...route.responses, ...errorResponses([401, 403, ...errors]) },
  });
}
