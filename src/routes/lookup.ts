import * as z from "zod/mini";
import { checkPlates } from "../db/permits/reads";
import { PLATE_MAX } from "../domain/plate";
import { ZONE_NAME_MAX } from "../domain/site";
import { formatWireTime, nowSeconds } from "../domain/time";
import { d1Session } from "./bookmark";
import { apiOperation, type CallerEnv } from "./caller";
import { Surface } from "./operation";
import { HitFields, hitFields, narrow, PermitFields } from "./permit-view";
import { FLAG_VALUES, graceSeconds, isSet, plateToCheck, stateToCheck, zoneNamed } from "./plate-input";

/** Enforcement lookups, mounted at /api/v1. */
export const lookup = new Surface<CallerEnv>();

/** At most this many permits in a lookup's answer. */
export const LOOKUP_LIMIT = 100;

const ActivePermit = z
  .extend(
    z.pick(PermitFields, {
      reference_id: true,
      type: true,
      source: true,
      plate: true,
      plateState: true,
      zone: true,
      disconnected: true,
      start: true,
      end: true,
    }),
    HitFields.shape,
  )
  .check(z.meta({ id: "ActivePermit" }));

lookup.on(
  apiOperation({
    method: "get",
    path: "/lookup",
    operationId: "lookupPlate",
    scope: "lookup",
    traffic: "reads",
    tags: ["Enforcement"],
    summary: "Is this plate paid for now (optionally in one lot zone)?",
    description:
      "Matches the plate normalized (case, spaces, dashes and dots ignored) against the permits active now (started, not ended, not deleted), and those that ended within the site's grace period, flagged `expiredWithinGrace`. `confusables=true` also matches plates that differ only by characters cameras confuse (O/Q=0, I/L=1, B=8, S=5, Z=2, G=6); `state` leaves out permits of another known state. Needs a token with the `lookup` scope. One indexed query, which a read replica near the caller may answer (send `x-d1-bookmark` to read at least what you wrote).",
    request: {
      query: z.object({
        plate: z
          .string()
          .check(
            z.minLength(1),
            z.maxLength(PLATE_MAX),
            z.meta({ description: "The plate to check; case, spaces, dashes and dots ignored.", example: "PL8RDR" }),
          ),
        zone: z.optional(
          z
            .string()
            .check(
              z.maxLength(ZONE_NAME_MAX),
              z.meta({ description: "A lot zone of the site: its name, or its number.", example: "Lot 4" }),
            ),
        ),
        state: z.optional(
          z.string().check(z.maxLength(10), z.meta({ description: "The plate's state or province, e.g. ON.", example: "ON" })),
        ),
        confusables: z.optional(z.enum(FLAG_VALUES).check(z.meta({ description: "Also match confusable characters (reads only)." }))),
      }),
    },
    responses: {
      200: {
        description: "The permits of the plate (at most 100, latest end first)",
        content: {
          "application/json": {
            schema: z
              .object({
                plate: z.string(),
                normalized: z.string(),
                zone: z.nullable(z.string()),
                state: z.nullable(z.string()),
                confusables: z.boolean(),
                active: z.boolean().check(z.meta({ description: "A permit is valid now (grace not counted)." })),
                within_grace: z.boolean().check(z.meta({ description: "No permit is valid now, but one ended within the grace period." })),
                grace_minutes: z.int(),
                checked_at: z.string(),
                permits: z.array(ActivePermit),
              })
              .check(z.meta({ id: "PlateLookup" })),
          },
        },
      },
    },
    errors: [400],
  }),
  async (c, { query }) => {
    const { site } = c.get("caller");
    const normalized = plateToCheck(query.plate, "plate");
    const state = stateToCheck(query.state, "state");
    const lotZoneId = query.zone === undefined ? undefined : zoneNamed(site, query.zone, "zone").id;
    const now = nowSeconds();
    const confusables = isSet(query.confusables);
    const hits = await checkPlates(d1Session(c), {
      siteId: site.id,
      plates: [normalized],
      now,
      graceSeconds: graceSeconds(site),
      confusables,
      plateState: state,
      lotZoneIds: lotZoneId === undefined ? undefined : [lotZoneId],
      limit: LOOKUP_LIMIT,
    });
    const active = hits.some((h) => !h.expiredWithinGrace);
    return c.json(
      {
        plate: query.plate,
        normalized,
        zone: query.zone?.trim() ?? null,
        state: state ?? null,
        confusables,
        active,
        within_grace: !active && hits.length > 0,
        grace_minutes: site.graceMinutes,
        checked_at: formatWireTime(now),
        permits: hits.map((h) => narrow(ActivePermit, hitFields(h))),
      },
      200,
    );
  },
);
