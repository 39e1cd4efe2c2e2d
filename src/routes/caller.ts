import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { authenticate, authenticateAccessToken, type Caller, shouldTouch, type TokenSource } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { isAccessToken, touchClient } from "../db/oauth";
import { touchToken } from "../db/tokens";
import { isWellFormedToken } from "../domain/attributes";
import { RATE_LIMITS, type Traffic } from "../domain/rate-limits";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode, type ErrorStatus, errorResponses } from "../errors";
import { type AppEnv, acceptBody, MAX_BODY_BYTES } from "../http";
import { type Deprecation, deprecationOf } from "./deprecation";
import type { Operation, OperationResponse } from "./operation";
import { countCall, rateLimitPolicy } from "./rate-limit";

/** The Hono environment of an API whose routes know their caller. */
export type CallerEnv = AppEnv & { Variables: { caller: Caller } };

/** The realm of the `WWW-Authenticate` challenges of the header-token API (RFC 6750 §3). */
export const REALM = "permits-edge";

/**
 * App middleware: records the use of the credential a request authenticated
 * with, once the request has succeeded (a refused or failed call writes
 * nothing), after the answer, in the background: at most once a minute per
 * credential and isolate, on every surface, so "last used" means any call
 * that worked, not only a push. An access token records its OAuth client's
 * use.
 */
export function recordCredentialUse(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const caller = c.get("credential");
    if (!caller || c.res.status >= 400) return;
    const now = nowSeconds();
    if (!shouldTouch(caller.actor, now)) return;
    const id = caller.grant.tokenId;
    const touch = caller.kind === "oauth" ? touchClient(c.env.DB, id, now) : touchToken(c.env.DB, id, now);
    c.executionCtx.waitUntil(
      touch.run().then(
        () => undefined,
        (error: unknown) => console.error(JSON.stringify({ message: "recording a credential's use failed", error: String(error) })),
      ),
    );
  };
}

/**
 * What a call costs its credential's rate limit: `writes` or `reads` (see
 * `RATE_LIMITS`), or `unlimited` for the admin API, whose callers are the
 * operator's own staff and scripts (the ADMIN_TOKEN secret, a site's
 * admin-scope tokens), not devices that multiply with a fleet.
 */
export type Charge = Traffic | "unlimited";

/**
 * Admits an authenticated caller, the one step every surface takes once its
 * credential is checked (OC-TOMA, validate/plate, the header-token API, the
 * Pay-by-Plate feed, the admin API): the caller becomes the request's
 * credential (its use recorded if the request succeeds,
 * {@link recordCredentialUse}) and the call is counted against its rate
 * limit for `charge` (9998, 429 past it; see routes/rate-limit.ts): a write
 * waits for the count before anything else runs (a refused write writes
 * nothing); a read is counted while it runs, its answer replaced by the 429
 * if refused (so what a refused caller learns is the same). Only an
 * authenticated caller gets here: a flood of missing or wrong credentials
 * never spends a credential's budget, and a limited caller learns of its
 * limit only once it has proved who it is.
 */
export async function admitCaller<E extends AppEnv>(context: Context<E>, caller: Caller, charge: Charge): Promise<Caller> {
  const c = context as unknown as Context<AppEnv>;
  c.set("credential", caller);
  if (charge === "writes") await countCall(context, caller, charge);
  // A read writes nothing: its count runs beside the read, and `sendRateLimit` answers 429 in its place if refused.
  if (charge === "reads") {
    const pending = countCall(context, caller, charge);
    pending.catch(() => undefined);
    c.set("rateLimitPending", pending);
  }
  return caller;
}

/**
 * Authenticates a request's API token for `scope` (see {@link authenticate})
 * and admits it ({@link admitCaller}), charging the call as `charge`.
 */
export async function authenticateRequest<E extends AppEnv>(
  context: Context<E>,
  token: string,
  scope: Scope,
  from: TokenSource,
  charge: Charge,
): Promise<Caller> {
  return admitCaller(context, await authenticate(context.env, token, scope, from), charge);
}

/** A quoted-string of a challenge parameter (RFC 9110 §11.2): no quotes or backslashes inside. */
const quoted = (text: string) => `"${text.replace(/["\\]/g, "'")}"`;

/**
 * The RFC 6750 §3 challenge of a refused header credential: no error code
 * when none was sent, `invalid_token` (401) for one that is malformed,
 * unknown, expired or revoked, `insufficient_scope` (403, with the scope
 * needed) for one without the scope.
 */
function challenge(error: AppError | null, scope: Scope | null): string {
  const realm = `Bearer realm=${quoted(REALM)}`;
  if (!error) return realm;
  if (error.status === 403) {
    const needed = scope === null ? "" : `, scope=${quoted(scope)}`;
    return `${realm}, error="insufficient_scope", error_description=${quoted(error.message)}${needed}`;
  }
  return `${realm}, error="invalid_token", error_description=${quoted(error.message)}`;
}

