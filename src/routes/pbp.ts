import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type FeedPosition, issueToken, readToken } from "../auth/continuation";
import { staleImportZones, zoneChanges, zoneList } from "../db/permits/feed";
import { checkPlates, type PlateHit } from "../db/permits/reads";
import { listZones } from "../db/zones";
import {
  FEED_STALE_AFTER_SECONDS,
  FEED_TOKEN_MAX_AGE_SECONDS,
  type FeedPermit,
  isListed,
  type RemovalReason,
  removalReason,
} from "../domain/feed";
import { PLATE_MAX } from "../domain/plate";
import type { SiteConfig } from "../domain/site";
import { formatRfc3339, formatWireTime, nowSeconds } from "../domain/time";
import { AppError, ErrorCode, throwValidationError } from "../errors";
import { d1Session } from "./bookmark";
import { apiRoute, type CallerEnv } from "./caller";
import { graceSeconds, plateToCheck, stateToCheck } from "./plate-input";

/**
 * Genetec AutoVu Pay-by-Plate Sync (API version 2014-06), mounted at
 * /api/pbp/v2014-06: what an LPR enforcement system pulls from a payment
 * provider. Authenticated by `X-ApiKey` (an API token of the site with the
 * `lookup` scope). Answers use Genetec's field names; errors use this API's
 * one error body (Genetec's contract fixes only the statuses: 401, 404, 503).
 */
export const pbp = new OpenAPIHono<CallerEnv>({ defaultHook: throwValidationError });

const TAGS = ["Genetec Pay-by-Plate"];

const Permit = z
  .object({
    PermitId: z.string().openapi({ description: "The permit's reference." }),
    PlateNumber: z.string().openapi({ description: "The plate, normalized (upper case, no spaces, dashes or dots).", example: "PL8RDR" }),
    PlateState: z
      .string()
      .nullable()
      .openapi({ description: "State or province when the source sent one; null when unknown.", example: "ON" }),
    Activation: z.string().openapi({ description: "Start, UTC.", example: "2026-11-23T09:00:00Z" }),
    Expiry: z.string().openapi({ description: "End, UTC.", example: "2026-11-23T11:00:00Z" }),
  })
  .openapi("PbpPermit");

const FeedEntry = Permit.extend({
  Removed: z.boolean().optional().openapi({
    description: "Deltas only: true when the permit left the zone's list since the token (drop it); absent for permits to add or replace.",
  }),
  RemovalReason: z.enum(["deleted", "moved", "expired", "not-started"]).optional().openapi({
    description: "Why it left: deleted, moved to another zone, expired (past its end and the grace period), or its start moved later.",
  }),
}).openapi("PbpFeedEntry");

const HitEntry = Permit.extend({
  MatchedPlateNumber: z.string().openapi({ description: "The plate asked (normalized) that it matched." }),
  Match: z.enum(["exact", "confusable"]),
  ExpiredWithinGrace: z.boolean().openapi({ description: "It ended within the site's grace period." }),
}).openapi("PbpPermitMatch");

const permitOf = (p: FeedPermit | PlateHit) => ({
  PermitId: p.id,
  PlateNumber: p.plateNorm,
  PlateState: p.plateState,
  // Genetec's times: ISO 8601 in UTC with a Z, as its samples print them.
  Activation: formatRfc3339(p.startAt),
  Expiry: formatRfc3339(p.endAt),
});

const hitOf = (h: PlateHit): z.infer<typeof HitEntry> => ({
  ...permitOf(h),
  MatchedPlateNumber: h.matchedPlate,
  Match: h.match,
  ExpiredWithinGrace: h.expiredWithinGrace,
});

