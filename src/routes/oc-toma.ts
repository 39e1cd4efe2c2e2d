import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { authenticate } from "../auth/authenticate";
import type { Scope } from "../auth/scopes";
import { sha256Hex } from "../auth/secrets";
import { IdempotencyConflict, pushPermit } from "../db/permits";
import { type EndpointAttributes, parseAttributes, requestSchema } from "../domain/attributes";
import { pushAttributes, toNewPermit } from "../domain/push";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode, errorCatalogue } from "../errors";
import { type AppEnv, bodyTooLarge, MAX_BODY_BYTES, readJsonObject } from "../http";

/** OPS-COM's OC-TOMA v1 permits API, mounted at /api/OC-TOMA/v1. */
export const ocToma = new OpenAPIHono<AppEnv>();

ocToma.use(bodyLimit({ maxSize: MAX_BODY_BYTES, onError: bodyTooLarge }));

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
  let outcome: Awaited<ReturnType<typeof pushPermit>>;
  try {
    outcome = await pushPermit(c.env.DB, permit, {
      actor: `token:${caller.grant.tokenId}`,
      tokenId: caller.grant.tokenId,
      now: nowSeconds(),
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

const errors = (statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: "An OPS-COM error", content: { "application/json": { schema: errorBody } } }]));

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