/**
 * The header forms a credential travels in:
 * - `standard`: `Authorization: Bearer <API token or OAuth access token>` or
 *   `X-Api-Key: <API token>` (what aggregators such as ParkOnce send);
 * - `X-ApiKey`: Genetec Pay-by-Plate's `X-ApiKey: <API token>`, alone.
 */
export type HeaderForm = "standard" | "X-ApiKey";

/** Each form's OpenAPI security requirements for `scope` (typed: an inline literal of several shapes breaks a route's type inference). */
function headerSecurity(form: HeaderForm, scope: Scope | null): Record<string, string[]>[] {
  return form === "X-ApiKey" ? [{ pbpApiKey: [] }] : [{ bearer: [] }, { apiKey: [] }, { oauth2: scope === null ? [] : [scope] }];
}

/**
 * The OpenAPI entry of an operation whose API token travels in the request body as `field` (OPS-COM's way), not
 * in a header. OpenAPI has no security scheme for a body credential, so the operation declares no requirement
 * (`security: []`: the docs page's Authorize dialog does not apply), names the field and the scope in
 * `x-body-token` (the docs page marks the operation with it), and says so first in its description.
 */
export function bodyTokenOperation(field: string, scope: Scope, description: string) {
  return {
    security: [] as Record<string, string[]>[],
    "x-body-token": { field, scope },
    description: `**Credential:** an API token with the \`${scope}\` scope, in the request body as \`${field}\` (not in a header).\n\n${description}`,
  };
}

/** Where the token is in a request of `form`, and the header it came in; nothing when no such header was sent. */
function tokenOf(c: Context, form: HeaderForm): { token: string | undefined; from: TokenSource } {
  if (form === "X-ApiKey") return { token: c.req.header("x-apikey"), from: "X-ApiKey" };
  const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  return bearer ? { token: bearer, from: "Authorization" } : { token: c.req.header("x-api-key"), from: "X-Api-Key" };
}

/**
 * The caller of an API whose credential travels in a header of `form`, not
 * the body, admitted and charged as `charge` ({@link admitCaller}).
 * Missing: 9001; malformed, unknown, expired or revoked: 9002 (401); without
 * `scope` (`null`: any credential of a site will do): 9002 (403). Errors
 * name the header the client used (or should have used); the standard
 * form's carry RFC 6750's `WWW-Authenticate: Bearer` challenge. Past its
 * rate limit: 9998 (429), without a challenge (the credential is fine).
 */
export async function headerCaller<E extends AppEnv>(
  c: Context<E>,
  scope: Scope | null,
  charge: Charge,
  form: HeaderForm = "standard",
): Promise<Caller> {
  const { token, from } = tokenOf(c, form);
  const withChallenge = (error: AppError | null) => (form === "standard" ? { "WWW-Authenticate": challenge(error, scope) } : undefined);
  if (!token) {
    const message =
      form === "X-ApiKey"
        ? "Send the API token in the X-ApiKey header."
        : "Send the API token as Authorization: Bearer <token> or X-Api-Key.";
    throw new AppError(ErrorCode.TokenMissing, message, {
      field: form === "X-ApiKey" ? "X-ApiKey" : "Authorization",
      headers: withChallenge(null),
    });
  }
  let caller: Caller;
  try {
    if (!isWellFormedToken(token)) throw new AppError(ErrorCode.NoPermission, `The token in ${from} is not valid.`, { field: from });
    // Access tokens travel as bearers only (RFC 6750); X-Api-Key and X-ApiKey carry API tokens.
    caller =
      from === "Authorization" && isAccessToken(token)
        ? await authenticateAccessToken(c.env, token, scope, from)
        : await authenticate(c.env, token, scope, from);
  } catch (error) {
    if (!(error instanceof AppError) || form !== "standard") throw error;
    throw new AppError(error.code, error.message, { field: error.field, status: error.status, headers: withChallenge(error) });
  }
  return admitCaller(c, caller, charge);
}

/**
 * Route middleware: the caller, authenticated from the headers of `form` for
 * `scope` and charged as `charge` before anything else runs (the route's own
 * validation comes after, so a caller without a valid token learns nothing
 * about the rules).
 */
export function requireCaller(scope: Scope | null, charge: Charge, form: HeaderForm = "standard"): MiddlewareHandler<CallerEnv> {
  return async (c, next) => {
    c.set("caller", await headerCaller(c, scope, charge, form));
    await next();
  };
}