pbp.openapi(
  apiRoute({
    method: "get",
    path: "/zones",
    operationId: "pbpListZones",
    scope: "lookup",
    traffic: "reads",
    credential: "X-ApiKey",
    tags: TAGS,
    summary: "The site's lot zones, with the ids the other calls take",
    responses: {
      200: {
        description: "The zones",
        content: {
          "application/json": {
            schema: z
              .object({
                Zones: z.array(z.object({ ZoneId: z.string().openapi({ example: "12" }), Name: z.string().openapi({ example: "Lot 4" }) })),
              })
              .openapi("PbpZones"),
          },
        },
      },
    },
    errors: [],
  }),
  async (c) => {
    const zones = await listZones(d1Session(c), c.get("caller").site.id);
    return c.json({ Zones: zones.map((z) => ({ ZoneId: String(z.id), Name: z.name })) }, 200);
  },
);

/** A lot zone of the caller's site by its id as the client sent it; 9009 (404) otherwise. */
function zoneOf(site: SiteConfig, zoneId: string, field: string): number {
  const id = /^\d{1,15}$/.test(zoneId) ? Number(zoneId) : Number.NaN;
  if (!site.zones.some((z) => z.id === id)) throw new AppError(ErrorCode.NotFound, `No zone ${zoneId} on this site.`, { field });
  return id;
}

/** The answer a zone's permits cannot be given with: 503, saying since when and what to do. */
function unknowable(c: Context, lastSuccessAt: number): never {
  c.header("Retry-After", "180");
  throw new AppError(
    ErrorCode.Internal,
    `The permits of this zone cannot be determined: its ParkMobile import has not succeeded since ${formatWireTime(lastSuccessAt)} UTC (more than ${FEED_STALE_AFTER_SECONDS / 60} minutes). Retry later.`,
    { status: 503 },
  );
}

/** Refuses a continuation token this zone's feed cannot continue from, telling the client to pull in full. */
function refuseToken(reason: string): never {
  throw new AppError(
    ErrorCode.Invalid,
    `continuationToken ${reason}: pull the zone's permits in full (call without continuationToken) and continue from the token of that answer.`,
    { field: "continuationToken" },
  );
}

pbp.openapi(
  apiRoute({
    method: "get",
    path: "/zones/{zoneId}/permits",
    operationId: "pbpZonePermits",
    scope: "lookup",
    traffic: "reads",
    credential: "X-ApiKey",
    tags: TAGS,
    summary: "A zone's permits: all of them, or what changed since a continuation token",
    description: `Without \`continuationToken\`: every permit in the zone's list now (started, not deleted, not ended or ended within the site's grace period). With one: exactly what changed since that answer, so that a client applying each delta (add or replace a permit by PermitId; drop it when \`Removed\`) holds the same list as a full pull: new, extended, shortened, re-plated, expired, deleted, moved to another zone, or whose start came. Every answer carries the next \`ContinuationToken\`. Tokens are opaque, good for one zone, survive restarts and deploys, and are refused (9033, 400, pull in full) when forged or altered, older than ${FEED_TOKEN_MAX_AGE_SECONDS / 3600} hours, or issued before the site's grace period changed. A zone whose ParkMobile import has not succeeded for ${FEED_STALE_AFTER_SECONDS / 60} minutes answers 503. One indexed query.`,
    request: {
      params: z.object({
        zoneId: z
          .string()
          .max(20)
          .openapi({ param: { name: "zoneId", in: "path" }, description: "A ZoneId from the zone list (GET zones).", example: "12" }),
      }),
      query: z.object({
        continuationToken: z.string().max(400).optional().openapi({
          description: "The ContinuationToken of this zone's previous answer, as it came (opaque); leave it out for the full list.",
        }),
      }),
    },
    responses: {
      200: {
        description: "The zone's permits, or the changes since the token",
        content: {
          "application/json": {
            schema: z.object({ ContinuationToken: z.string(), Permits: z.array(FeedEntry) }).openapi("PbpZonePermits"),
          },
        },
      },
    },
    errors: [400, 404, 503],
  }),
  async (c) => {
    const { site } = c.get("caller");
    const zoneId = zoneOf(site, c.req.valid("param").zoneId, "zoneId");
    const token = c.req.valid("query").continuationToken;
    const grace = graceSeconds(site);
    let since: FeedPosition | null = null;
    if (token !== undefined && token !== "") {
      since = await readToken(c.env.FEED_TOKEN_KEY, token);
      if (!since) refuseToken("is not one this API issued (damaged or altered)");
      if (since.siteId !== site.id || since.zoneId !== zoneId) refuseToken(`was issued for another zone, not ${zoneId}`);
    }
    // Time never runs backwards for a client: an answer from a clock behind the token's continues from the token's moment.
    const now = Math.max(nowSeconds(), since?.at ?? 0);
    if (since && now - since.at > FEED_TOKEN_MAX_AGE_SECONDS) refuseToken(`is older than ${FEED_TOKEN_MAX_AGE_SECONDS / 3600} hours`);
    if (since && since.grace !== grace) refuseToken("predates a change of the site's grace period");

    const q = { siteId: site.id, zoneId, now, graceSeconds: grace, staleAfter: FEED_STALE_AFTER_SECONDS };
    const read = since ? await zoneChanges(d1Session(c), { ...q, since }) : await zoneList(d1Session(c), q);
    if (read.staleSince !== null) unknowable(c, read.staleSince);
    const entries = read.permits.map((p): z.infer<typeof FeedEntry> => {
      if (!since || isListed(p, zoneId, now, grace)) return permitOf(p);
      return { ...permitOf(p), Removed: true, RemovalReason: removalReason(p, zoneId, now) satisfies RemovalReason };
    });
    const next = await issueToken(c.env.FEED_TOKEN_KEY, { siteId: site.id, zoneId, seq: read.seq, at: now, grace });
    return c.json({ ContinuationToken: next, Permits: entries }, 200);
  },
);

