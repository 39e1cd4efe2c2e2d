import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { checkPlates } from "../db/permits/reads";
import { isWellFormedToken } from "../domain/attributes";
import { formatWireTime, nowSeconds } from "../domain/time";
import { AppError, ErrorCode, errorResponses } from "../errors";
import { type AppEnv, acceptBody, MAX_BODY_BYTES, readJsonObject } from "../http";
import { d1Session } from "./bookmark";
import { authenticateRequest, bodyTokenOperation } from "./caller";
import { LOOKUP_LIMIT } from "./lookup";
import { graceSeconds, plateToCheck, stateToCheck } from "./plate-input";

/**
 * OPS-COM's plate validation for enforcement tools written against OPS-COM:
 * `POST /api/v1/validate/plate` with `{api_token, client, plate}` (JSON or a
 * form), answered in OPS-COM's shape `{error, message, data: {plate,
 * response, responseJSON: {permits, dntt, alarm}}}`. Mounted at /api/v1.
 */
export const validatePlate = new OpenAPIHono<AppEnv>();

const PLATE_MAX = 25;

const Request = z
  .object({
    api_token: z.string().openapi({ description: "An API token of the site with the `lookup` scope. Missing: 9001." }),
    client: z
      .string()
      .openapi({ description: "The client code: the site's slug. Missing: 9000; another site's: 9002 (403).", example: "demo" }),
    plate: z
      .string()
      .max(PLATE_MAX)
      .openapi({ description: "The plate; case, spaces, dashes and dots ignored. Missing: 9006.", example: "PL8RDR" }),
    state: z.string().max(10).optional().openapi({ description: "Extension: leave out permits of another known state or province." }),
    confusables: z
      .union([z.boolean(), z.enum(["true", "false", "1", "0"])])
      .optional()
      .openapi({ description: "Extension: also match plates that differ only by O/Q=0, I/L=1, B=8, S=5, Z=2, G=6." }),
  })
  .openapi("ValidatePlateRequest");

/** The body the docs page offers to send (the token is a placeholder to replace). */
const EXAMPLE = { api_token: "YOUR-API-TOKEN", client: "demo", plate: "PL8RDR" };

const ValidPermit = z.object({
  type: z.enum(["temp", "standard"]),
  shortName: z.string().nullable().openapi({ description: "The lot zone (or a disconnected record's zone name)." }),
  expires: z.string().openapi({ description: "The end, UTC Y-m-d\\TH:i:s." }),
  reference_id: z.string(),
  plateState: z.string().nullable(),
  matchedPlate: z.string(),
  match: z.enum(["exact", "confusable"]),
  expiredWithinGrace: z.boolean(),
});

const Answer = z
  .object({
    error: z.literal(0),
    message: z.string(),
    data: z.object({
      plate: z.string(),
      response: z.string().openapi({ description: "The answer in words." }),
      responseJSON: z.object({
        permits: z.array(ValidPermit),
        dntt: z.array(z.unknown()).openapi({ description: "Always empty: this API keeps no do-not-tow list." }),
        alarm: z.boolean().openapi({ description: "Always false: this API keeps no plate alarms." }),
      }),
      valid: z.boolean().openapi({ description: "Extension: a permit is valid now, or ended within the site's grace period." }),
    }),
  })
  .openapi("ValidatePlate");

validatePlate.openAPIRegistry.registerPath({
  method: "post",
  path: "/validate/plate",
  operationId: "validatePlate",
  tags: ["Enforcement"],
  summary: "OPS-COM plate validation: does this plate hold a valid permit?",
  ...bodyTokenOperation(
    "api_token",
    "lookup",
    "OPS-COM's call, body and answer. The token is checked first (9001, 9002), then the client code (9000 when missing; 9002, 403, when the token is not that client's), then the plate (9006, 9030, 9033). Permits valid now, and those that ended within the site's grace period (`expiredWithinGrace`), are listed; `valid` is true when there is one. Errors use this API's one error body, which holds OPS-COM's ErrorCode and ErrorMessage.",
  ),
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: Request, example: EXAMPLE },
        "application/x-www-form-urlencoded": { schema: Request, example: EXAMPLE },
      },
    },
  },
  responses: {
    200: { description: "The answer (also when no permit is valid)", content: { "application/json": { schema: Answer } } },
    ...errorResponses([400, 401, 403, 413, 415, 429]),
  },
});

const FORM = /^application\/x-www-form-urlencoded\b/i;

/** The body as a map of fields: JSON, or a form as OPS-COM's own clients may post it. */
async function fields(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  if (FORM.test(c.req.header("content-type") ?? "")) {
    const form = await c.req.parseBody();
    return Object.fromEntries(Object.entries(form).filter(([, v]) => typeof v === "string"));
  }
  return readJsonObject(c);
}

/** A text field: undefined when absent, null or blank; 9033 when not a string. */
function text(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new AppError(ErrorCode.Invalid, `${name} must be a string.`, { field: name });
  return value.trim() === "" ? undefined : value;
}

validatePlate.post("/validate/plate", acceptBody(MAX_BODY_BYTES), async (c) => {
  const body = await fields(c);
  const token = text(body, "api_token");
  if (token === undefined) throw new AppError(ErrorCode.TokenMissing, "api_token is required.", { field: "api_token" });
  if (!isWellFormedToken(token)) throw new AppError(ErrorCode.NoPermission, "api_token is not valid.", { field: "api_token" });
  const { site } = await authenticateRequest(c, token, "lookup", "api_token", "reads");
  const client = text(body, "client");
  if (client === undefined) throw new AppError(ErrorCode.ClientMissing, "client (the client code) is required.", { field: "client" });
  if (client.trim() !== site.slug) {
    throw new AppError(ErrorCode.NoPermission, `api_token does not belong to client ${client}.`, { field: "client", status: 403 });
  }
  const raw = text(body, "plate");
  if (raw === undefined) throw new AppError(ErrorCode.PlateRequired, "plate is required.", { field: "plate" });
  if ([...raw].length > PLATE_MAX)
    throw new AppError(ErrorCode.TooLong, `plate must be at most ${PLATE_MAX} characters long.`, { field: "plate" });
  const plate = plateToCheck(raw, "plate");
  const state = stateToCheck(text(body, "state"), "state");
  const confusables = body.confusables === true || body.confusables === "true" || body.confusables === "1";

  const hits = await checkPlates(d1Session(c), {
    siteId: site.id,
    plates: [plate],
    now: nowSeconds(),
    graceSeconds: graceSeconds(site),
    confusables,
    plateState: state,
    limit: LOOKUP_LIMIT,
  });
  const permits = hits.map((h) => ({
    type: h.type,
    shortName: h.lotZone ?? h.zoneName,
    expires: formatWireTime(h.endAt),
    reference_id: h.id,
    plateState: h.plateState,
    matchedPlate: h.matchedPlate,
    match: h.match,
    expiredWithinGrace: h.expiredWithinGrace,
  }));
  const current = permits.find((p) => !p.expiredWithinGrace);
  const first = permits[0];
  const response = current
    ? `${plate} has a valid permit${current.shortName ? ` in ${current.shortName}` : ""} until ${current.expires} UTC.`
    : first
      ? `${plate}'s permit${first.shortName ? ` in ${first.shortName}` : ""} expired at ${first.expires} UTC, within the ${site.graceMinutes}-minute grace period.`
      : `${plate} has no valid permit.`;
  return c.json({
    error: 0 as const,
    message: permits.length > 0 ? "Valid permit found." : "No valid permit found.",
    data: { plate, response, responseJSON: { permits, dntt: [], alarm: false }, valid: permits.length > 0 },
  });
});
