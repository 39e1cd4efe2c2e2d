import { OpenAPIHono, z } from "@hono/zod-openapi";
import { activeByPlate } from "../db/permits/reads";
import { isValidNormalizedPlate, normalizePlate } from "../domain/plate";
import { formatWireTime, nowSeconds } from "../domain/time";
import { AppError, ErrorCode, throwValidationError } from "../errors";
import { apiRoute, type CallerEnv } from "./caller";
import { narrow, PermitFields, permitFields } from "./permit-view";

/** Enforcement lookups, mounted at /api/v1. */
export const lookup = new OpenAPIHono<CallerEnv>({ defaultHook: throwValidationError });

const ActivePermit = PermitFields.pick({
  reference_id: true,
  type: true,
  source: true,
  plate: true,
  zone: true,
  disconnected: true,
  start: true,
  end: true,
}).openapi("ActivePermit");

lookup.openapi(
  apiRoute({
    method: "get",
    path: "/lookup",
    operationId: "lookupPlate",
    scope: "lookup",
    tags: ["Enforcement"],
    summary: "Is this plate paid for now (optionally in one lot zone)?",
    description:
      "Matches the plate normalized (case, spaces, dashes and dots ignored) against the permits active now: started, not ended, not deleted. Needs a token with the `lookup` scope. One indexed query.",
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
                permits: z.array(ActivePermit),
              })
              .openapi("PlateLookup"),
          },
        },
      },
    },
    errors: [400],
  }),
  async (c) => {
    const { plate, zone } = c.req.valid("query");
    const { site } = c.get("caller");
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
        permits: rows.map((r) => narrow(ActivePermit, permitFields(r))),
      },
      200,
    );
  },
);
