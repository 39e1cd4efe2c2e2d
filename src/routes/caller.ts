import type { Context } from "hono";
import { authenticate, type Caller } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { isWellFormedToken } from "../domain/attributes";
import { AppError, ErrorCode } from "../errors";
import type { AppEnv } from "../http";

/**
 * The caller of an API whose token travels in a header, not the body:
 * `Authorization: Bearer <token>` or `X-Api-Key: <token>` (what aggregators
 * such as ParkOnce send). Missing: 9001; malformed, unknown or revoked: 9002
 * (401); without `scope`: 9002 (403).
 */
export async function headerCaller(c: Context<AppEnv>, scope: Scope): Promise<Caller> {
  const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? c.req.header("x-api-key");
  if (!token)
    throw new AppError(ErrorCode.TokenMissing, "Send the API token as Authorization: Bearer <token> or X-Api-Key.", {
      field: "Authorization",
    });
  if (!isWellFormedToken(token)) {
    throw new AppError(ErrorCode.NoPermission, "The API token is not valid.", { field: "Authorization" });
  }
  return authenticate(c.env, token, scope);
}

/** Either header carries the token. (Typed: an inline literal of two shapes breaks a route's type inference.) */
export const headerTokenSecurity: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
