import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CLIENT_SCOPES, type Scope } from "../auth/scopes";
import { sha256Hex } from "../auth/secrets";
import { cacheKeys, invalidate } from "../cache";
import { ACCESS_TOKEN_SECONDS, type ClientRow, issueAccessToken, revokeAccessToken, verifyClient } from "../db/oauth";
import { nowSeconds } from "../domain/time";
import { AppError } from "../errors";
import { type AppEnv, acceptBody, MAX_BODY_BYTES } from "../http";
import { REALM } from "./caller";

/**
 * OAuth 2.0 for aggregators, mounted at /oauth: the client credentials
 * grant (RFC 6749 §4.4) at /oauth/token and token revocation (RFC 7009) at
 * /oauth/revoke. Their errors are RFC 6749 §5.2's `{error,
 * error_description}`, not the project's error shape: that is what OAuth
 * client libraries parse. The tokens they issue are used as `Authorization:
 * Bearer` on the header-token API (see {@link import("./caller").headerCaller}).
 */
export const oauth = new OpenAPIHono<AppEnv>();

type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "unauthorized_client"
  | "server_error";

/** An RFC 6749 §5.2 error answer. */
class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    message: string,
    readonly status: ContentfulStatusCode = 400,
  ) {
    super(message);
  }
}

/** RFC 6749 §5.1: token answers, and their errors, are never cached. */
function noStore(c: Context) {
  c.header("Cache-Control", "no-store");
  c.header("Pragma", "no-cache");
}

// Every body is checked for size and UTF-8 (as on every surface), then read here.
oauth.use(acceptBody(MAX_BODY_BYTES));

oauth.onError((err, c) => {
  noStore(c);
  let error: OAuthError;
  if (err instanceof OAuthError) error = err;
  else if (err instanceof AppError || (err instanceof HTTPException && err.status < 500)) {
    // The body gate's refusals (too large, not UTF-8) in the RFC's shape.
    error = new OAuthError("invalid_request", err.message, err.status === 413 ? 413 : 400);
  } else {
    console.error(JSON.stringify({ requestId: c.get("requestId"), error: err.stack ?? err.message }));
    error = new OAuthError("server_error", "Internal error; it is safe to retry.", 500);
  }
  if (error.error === "invalid_client") c.header("WWW-Authenticate", `Basic realm="${REALM}"`);
  return c.json({ error: error.error, error_description: error.message }, error.status);
});

const FORM = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The request's parameters: a form body (RFC 6749's encoding) or a JSON
 * object of strings (what ParkOnce and Passport send). A parameter sent
 * twice, a value that is not a string, or another Content-Type is
 * `invalid_request` (RFC 6749 §3.2). JSON `null` counts as absent.
 */
async function readParams(c: Context<AppEnv>): Promise<Map<string, string>> {
  const type = c.req.header("content-type") ?? "";
  // Decoded here, not with text(): the body gate already proved it UTF-8, and workerd warns on text() of a form.
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  const params = new Map<string, string>();
  if (FORM.test(type)) {
    for (const [name, value] of new URLSearchParams(text)) {
      if (params.has(name)) throw new OAuthError("invalid_request", `${name} is sent more than once.`);
      params.set(name, value);
    }
    return params;
  }
  if (JSON_TYPE.test(type)) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OAuthError("invalid_request", "The body is not valid JSON.");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new OAuthError("invalid_request", "The body must be a JSON object.");
    }
    for (const [name, value] of Object.entries(body)) {
      if (value === null || value === undefined) continue;
      if (typeof value !== "string") throw new OAuthError("invalid_request", `${name} must be a string.`);
      params.set(name, value);
    }
    return params;
  }
  throw new OAuthError(
    "invalid_request",
    `Content-Type must be application/x-www-form-urlencoded or application/json, not ${type ? `"${type}"` : "missing"}.`,
  );
}

/** Decodes one half of Basic credentials: RFC 6749 §2.3.1 form-urlencodes the id and the secret before joining them. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

/**
 * Authenticates the client: HTTP Basic (RFC 6749 §2.3.1, which servers must
 * support) or `client_id` and `client_secret` in the body, never both. Any
 * failure (none sent, malformed, unknown, wrong secret, revoked) is
 * `invalid_client`, 401 with `WWW-Authenticate: Basic`.
 */
async function authenticateClient(c: Context<AppEnv>, params: Map<string, string>): Promise<ClientRow> {
  const header = c.req.header("authorization");
  let id: string | undefined;
  let secret: string | undefined;
  if (header !== undefined) {
    const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
    if (!encoded)
      throw new OAuthError("invalid_client", "The Authorization header must be Basic <base64 of client_id:client_secret>.", 401);
    if (params.has("client_secret"))
      throw new OAuthError("invalid_request", "Authenticate with Basic or with client_secret in the body, not both.");
    try {
      const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
        Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0)),
      );
      const colon = text.indexOf(":");
      if (colon < 0) throw new Error("no colon");
      id = formDecode(text.slice(0, colon));
      secret = formDecode(text.slice(colon + 1));
    } catch {
      throw new OAuthError("invalid_client", "The Basic credentials are not base64 of client_id:client_secret.", 401);
    }
    const bodyId = params.get("client_id");
    if (bodyId !== undefined && bodyId !== id)
      throw new OAuthError("invalid_request", "client_id in the body is not the client of the Basic credentials.");
  } else {
    id = params.get("client_id");
    secret = params.get("client_secret");
    if (id === undefined || secret === undefined) {
      throw new OAuthError("invalid_client", "Authenticate the client: HTTP Basic, or client_id and client_secret in the body.", 401);
    }
  }
  const client = id.length <= 100 && secret.length <= 200 ? await verifyClient(c.env.DB, id, secret) : null;
  if (!client) throw new OAuthError("invalid_client", "The client is unknown, revoked, or its secret is wrong.", 401);
  return client;
}

