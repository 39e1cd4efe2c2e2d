import * as z from "zod/mini";
import { SCOPES } from "../auth/scopes";
import { RATE_LIMITS, RATE_PERIOD_SECONDS, RATE_TIERS } from "../domain/rate-limits";
import { formatRfc3339 } from "../domain/time";
import { apiOperation, type CallerEnv } from "./caller";
import { Surface } from "./operation";

/** The calling credential, mounted at /api/v1: what a vendor checks before its first call. */
export const me = new Surface<CallerEnv>();

const Limit = z.object({
  limit: z.int().check(z.meta({ description: "Calls allowed per window, per Cloudflare location (approximate).", example: 120 })),
  window: z.int().check(z.meta({ description: "The window, in seconds.", example: RATE_PERIOD_SECONDS })),
});

const Me = z
  .object({
    kind: z
      .enum(["api_token", "oauth_client"])
      .check(z.meta({ description: "An API token, or an OAuth client through one of its access tokens." })),
    id: z.string().check(z.meta({ description: "The API token's id, or the OAuth client's client_id.", example: "tk_0a1b2c3d4e5f" })),
    label: z.string().check(z.meta({ description: "Its label (the source of the sessions it starts); its id when it has none." })),
    site: z.object({
      slug: z
        .string()
        .check(z.meta({ description: "The site (OPS-COM's client code) every call of this credential acts on.", example: "demo" })),
      currencies: z
        .array(z.string())
        .check(z.meta({ description: "The currencies the site accepts; the first is its default.", example: ["CAD", "USD"] })),
    }),
    scopes: z.array(z.enum(SCOPES)).check(z.meta({ description: "What it may do (an access token: the scopes it was issued for)." })),
    expires_at: z
      .nullable(z.string())
      .check(
        z.meta({ description: "When it stops working by itself (an access token, RFC 3339 UTC); null: until revoked.", example: null }),
      ),
    rate_limits: z.object({
      tier: z.enum(RATE_TIERS),
      writes: Limit.check(z.meta({ description: "Pushes, updates, deletes; session starts, stops and extensions." })),
      reads: Limit.check(z.meta({ description: "Plate checks, the enforcement feed, stats, zones, session reads, this call." })),
    }),
  })
  .check(z.meta({ id: "Me" }));

me.on(
  apiOperation({
    method: "get",
    path: "/me",
    operationId: "getMe",
    scope: null,
    traffic: "reads",
    tags: ["Credentials"],
    summary: "The calling credential: its site, scopes, kind, expiry and rate limits",
    description:
      "Check a token or an access token before the first real call: which site it acts on, what it may do, when it expires and how many calls it may make. Any credential of a site will do, whatever its scopes: an API token as `Authorization: Bearer` or `X-Api-Key` (an OC-TOMA token too, which OC-TOMA calls send in the body), or an OAuth access token as `Authorization: Bearer`. Counts as a read.",
    responses: { 200: { description: "The credential", content: { "application/json": { schema: Me } } } },
    errors: [],
  }),
  (c) => {
    const caller = c.get("caller");
    const limits = RATE_LIMITS[caller.grant.tier];
    const answer: z.infer<typeof Me> = {
      kind: caller.kind === "oauth" ? "oauth_client" : "api_token",
      id: caller.grant.tokenId,
      label: caller.label,
      site: { slug: caller.site.slug, currencies: caller.site.currencies },
      scopes: caller.grant.scopes,
      expires_at: formatRfc3339(caller.expiresAt),
      rate_limits: {
        tier: caller.grant.tier,
        writes: { limit: limits.writes, window: RATE_PERIOD_SECONDS },
        reads: { limit: limits.reads, window: RATE_PERIOD_SECONDS },
      },
    };
    return c.json(answer, 200);
  },
);
