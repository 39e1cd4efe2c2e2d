import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Caller } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { sha256Hex } from "../auth/secrets";
import { pushPermit } from "../db/permits/push";
import { countActive } from "../db/permits/reads";
import {
  type AttributeName,
  type AttributeRule,
  attributes,
  type EndpointAttributes,
  parseAttributes,
  type Resolved,
} from "../domain/attributes";
import { SOURCES } from "../domain/permit";
import type { Traffic } from "../domain/rate-limits";
import { deleteAttributes, pushAttributes, statsAttributes, toNewPermit, toPermitChange, updateAttributes } from "../domain/requests";
import { nowSeconds } from "../domain/time";
import { permitSequencer, type WriteResult } from "../durable/permit-sequencer";
import { AppError, ErrorCode, type ErrorStatus, errorResponses } from "../errors";
import {
  type AppEnv,
  acceptBody,
  IdempotencyKeyHeader,
  idempotencyConflict,
  idempotencyKey,
  MAX_BODY_BYTES,
  readJsonObject,
} from "../http";
import { publishPermitWrites } from "../webhooks/publish";
import { d1Session } from "./bookmark";
import { authenticateRequest, bodyTokenOperation } from "./caller";

/** OPS-COM's OC-TOMA v1 permits API, mounted at /api/OC-TOMA/v1. */
export const ocToma = new OpenAPIHono<AppEnv>();

// The token travels in the body: the body is checked first, then the token, then the rest.
ocToma.use(acceptBody(MAX_BODY_BYTES));

/**
 * The request schema of one endpoint, for the OpenAPI document: every alias
 * of every attribute as an optional property, unknown keys ignored. Requests
 * are parsed by {@link parseAttributes}, which adds the rules a JSON schema
 * cannot say: aliases that disagree, required under any name.
 */
function requestSchema(endpoint: EndpointAttributes) {
  const shape: Record<string, z.ZodType> = {};
  for (const [attr, presence] of Object.entries(endpoint) as [AttributeName, string][]) {
    const rule: AttributeRule = attributes[attr];
    for (const name of rule.names) {
      const aliasNote = rule.names.length > 1 ? ` Also accepted as ${rule.names.filter((n) => n !== name).join(", ")}.` : "";
      const required = presence === "required" ? " Required (under any of its names)." : "";
      shape[name] = rule.schema.optional().openapi({ description: `${rule.description}${aliasNote}${required}`, example: rule.example });
    }
  }
  return z.object(shape).loose();
}

/**
 * The body the docs page offers to send for one endpoint: each attribute once, under its first name, with its
 * example (the token's is a placeholder to replace).
 */
function requestExample(endpoint: EndpointAttributes): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(endpoint) as AttributeName[]).flatMap((attr) => {
      const rule: AttributeRule = attributes[attr];
      const name = rule.names[0];
      return rule.example === undefined || name === undefined ? [] : [[name, rule.example]];
    }),
  );
}

/**
 * Declares one OC-TOMA endpoint: its OpenAPI entry and its handler together.
 * The body is not validated by the route's schema (which only documents
 * it): the handler receives it read, its token authenticated for `scope`
 * before anything else (so a caller without a token learns nothing about the
 * rules), then its attributes resolved and validated.
 */
function endpoint<E extends EndpointAttributes>(
  spec: {
    path: string;
    operationId: string;
    summary: string;
    description: string;
    scope: Scope;
    /** What the call costs the token's rate limit. */
    traffic: Traffic;
    attributes: E;
    /** The name of the request body's schema in the OpenAPI document. */
    requestName: string;
    headers?: z.ZodObject;
    response: { description: string; schema: z.ZodType };
    errors: readonly ErrorStatus[];
  },
  handle: (c: Context<AppEnv>, request: { caller: Caller; input: Resolved<E> }) => Promise<Response>,
) {
  ocToma.openAPIRegistry.registerPath({
    method: "post",
    path: spec.path,
    operationId: spec.operationId,
    tags: ["OC-TOMA permits"],
    summary: spec.summary,
    ...bodyTokenOperation("apiToken", spec.scope, spec.description),
    request: {
      headers: spec.headers,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: requestSchema(spec.attributes).openapi(spec.requestName),
            example: requestExample(spec.attributes),
          },
        },
      },
    },
    responses: {
      200: { description: spec.response.description, content: { "application/json": { schema: spec.response.schema } } },
      // 429: past the token's rate limit, checked once the token is.
      ...errorResponses([...spec.errors, 429]),
    },
  });
  ocToma.post(spec.path, async (c) => {
    const body = await readJsonObject(c);
    const { values } = parseAttributes({ apiToken: "required" }, body);
    const caller = await authenticateRequest(c, values.apiToken, spec.scope, "apiToken", spec.traffic);
    return handle(c, { caller, input: parseAttributes(spec.attributes, body) });
  });
}

const PermitReference = z
  .object({
    status: z.literal("success"),
    reference_id: z.string().openapi({ example: "1a9b5375-cb75-4c71-9939-eeae550b09ac" }),
    InternalReferenceID: z.string().openapi({ example: "1a9b5375-cb75-4c71-9939-eeae550b09ac" }),
    disconnected: z
      .boolean()
      .openapi({ description: "True when the zone matched no lot zone of the site: the record is kept, flagged disconnected." }),
  })
  .openapi("PermitReference");

