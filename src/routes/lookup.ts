import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authenticate } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { activeByPlate } from "../db/active";
import { isWellFormedToken } from "../domain/attributes";
import { isValidNormalizedPlate, normalizePlate } from "../domain/plate";
import { formatWireTime, nowSeconds } from "../domain/time";
import { AppError, ErrorCode } from "../errors";
import type { AppEnv } from "../http";
import { throwValidationError } from "../validation";
import { errors } from "./oc-toma";

/** Enforcement lookups, mounted at /api/v1. */
export const lookup = new OpenAPIHono<AppEnv>({ defaultHook: throwValidationError });

/**
 * The token of a non-OC-TOMA call: `Authorization: Bearer <token>` or
 * `X-Api-Key: <token>` (what aggregators such as ParkOnce send).
 */
export async function headerCaller(c: Context<AppEnv>, scope: Scope) {
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

/** Either header carries the token. (Typed: an inline literal of two shapes breaks the route's type inference.) */
const tokenSecurity: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

const Permit = z
  .object({
    reference_id: z.string(),
    type: z.enum(["temp", "standard"]),
    source: z.string().openapi({ description: "push, ParkMobile or admin" }),
    plate: z.string().openapi({ description: "The plate as it was sent." }),
    zone: z.string().nullable().openapi({ description: "The lot zone, or the raw zone name of a disconnected record." }),
    disconnected: z.boolean(),
    start: z.string(),
    end: z.string(),
  })
  .openapi("ActivePermit");

lookup.openapi(
  createRoute({
    method: "get",
    path: "/lookup",
    tags: ["Enforcement"],
    summary: "Is this plate paid for now (optionally in one lot zone)?",
    description:
      "Matches the plate normalized (case, spaces, dashes and dots ignored) against the permits active now: started, not ended, not deleted. Needs a token with the `lookup` scope. One indexed query.",
    security: tokenSecurity,
    request: {
      query: z.object({
        plate: z.string().min(1).max(25).openapi({ example: "PL8RDR" }),
        zone: z.string().max(200).optional().openapi({ description: "A lot zone name of the site.", example: "Lot 4" }),
      }),
    },
    responses: {
      200: {
        description: "The active permits of the plate (at most 100, latest end first)",
        content: {
          "application/json": {
            schema: z
              .object({
                plate: z.string(),
                normalized: z.string(),
                zone: z.string().nullable(),
                active: z.boolean(),
                checked_at: z.string(),
                permits: z.array(Permit),
              })
              .openapi("PlateLookup"),
          },
        },
      },
      ...errors([400, 401, 403]),
    },
  }),
  async (c) => {
    const { plate, zone } = c.req.valid("query");
    const { site } = await headerCaller(c, "lookup");
    const normalized = normalizePlate(plate);
    if (!isValidNormalizedPlate(normalized)) {
      throw new AppError(ErrorCode.Invalid, "plate must hold letters and digits (spaces and dashes are ignored).", { field: "plate" });
    }
    let lotZoneId: number | undefined;
    if (zone !== undefined) {
      lotZoneId = site.zones.find((z) => z.name === zone.trim())?.id;
      if (lotZoneId === undefined) throw new AppError(ErrorCode.Invalid, `zone ${zone} is not a lot zone of this site.`, { field: "zone" });
    }
    const now = nowSeconds();
    const rows = await activeByPlate(c.env.DB, site.id, normalized, now, lotZoneId);
    return c.json(
      {
        plate,
        normalized,
        zone: zone?.trim() ?? null,
        active: rows.length > 0,
        checked_at: formatWireTime(now),
        permits: rows.map((r) => ({
          reference_id: r.id,
          type: r.type,
          source: r.source,
          plate: r.plate,
          zone: r.lot_zone ?? r.zone_name,
          disconnected: r.lot_zone === null && r.zone_name !== null,
          start: formatWireTime(r.start_at),
          end: formatWireTime(r.end_at),
        })),
      },
      200,
    );
  },
);