/** Genetec's zone ids in a request body: each a lot zone of the site (9033 naming the item otherwise); none means all. */
function zonesOf(site: SiteConfig, zoneIds: string[] | undefined): number[] {
  if (!zoneIds || zoneIds.length === 0) return site.zones.map((z) => z.id);
  return zoneIds.map((zoneId, i) => {
    const id = /^\d{1,15}$/.test(zoneId) ? Number(zoneId) : Number.NaN;
    if (!site.zones.some((z) => z.id === id)) {
      throw new AppError(ErrorCode.Invalid, `ZoneIds.${i} ${zoneId} is not a zone of this site (GET zones lists them).`, {
        field: `ZoneIds.${i}`,
      });
    }
    return id;
  });
}

/** Extensions every plate call takes, beside Genetec's fields. */
const CheckOptions = {
  PlateState: z
    .string()
    .max(10)
    .optional()
    .openapi({ description: "Leave out permits of another known state or province.", example: "ON" }),
  Confusables: z.boolean().optional().openapi({ description: "Also match plates that differ only by O/Q=0, I/L=1, B=8, S=5, Z=2, G=6." }),
};
const ZoneIds = z
  .array(z.string().max(20))
  .max(100)
  .optional()
  .openapi({ description: "Lot zone ids; empty or left out: every zone of the site.", example: ["12"] });

/** Answers 503 instead of "nothing" when a zone asked about cannot be known now. */
async function refuseUnknowable(c: Context<CallerEnv>, siteId: number, zoneIds: number[], now: number) {
  const stale = await staleImportZones(d1Session(c), { siteId, zoneIds, now, staleAfter: FEED_STALE_AFTER_SECONDS });
  const first = stale[0];
  if (first) unknowable(c, first.lastSuccessAt);
}