/** The RateLimit header fields every counted answer carries (routes/rate-limit.ts), for the OpenAPI document. */
const RATE_LIMIT_HEADERS = {
  "RateLimit-Policy": {
    description: `The credential's quotas, writes and reads a minute (draft-ietf-httpapi-ratelimit-headers): \`${rateLimitPolicy("standard")}\`.`,
    schema: { type: "string" as const },
  },
  RateLimit: {
    description: `What this call counted against, what is left and seconds until more: \`"reads";r=${RATE_LIMITS.standard.reads - 1};t=42\`. Per Cloudflare location and approximate.`,
    schema: { type: "string" as const },
  },
};

/**
 * Declares an operation of an API whose credential travels in a header
 * (`credential`, the standard form unless told): its caller authenticated
 * for `scope` (`null`: any credential of a site) and charged as `traffic`
 * against its rate limit first, then its body (if any) checked (size,
 * UTF-8), then its own validation; and its error answers documented: 401,
 * 403 and 429 for every operation, and those it lists. In the standard form
 * either header carries an API token, `Authorization: Bearer` also an OAuth
 * access token holding `scope`. `deprecated` marks it so (headers and
 * document, routes/deprecation.ts).
 */
export function apiRoute<
  const R extends Omit<RouteConfig, "security" | "middleware" | "deprecated"> & HeaderCredential & { operationId: string },
>(config: R) {
  const { scope: _scope, traffic: _traffic, errors: _errors, credential: _credential, deprecated: _deprecated, ...route } = config;
  const declared = headerDeclaration(config, route.responses);
  return createRoute({
    ...route,
    ...declared.openapi,
    security: declared.security,
    middleware: declared.middleware,
    responses: declared.responses,
  });
}

/** How an operation whose credential travels in a header takes it: the scope, the traffic it counts as, its form, its errors beyond 401, 403 and 429, its deprecation. */
interface HeaderCredential {
  scope: Scope | null;
  traffic: Traffic;
  credential?: HeaderForm;
  errors: readonly ErrorStatus[];
  deprecated?: Deprecation;
}

/**
 * What an operation whose credential travels in a header adds to its declaration ({@link apiRoute},
 * {@link apiOperation}): its deprecation, its security requirements, its middleware (the caller, then the body
 * gate), and its answers: `responses` with the rate-limit headers on its successes, then 401, 403, 429 and `errors`.
 */
function headerDeclaration<Responses extends Record<string | number, unknown>>(
  config: HeaderCredential & { description?: string },
  responses: Responses,
) {
  const { scope, traffic, errors, credential = "standard", deprecated, description } = config;
  const deprecation = deprecationOf(deprecated, description);
  const counted = Object.fromEntries(
    Object.entries(responses).map(([status, response]) => [
      status,
      status.startsWith("2") && typeof response === "object" && response !== null && !("$ref" in response)
        ? { ...response, headers: { ...(response as { headers?: object }).headers, ...RATE_LIMIT_HEADERS } }
        : response,
    ]),
  ) as Responses;
  const tooMany = errorResponses([429])[429];
  return {
    openapi: deprecation.openapi,
    security: headerSecurity(credential, scope),
    middleware: [
      ...deprecation.middleware,
      requireCaller(scope, traffic, credential),
      acceptBody(MAX_BODY_BYTES),
    ] as MiddlewareHandler<CallerEnv>[],
    responses: {
      ...counted,
      ...errorResponses([401, 403, ...errors]),
      429: {
        ...tooMany,
        headers: {
          "Retry-After": { description: "Seconds to wait: the limit's whole window.", schema: { type: "integer" as const } },
          ...RATE_LIMIT_HEADERS,
        },
      },
    },
  };
}

/**
 * Declares an operation of a public surface (src/routes/operation.ts) whose credential travels in a header, as
 * {@link apiRoute} does for the surfaces still declared with `@hono/zod-openapi`: the caller authenticated for `scope`
 * and charged as `traffic` first, then the body gate, then the operation's own validation; 401, 403, 429 and `errors`
 * documented, the rate-limit headers on its successes, `deprecated` applied.
 */
export function apiOperation<const O extends Omit<Operation, "security" | "deprecated"> & HeaderCredential>(config: O) {
  const { scope: _scope, traffic: _traffic, errors: _errors, credential: _credential, deprecated: _deprecated, ...operation } = config;
  const declared = headerDeclaration(config, operation.responses);
  return {
    ...operation,
    ...declared.openapi,
    security: declared.security,
    middleware: declared.middleware,
    responses: declared.responses as Record<string, OperationResponse>,
  } as Omit<O, "scope" | "traffic" | "credential" | "errors" | "deprecated"> &
    Pick<Operation, "security" | "deprecated" | "responses"> & { middleware: readonly MiddlewareHandler[] };
}
