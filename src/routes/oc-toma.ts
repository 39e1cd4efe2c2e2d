import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authenticate, shouldTouch } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { sha256Hex } from "../auth/secrets";
import { countActive } from "../db/active";
import { IdempotencyConflict, pushPermit, type WriteResult } from "../db/permits";
import { type EndpointAttributes, parseAttributes, requestSchema } from "../domain/attributes";
import { deleteAttributes, pushAttributes, statsAttributes, toNewPermit, toPermitChange, updateAttributes } from "../domain/requests";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode, errorCatalogue } from "../errors";
import { type AppEnv, limitBody, MAX_BODY_BYTES, readJsonObject } from "../http";

/** OPS-COM's OC-TOMA v1 permits API, mounted at /api/OC-TOMA/v1. */
export const ocToma = new OpenAPIHono<AppEnv>();

ocToma.use(limitBody(MAX_BODY_BYTES));

/** Reads the body, authenticates its apiToken for `scope`, and validates the endpoint's attributes. */
async function accept<E extends EndpointAttributes>(c: Context<AppEnv>, scope: Scope, endpoint: E) {
  const body = await readJsonObject(c);
  // Authenticate before validating, so a caller without a token learns nothing about the rules.
  const { values } = parseAttributes({ apiToken: "required" }, body);
  const caller = await authenticate(c.env, values.apiToken, scope);
  return { caller, input: parseAttributes(endpoint, body) };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

ocToma.post("/permits/push", async (c) => {
  const { caller, input } = await accept(c, "push", pushAttributes);
  const permit = { ...toNewPermit(input, caller.site), type: "temp" as const, source: "push" };

  const key = c.req.header("idempotency-key");
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new AppError(ErrorCode.Invalid, "Idempotency-Key must be 1 to 255 visible ASCII characters.", { field: "Idempotency-Key" });
  }
  const now = nowSeconds();
  let outcome: Awaited<ReturnType<typeof pushPermit>>;
  try {
    outcome = await pushPermit(c.env.DB, permit, {
      actor: `token:${caller.grant.tokenId}`,
      tokenId: caller.grant.tokenId,
      now,
      touchToken: shouldTouch(caller.grant.tokenId, now),
      idempotency: key === undefined ? undefined : { key, requestHash: await sha256Hex(JSON.stringify(permit)) },
    });
  } catch (error) {
    if (error instanceof IdempotencyConflict) {
      throw new AppError(ErrorCode.AlreadyExists, "Idempotency-Key was already used with a different request.", {
        field: "Idempotency-Key",
      });
    }
    throw error;
  }
  if (!outcome.created) c.header("Idempotent-Replayed", "true");
  return c.json({
    status: "success",
    reference_id: outcome.reference,
    InternalReferenceID: outcome.reference,
    disconnected: outcome.disconnected,
  });
});

/** The per-reference Durable Object that runs updates and deletes of one permit in order. */
function sequencer(env: Env, reference: string) {
  return env.PERMIT_SEQUENCER.get(env.PERMIT_SEQUENCER.idFromName(reference));
}

/** The seed's success body for a reference, plus the version now stored. */
function written(reference: string, result: WriteResult) {
  if (!result.ok) throw new AppError(result.code, result.message, { field: result.field });
  return { status: "success" as const, reference_id: reference, InternalReferenceID: reference, version: result.version };
}

ocToma.post("/permits/update", async (c) => {
  const { caller, input } = await accept(c, "update", updateAttributes);
  const change = toPermitChange(input, caller.site);
  const reference = input.values.referenceId;
  const result = await sequencer(c.env, reference).update({
    siteId: caller.site.id,
    reference,
    change,
    defaultCurrency: caller.site.currencies[0] ?? null,
    endField: input.names.endTime,
    actor: `token:${caller.grant.tokenId}`,
  });
  return c.json(written(reference, result));
});

ocToma.post("/permits/delete", async (c) => {
  const { caller, input } = await accept(c, "delete", deleteAttributes);
  const reference = input.values.referenceId;
  const result = await sequencer(c.env, reference).remove({ siteId: caller.site.id, reference, actor: `token:${caller.grant.tokenId}` });
  return c.json(written(reference, result));
});

ocToma.post("/permits/stats", async (c) => {
  const { caller, input } = await accept(c, "stats", statsAttributes);
  const { zones } = caller.site;
  let requested = zones;
  let unknown: string[] = [];
  if (input.values.zones !== undefined) {
    const names = [
      ...new Set(
        input.values.zones
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n !== ""),
      ),
    ];
    const byName = new Map(zones.map((z) => [z.name, z]));
    requested = names.flatMap((n) => byName.get(n) ?? []);
    unknown = names.filter((n) => !byName.has(n));
  }
  const counts = await countActive(
    c.env.DB,
    caller.site.id,
    requested.map((z) => z.id),
    nowSeconds(),
  );
  const total = (zoneId: number, type: string) => counts.find((r) => r.lot_zone_id === zoneId && r.type === type)?.total ?? 0;
  const data = requested.flatMap((z) =>
    (["standard", "temp"] as const).map((type) => ({ type, zone: z.name, total: String(total(z.id, type)) })),
  );
  return c.json(unknown.length > 0 ? { data, unknown_zones: unknown } : { data });
});

