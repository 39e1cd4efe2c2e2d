import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { authenticate, authenticateAccessToken, type Caller, shouldTouch, type TokenSource } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { isAccessToken, touchClient } from "../db/oauth";
import { touchToken } from "../db/tokens";
import { isWellFormedToken } from "../domain/attributes";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode, type ErrorStatus, errorResponses } from "../errors";
import { type AppEnv, acceptBody, MAX_BODY_BYTES } from "../http";

/** The Hono environment of an API whose routes know their caller. */
export type CallerEnv = AppEnv & { Variables: { caller: Caller } };

/** The realm of the `WWW-Authenticate` challenges of the header-token API (RFC 6750 §3). */
export const REALM = "permits-edge";

/**
 * Records a caller's use: at most once a minute per credential and isolate,
 * on every surface, so "last used" means any call, not only a push. An
 * access token records its OAuth client's use.
 */
async function recordUse<E extends AppEnv>(c: Context<E>, caller: Caller) {
  const now = nowSeconds();
  if (!shouldTouch(caller.actor, now)) return;
  const id = caller.grant.tokenId;
  await (caller.kind === "oauth" ? touchClient(c.env.DB, id, now) : touchToken(c.env.DB, id, now)).run();
}

/**
 * Authenticates a request's API token for `scope` (see {@link authenticate})
 * and records the token's use.
 */
export async function authenticateRequest<E extends AppEnv>(
  c: Context<E>,
  token: string,
  scope: Scope,
  from: TokenSource,
): Promise<Caller> {
  const caller = await authenticate(c.env, token, scope, from);
  await recordUse(c, caller);
  return caller;
}

/** A quoted-string of a challenge parameter (RFC 9110 §11.2): no quotes or backslashes inside. */
const quoted = (text: string) => `"${text.replace(/["\\]/g, "'")}"`;

/**
 * The RFC 6750 §3 challenge of a refused header credential: no error code
 * when none was sent, `invalid_token` (401) for one that is malformed,
 * unknown, expired or revoked, `insufficient_scope` (403, with the scope
 * needed) for one without the scope.
 */
function challenge(error: AppError | null, scope: Scope): string {
  const realm = `Bearer realm=${quoted(REALM)}`;
  if (!error) return realm;
  if (error.status === 403) {
    return `${realm}, error="insufficient_scope", error_description=${quoted(error.message)}, scope=${quoted(scope)}`;
  }
  return `${realm}, error="invalid_token", error_description=${quoted(error.message)}`;
}

/**
 * The caller of an API whose credential travels in a header, not the body:
 * `Authorization: Bearer <API token or OAuth access token>` or
 * `X-Api-Key: <API token>` (what aggregators such as ParkOnce send). Missing:
 * 9001; malformed, unknown, expired or revoked: 9002 (401); without `scope`:
 * 9002 (403). Errors name the header the client used and carry RFC 6750's
 * `WWW-Authenticate: Bearer` challenge.
 */
export async function headerCaller<E extends AppEnv>(c: Context<E>, scope: Scope): Promise<Caller> {
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? c.req.header("x-api-key");
  const from: TokenSource = bearer ? "Authorization" : "X-Api-Key";
  if (!token) {
    throw new AppError(ErrorCode.TokenMissing, "Send the API token as Authorization: Bearer <token> or X-Api-Key.", {
      field: "Authorization",
      headers: { "WWW-Authenticate": challenge(null, scope) },
    });
  }
  try {
    if (!isWellFormedToken(token)) throw new AppError(ErrorCode.NoPermission, `The token in ${from} is not valid.`, { field: from });
    // Access tokens travel as bearers only (RFC 6750); X-Api-Key carries API tokens.
    if (bearer && isAccessToken(token)) {
      const caller = await authenticateAccessToken(c.env, token, scope, from);
      await recordUse(c, caller);
      return caller;
    }
    return await authenticateRequest(c, token, scope, from);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    throw new AppError(error.code, error.message, {
      field: error.field,
      status: error.status,
      headers: { "WWW-Authenticate": challenge(error, scope) },
    });
  }
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

/**
 * Declares an operation of an API whose token travels in a header: its
 * caller authenticated for `scope` first, then its body (if any) checked
 * (size, UTF-8), then its own validation; and its error answers documented:
 * 401 and 403 for every operation, and those it lists. Either header
 * carries an API token; `Authorization: Bearer` also an OAuth access token
 * holding `scope`.
 */
export function apiRoute<
  const R extends Omit<RouteConfig, "security" | "middleware"> & { operationId: string; scope: Scope; errors: readonly ErrorStatus[] },
>(config: R) {
  const { scope, errors, ...route } = config;
  // Typed: an inline literal of several shapes breaks a route's type inference.
  const security: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }, { oauth2: [scope] }];
  return createRoute({
    ...route,
    security,
    middleware: [requireCaller(scope), acceptBody(MAX_BODY_BYTES)] as const,
    responses: { ...route.responses, ...errorResponses([401, 403, ...errors]) },
  });
}