/** The scopes asked for (space-separated, RFC 6749 §3.3), each one the client holds; all of the client's when none are asked. */
function grantedScopes(client: ClientRow, requested: string | undefined): Scope[] {
  const held = client.scopes.split(",") as Scope[];
  const asked = [...new Set((requested ?? "").split(" ").filter((s) => s !== ""))];
  if (asked.length === 0) return held;
  const unknown = asked.find((s) => !held.includes(s as Scope));
  if (unknown !== undefined) {
    throw new OAuthError("invalid_scope", `The client does not hold the scope ${unknown}; it holds ${held.join(" ")}.`);
  }
  return asked as Scope[];
}

const OAuthErrorBody = z
  .object({
    error: z.enum(["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope", "unauthorized_client", "server_error"]),
    error_description: z.string(),
  })
  .openapi("OAuthError", { description: "RFC 6749 §5.2 (not the project's error shape: OAuth clients parse this one)." });

const TokenRequest = z
  .object({
    grant_type: z.literal("client_credentials"),
    scope: z
      .string()
      .optional()
      .openapi({ description: `Space-separated, a subset of the client's (${CLIENT_SCOPES.join(", ")}); all of them when absent.` }),
    client_id: z.string().optional().openapi({ description: "With client_secret, when the client does not use HTTP Basic." }),
    client_secret: z.string().optional(),
  })
  .openapi("TokenRequest");

const TokenResponse = z
  .object({
    access_token: z.string().openapi({ description: "Opaque; send it as Authorization: Bearer." }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ example: ACCESS_TOKEN_SECONDS }),
    scope: z.string().openapi({ example: "sessions lookup" }),
  })
  .openapi("TokenResponse");

const errors = (statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: s === 401 ? "invalid_client, with WWW-Authenticate: Basic" : "An RFC 6749 §5.2 error",
        content: { "application/json": { schema: OAuthErrorBody } },
      },
    ]),
  );
const formOrJson = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/x-www-form-urlencoded": { schema }, "application/json": { schema } },
});

oauth.openAPIRegistry.registerPath({
  method: "post",
  path: "/token",
  operationId: "issueAccessToken",
  tags: ["OAuth 2.0"],
  summary: "Client credentials grant: an access token for an OAuth client (RFC 6749 §4.4)",
  description: `The client authenticates with HTTP Basic or with client_id and client_secret in the body (form or JSON). The access token is opaque, valid ${ACCESS_TOKEN_SECONDS / 60} minutes, for the scopes asked (all the client's by default); no refresh token: ask again. Errors are RFC 6749 §5.2's; answers carry Cache-Control: no-store.`,
  security: [{}, { clientBasic: [] }],
  request: { body: formOrJson(TokenRequest) },
  responses: { 200: { description: "Issued", content: { "application/json": { schema: TokenResponse } } }, ...errors([400, 401, 413]) },
});

oauth.post("/token", async (c) => {
  noStore(c);
  const params = await readParams(c);
  const client = await authenticateClient(c, params);
  const grantType = params.get("grant_type");
  if (grantType === undefined || grantType === "") throw new OAuthError("invalid_request", "grant_type is required (client_credentials).");
  if (grantType !== "client_credentials") {
    throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported; this server issues client_credentials only.`);
  }
  const scopes = grantedScopes(client, params.get("scope"));
  const issued = await issueAccessToken(c.env.DB, client, scopes, nowSeconds());
  return c.json({ access_token: issued.token, token_type: "Bearer", expires_in: ACCESS_TOKEN_SECONDS, scope: scopes.join(" ") }, 200);
});

const RevokeRequest = z
  .object({
    token: z.string().openapi({ description: "An access token issued to this client." }),
    token_type_hint: z.string().optional().openapi({ description: "Ignored: only access tokens are issued." }),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  })
  .openapi("RevokeRequest");

oauth.openAPIRegistry.registerPath({
  method: "post",
  path: "/revoke",
  operationId: "revokeAccessToken",
  tags: ["OAuth 2.0"],
  summary: "Revoke an access token (RFC 7009)",
  description:
    "The client authenticates as at /oauth/token. 200 with an empty body once the token no longer works, also for a token that is unknown, expired or already revoked; a token issued to another client is refused (unauthorized_client). Within the cache's staleness bound everywhere (see the README).",
  security: [{}, { clientBasic: [] }],
  request: { body: formOrJson(RevokeRequest) },
  responses: { 200: { description: "Revoked (or nothing to revoke)" }, ...errors([400, 401, 413]) },
});

oauth.post("/revoke", async (c) => {
  noStore(c);
  const params = await readParams(c);
  const client = await authenticateClient(c, params);
  const token = params.get("token");
  if (token === undefined || token === "") throw new OAuthError("invalid_request", "token is required.");
  const tokenHash = await sha256Hex(token);
  const outcome = await revokeAccessToken(c.env.DB, tokenHash, client.id, nowSeconds());
  if (outcome === "other-client") throw new OAuthError("unauthorized_client", "That token was not issued to this client.");
  if (outcome === "revoked") await invalidate(c.env.CACHE, cacheKeys.accessToken(tokenHash));
  return c.body(null, 200);
});