endpoint(
  {
    path: "/permits/push",
    operationId: "pushPermit",
    summary: "Permit Create (push) a paid or temporary permit",
    description:
      "Stores a temporary permit. Retries are safe: send an `Idempotency-Key` header (replayed for 24 hours; another request under the same key is 9022), or rely on the receipt key: a push whose permitNo (else TicketNumber), plate and start equal a live record answers that record's reference. A replayed answer carries `Idempotent-Replayed: true`.",
    scope: "push",
    traffic: "writes",
    attributes: pushAttributes,
    requestName: "PermitPush",
    headers: IdempotencyKeyHeader,
    response: { description: "Stored (or a retry of a stored push)", schema: PermitReference },
    errors: [400, 401, 403, 409, 413, 415],
  },
  async (c, { caller, input }) => {
    const permit = { ...toNewPermit(input, caller.site), type: "temp" as const, source: SOURCES.push };
    const key = idempotencyKey(c);
    const now = nowSeconds();
    const outcome = await pushPermit(d1Session(c), permit, {
      actor: caller.actor,
      now,
      idempotency: key === undefined ? undefined : { key, requestHash: await sha256Hex(JSON.stringify(permit)) },
    });
    if (!outcome.ok) {
      throw idempotencyConflict();
    }
    if (!outcome.created) c.header("Idempotent-Replayed", "true");
    if (outcome.write) c.executionCtx.waitUntil(publishPermitWrites(c.env, caller.site, [outcome.write]));
    return c.json({
      status: "success",
      reference_id: outcome.reference,
      InternalReferenceID: outcome.reference,
      disconnected: outcome.disconnected,
    });
  },
);

const PermitVersion = z
  .object({
    status: z.literal("success"),
    reference_id: z.string(),
    InternalReferenceID: z.string(),
    version: z.number().int().openapi({ description: "The record's version after this call (1 at creation, +1 per change)." }),
  })
  .openapi("PermitVersion");

/** The seed's success body for a reference, plus the version now stored; or the error of a write that did not happen. */
function written(reference: string, result: WriteResult, names: { reference: string; end?: string }) {
  if (!result.ok) {
    if (result.reason === "not-found") {
      throw new AppError(ErrorCode.NotFound, `No permit ${reference} on this site.`, { field: names.reference });
    }
    if (result.reason === "standard-permit") {
      const message = `Permit ${reference} is a standard (long-term) permit: only an admin can change or end it.`;
      throw new AppError(ErrorCode.NoPermission, message, { field: names.reference, status: 403 });
    }
    const end = names.end ?? "endTime";
    throw new AppError(ErrorCode.EndInvalid, `${end} must be after the permit's start.`, { field: end });
  }
  return { status: "success" as const, reference_id: reference, InternalReferenceID: reference, version: result.version };
}

endpoint(
  {
    path: "/permits/update",
    operationId: "updatePermit",
    summary: "Permit Update: change the plate, amount, currency or end of a permit",
    description:
      "Updates of one reference are applied one at a time in arrival order, each as the next version, kept in the permit's history. An update that changes nothing writes nothing and answers the current version. The new end must be after the record's start (9005). A reference that does not exist, belongs to another site or was deleted is 9009.",
    scope: "update",
    traffic: "writes",
    attributes: updateAttributes,
    requestName: "PermitUpdate",
    response: { description: "Updated", schema: PermitVersion },
    errors: [400, 401, 403, 404, 413, 415],
  },
  async (c, { caller, input }) => {
    const reference = input.values.referenceId;
    const result = await permitSequencer(c.env, reference).update({
      siteId: caller.site.id,
      reference,
      writer: "vendor",
      change: toPermitChange(input, caller.site),
      defaultCurrency: caller.site.currencies[0] ?? null,
      actor: caller.actor,
    });
    d1Session(c, result.bookmark);
    return c.json(written(reference, result, { reference: input.names.referenceId, end: input.names.endTime }));
  },
);

endpoint(
  {
    path: "/permits/delete",
    operationId: "deletePermit",
    summary: "Permit Delete",
    description:
      "Deletes a permit (it is kept, marked deleted, with its history). Deleting a permit already deleted answers success again with the same version, so a retried delete never fails.",
    scope: "delete",
    traffic: "writes",
    attributes: deleteAttributes,
    requestName: "PermitDelete",
    response: { description: "Deleted", schema: PermitVersion },
    errors: [400, 401, 403, 404, 413, 415],
  },
  async (c, { caller, input }) => {
    const reference = input.values.referenceId;
    const result = await permitSequencer(c.env, reference).remove({
      siteId: caller.site.id,
      reference,
      writer: "vendor",
      actor: caller.actor,
    });
    d1Session(c, result.bookmark);
    return c.json(written(reference, result, { reference: input.names.referenceId }));
  },
);

const PermitStats = z
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
  .openapi("PermitStats");

endpoint(
  {
    path: "/permits/stats",
    operationId: "permitStats",
    summary: "Permit Stats: permits active now, per lot zone and type",
    description:
      "Counts the permits active now (started, not ended, not deleted) per lot zone and type (`standard`, `temp`). Every requested lot zone gets both rows, even at zero; without `zones`, every lot zone of the site. Disconnected records are not counted. Requested names that are not lot zones are listed in `unknown_zones`.",
    scope: "stats",
    traffic: "reads",
    attributes: statsAttributes,
    requestName: "PermitStatsRequest",
    response: { description: "Counts", schema: PermitStats },
    errors: [400, 401, 403, 413, 415],
  },
  async (c, { caller, input }) => {
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
      d1Session(c),
      caller.site.id,
      requested.map((z) => z.id),
      nowSeconds(),
    );
    const totals = new Map(counts.map((r) => [`${r.lotZoneId}:${r.type}`, r.total]));
    const total = (zoneId: number, type: string) => totals.get(`${zoneId}:${type}`) ?? 0;
    const data = requested.flatMap((z) =>
      (["standard", "temp"] as const).map((type) => ({ type, zone: z.name, total: String(total(z.id, type)) })),
    );
    return c.json(unknown.length > 0 ? { data, unknown_zones: unknown } : { data });
  },
);
