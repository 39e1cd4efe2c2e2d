import type { Context, MiddlewareHandler } from "hono";
import type { Caller } from "../auth/authenticate";
import { RATE_LIMIT_BINDINGS, RATE_LIMITS, RATE_PERIOD_SECONDS, type RateTier, TRAFFIC, type Traffic } from "../domain/rate-limits";
import { AppError, answerError, ErrorCode } from "../errors";
import type { AppEnv } from "../http";

/**
 * Rate limits per credential, through the Workers Rate Limiting binding: one
 * binding per tier and traffic (wrangler.toml), each call counted under the
 * credential's actor (`token:<id>`, `oauth:<client id>`), so an API token's
 * rotation keeps its count and all of an OAuth client's access tokens share
 * one. `countCall` is called once per request, by `admitCaller`
 * (routes/caller.ts), after the credential is checked; `sendRateLimit` puts
 * the RateLimit header fields on the answer, errors included.
 *
 * The binding answers only "allowed or not", per Cloudflare location and
 * approximately (its counters are cached on each machine and synced
 * asynchronously). So the headers say the policy exactly, and what is left
 * as this Worker instance counted it: a hint, which may overstate what the
 * location has left, never a promise.
 */

/** The calls this isolate admitted per credential and traffic in the current window: the `r` of the RateLimit field. */
const admitted = new Map<string, { window: number; count: number }>();

/**
 * Counts the request against the caller's limit for `traffic`; past it,
 * 9998 (429) with `Retry-After`. The binding gives no reset time, so a
 * refused caller is told to wait one whole window, which is never too soon.
 */
export async function countCall<E extends AppEnv>(context: Context<E>, caller: Caller, traffic: Traffic): Promise<void> {
  const c = context as unknown as Context<AppEnv>;
  const { tier } = caller.grant;
  const limit = RATE_LIMITS[tier][traffic];
  const { success } = await c.env[RATE_LIMIT_BINDINGS[tier][traffic]].limit({ key: caller.actor });
  const now = Date.now() / 1000;
  const window = Math.floor(now / RATE_PERIOD_SECONDS);
  if (!success) {
    c.set("rateLimit", { tier, traffic, remaining: 0, reset: RATE_PERIOD_SECONDS });
    const who = caller.kind === "oauth" ? "this OAuth client" : "this API token";
    throw new AppError(
      ErrorCode.RateLimited,
      `Too many ${traffic}: ${who} may make ${limit} ${traffic} a minute (tier ${tier}). Try again in ${RATE_PERIOD_SECONDS} seconds.`,
      { status: 429, headers: { "Retry-After": String(RATE_PERIOD_SECONDS) } },
    );
  }
  const key = `${traffic}:${caller.actor}`;
  const seen = admitted.get(key);
  const count = seen?.window === window ? seen.count + 1 : 1;
  if (admitted.size > 10_000) admitted.clear();
  admitted.set(key, { window, count });
  const reset = Math.max(1, Math.ceil((window + 1) * RATE_PERIOD_SECONDS - now));
  c.set("rateLimit", { tier, traffic, remaining: Math.max(0, limit - count), reset });
}

/**
 * The RateLimit-Policy field of a tier (draft-ietf-httpapi-ratelimit-headers):
 * both of its policies, as quota per window.
 */
export function rateLimitPolicy(tier: RateTier): string {
  return TRAFFIC.map((traffic) => `"${traffic}";q=${RATE_LIMITS[tier][traffic]};w=${RATE_PERIOD_SECONDS}`).join(", ");
}

/**
 * App middleware: an answer to a request whose call was counted carries
 * `RateLimit-Policy` (the credential's quotas) and `RateLimit` (the policy
 * this call counted against, what is left, seconds until more), whatever its
 * status, 429 included. A read counted while it ran is settled here: refused,
 * its answer becomes the 429.
 */
export function sendRateLimit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const pending = c.get("rateLimitPending");
    if (pending) {
      try {
        await pending;
      } catch (error) {
        // A refused read: whatever it answered, the caller gets the refusal, as if it had been counted first.
        c.res = answerError(error as Error, c);
      }
    }
    const state = c.get("rateLimit");
    if (!state) return;
    c.header("RateLimit-Policy", rateLimitPolicy(state.tier));
    c.header("RateLimit", `"${state.traffic}";r=${state.remaining};t=${state.reset}`);
  };
}