const errorBody = z
  .object({
    status: z.literal("error"),
    ErrorCode: z
      .number()
      .int()
      .openapi({
        description: Object.entries(errorCatalogue)
          .map(([k, v]) => `${k}: ${v}`)
          .join("\n"),
      }),
    ErrorMessage: z.string(),
    field: z.string().optional().openapi({ description: "The attribute at fault, under the name the client used." }),
    requestId: z.string().optional(),
  })
  .openapi("Error");

const successBody = z
  .object({
    status: z.literal("success"),
    reference_id: z.string().openapi({ example: "1a9b5375-cb75-4c71-9939-eeae550b09ac" }),
    InternalReferenceID: z.string().openapi({ example: "1a9b5375-cb75-4c71-9939-eeae550b09ac" }),
    disconnected: z
      .boolean()
      .openapi({ description: "True when the zone matched no lot zone of the site: the record is kept, flagged disconnected." }),
  })
  .openapi("PermitReference");

/** The documented error answers of an endpoint; exported for the other surfaces. */
export function errors<const S extends readonly number[]>(statuses: S) {
  const response = { description: "An error, in the one error shape", content: { "application/json": { schema: errorBody } } };
  return Object.fromEntries(statuses.map((s) => [s, response])) as Record<S[number], typeof response>;
}

ocToma.openAPIRegistry.registerPath({
  method: "post",
  path: "/permits/push",
  tags: ["OC-TOMA permits"],
  summary: "Permit Create (push) a paid or temporary permit",
  description:
    "Stores a temporary permit. Retries are safe: send an `Idempotency-Key` header (replayed for 24 hours; another request under the same key is 9022), or rely on the receipt key: a push whose permitNo (else TicketNumber), plate and start equal a live record answers that record's reference. A replayed answer carries `Idempotent-Replayed: true`.",
  request: {
    headers: z.object({ "Idempotency-Key": z.string().max(255).optional() }),
    body: { required: true, content: { "application/json": { schema: requestSchema(pushAttributes).openapi("PermitPush") } } },
  },
  responses: {
    200: { description: "Stored (or a retry of a stored push)", content: { "application/json": { schema: successBody } } },
    ...errors([400, 401, 403, 409, 413, 415]),
  },
});

const writtenBody = z
  .object({
    status: z.literal("success"),
    reference_id: z.string(),
    InternalReferenceID: z.string(),
    version: z.number().int().openapi({ description: "The record's version after this call (1 at creation, +1 per change)." }),
  })
  .openapi("PermitVersion");

const body = (schema: z.ZodType) => ({ required: true, content: { "application/json": { schema } } });

ocToma.openAPIRegistry.registerPath({
  method: "post",
  path: "/permits/update",
  tags: ["OC-TOMA permits"],
  summary: "Permit Update: change the plate, amount, currency or end of a permit",
  description:
    "Updates of one reference are applied one at a time in arrival order, each as the next version, kept in the permit's history. An update that changes nothing writes nothing and answers the current version. The new end must be after the record's start (9005). A reference that does not exist, belongs to another site or was deleted is 9009.",
  request: { body: body(requestSchema(updateAttributes).openapi("PermitUpdate")) },
  responses: {
    200: { description: "Updated", content: { "application/json": { schema: writtenBody } } },
    ...errors([400, 401, 403, 404, 413, 415]),
  },
});

ocToma.openAPIRegistry.registerPath({
  method: "post",
  path: "/permits/delete",
  tags: ["OC-TOMA permits"],
  summary: "Permit Delete",
  description:
    "Deletes a permit (it is kept, marked deleted, with its history). Deleting a permit already deleted answers success again with the same version, so a retried delete never fails.",
  request: { body: body(requestSchema(deleteAttributes).openapi("PermitDelete")) },
  responses: {
    200: { description: "Deleted", content: { "application/json": { schema: writtenBody } } },
    ...errors([400, 401, 403, 404, 413, 415]),
  },
});

ocToma.openAPIRegistry.registerPath({
  method: "post",
  path: "/permits/stats",
  tags: ["OC-TOMA permits"],
  summary: "Permit Stats: permits active now, per lot zone and type",
  description:
    "Counts the permits active now (started, not ended, not deleted) per lot zone and type (`standard`, `temp`). Every requested lot zone gets both rows, even at zero; without `zones`, every lot zone of the site. Disconnected records are not counted. Requested names that are not lot zones are listed in `unknown_zones`.",
  request: { body: body(requestSchema(statsAttributes).openapi("PermitStatsRequest")) },
  responses: {
    200: {
      description: "Counts",
      content: {
        "application/json": {
          schema: z
            .object({
              data: z.array(
                z.object({
                  type: z.enum(["standard", "temp"]),
                  zone: z.string(),
                  total: z.string().openapi({ description: "A count, as a string (as OPS-COM sends it).", example: "35" }),
                }),
              ),
              unknown_zones: z.array(z.string()).optional(),
            })
            .openapi("PermitStats"),
        },
      },
    },
    ...errors([400, 401, 403, 413, 415]),
  },
});