pbp.openapi(
  apiRoute({
    method: "post",
    path: "/permits/search",
    operationId: "pbpSearchPermits",
    scope: "lookup",
    traffic: "reads",
    credential: "X-ApiKey",
    tags: TAGS,
    summary: "The permits of some plates in some zones",
    description:
      "Every permit of the plates (matched normalized) in the zones that is valid now or ended within the site's grace period (`ExpiredWithinGrace`), grouped by zone. 404 when nothing matches; 503 instead when a zone asked about cannot be determined (its ParkMobile import is failing).",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z
              .object({
                PlateNumbers: z
                  .array(z.string().max(PLATE_MAX))
                  .min(1)
                  .max(100)
                  .openapi({ example: ["PL8RDR"] }),
                ZoneIds,
                ...CheckOptions,
              })
              .openapi("PbpSearch"),
          },
        },
      },
    },
    responses: {
      200: {
        description: "The permits found, by zone",
        content: {
          "application/json": {
            schema: z
              .object({ PermitZones: z.array(z.object({ ZoneId: z.string(), Permits: z.array(HitEntry) })) })
              .openapi("PbpSearchResult"),
          },
        },
      },
    },
    errors: [400, 404, 413, 415, 503],
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { site } = c.get("caller");
    const plates = body.PlateNumbers.map((p, i) => plateToCheck(p, `PlateNumbers.${i}`));
    const state = stateToCheck(body.PlateState, "PlateState");
    const zoneIds = zonesOf(site, body.ZoneIds);
    const now = nowSeconds();
    const hits = await checkPlates(d1Session(c), {
      siteId: site.id,
      plates,
      now,
      graceSeconds: graceSeconds(site),
      confusables: body.Confusables === true,
      plateState: state,
      lotZoneIds: zoneIds,
      limit: 1000,
    });
    if (hits.length === 0) {
      await refuseUnknowable(c, site.id, zoneIds, now);
      throw new AppError(ErrorCode.NotFound, "No permit of these plates in these zones.", { field: "PlateNumbers" });
    }
    const byZone = Map.groupBy(hits, (h) => h.lotZoneId as number);
    return c.json({ PermitZones: [...byZone].map(([zoneId, found]) => ({ ZoneId: String(zoneId), Permits: found.map(hitOf) })) }, 200);
  },
);

pbp.openapi(
  apiRoute({
    method: "post",
    path: "/isvalid",
    operationId: "pbpIsValid",
    scope: "lookup",
    traffic: "reads",
    credential: "X-ApiKey",
    tags: TAGS,
    summary: "Does this plate hold a valid permit in these zones? (the last-chance check before an infraction)",
    description:
      "`IsValid` is true when a permit of the plate in one of the zones is valid now, or ended within the site's grace period (then `ExpiredWithinGrace` is true): a driver whose time ran out a minute ago is not an infraction. A false answer that cannot be trusted (a zone's ParkMobile import is failing) is 503 instead.",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z
              .object({ PlateNumber: z.string().max(PLATE_MAX).openapi({ example: "PL8RDR" }), ZoneIds, ...CheckOptions })
              .openapi("PbpIsValidRequest"),
          },
        },
      },
    },
    responses: {
      200: {
        description: "Whether the plate holds a valid permit, and which",
        content: {
          "application/json": {
            schema: z
              .object({ IsValid: z.boolean(), ExpiredWithinGrace: z.boolean(), Permits: z.array(HitEntry.extend({ ZoneId: z.string() })) })
              .openapi("PbpIsValid"),
          },
        },
      },
    },
    errors: [400, 413, 415, 503],
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { site } = c.get("caller");
    const plate = plateToCheck(body.PlateNumber, "PlateNumber");
    const state = stateToCheck(body.PlateState, "PlateState");
    const zoneIds = zonesOf(site, body.ZoneIds);
    const now = nowSeconds();
    const hits = await checkPlates(d1Session(c), {
      siteId: site.id,
      plates: [plate],
      now,
      graceSeconds: graceSeconds(site),
      confusables: body.Confusables === true,
      plateState: state,
      lotZoneIds: zoneIds,
      limit: 100,
    });
    if (hits.length === 0) await refuseUnknowable(c, site.id, zoneIds, now);
    return c.json(
      {
        IsValid: hits.length > 0,
        ExpiredWithinGrace: hits.length > 0 && hits.every((h) => h.expiredWithinGrace),
        Permits: hits.map((h) => ({ ...hitOf(h), ZoneId: String(h.lotZoneId) })),
      },
      200,
    );
  },
);
