import { type OpenAPIHono, z } from "@hono/zod-openapi";
import * as zm from "zod/mini";
import { seal } from "../../auth/sealed";
import { cacheKeys, invalidate } from "../../cache";
import {
  type AttemptRow,
  createEndpoint,
  type DeliveryRow,
  deleteEndpoint,
  type EndpointRow,
  eventsOf,
  findDelivery,
  findEndpoint,
  listAttempts,
  listDeliveries,
  listEndpoints,
  newEndpointId,
  previousSecretSigns,
  redeliver,
  rotateEndpointSecret,
  secretContext,
  updateEndpoint,
} from "../../db/webhooks";
import { formatWireTime, nowSeconds } from "../../domain/time";
import { MAX_ENDPOINTS_PER_SITE, PREVIOUS_SECRET_HOURS, WEBHOOK_EVENT_TYPES, WEBHOOK_EVENTS, WEBHOOK_URL_MAX } from "../../domain/webhooks";
import { AppError, ErrorCode } from "../../errors";
import { keysetCursor } from "../../http";
import { checkWebhookUrl } from "../../webhooks/address";
import { sendMessages } from "../../webhooks/publish";
import { newWebhookSecret } from "../../webhooks/signature";
import { documented } from "../operation";
import { HistoryEntry, PermitFields } from "../permit-view";
import { type AdminApp, type AdminContext, adminRoute, body, json, SiteParam, siteOf } from "./route";
import { ImportCountsView } from "./tasks";

const EventType = z.enum(WEBHOOK_EVENT_TYPES).openapi({
  description: Object.entries(WEBHOOK_EVENTS)
    .map(([type, meaning]) => `${type}: ${meaning}`)
    .join("\n"),
});

export const WebhookView = z
  .object({
    id: z.string().openapi({ example: "wh_0a1b2c3d4e5f6g7h" }),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(EventType),
    secretPrefix: z.string().openapi({ description: "The secret's first characters, to tell secrets apart." }),
    enabled: z.boolean(),
    disabledAt: z.string().nullable(),
    disabledReason: z
      .enum(["manual", "gone"])
      .nullable()
      .openapi({ description: "manual: an admin disabled it; gone: the receiver answered 410 Gone." }),
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .openapi({ description: "After a rotation, until when the previous secret still signs beside the new one." }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WebhookEndpoint");
export const NewWebhookView = WebhookView.extend({
  secret: z
    .string()
    .openapi({ description: "The signing secret (whsec_…). Shown once, never again.", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
}).openapi("NewWebhookEndpoint");
export const WebhookList = z.object({ endpoints: z.array(WebhookView) }).openapi("WebhookEndpointList");
export const WebhookDeleted = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("WebhookDeleted");

const Url = z.string().trim().min(1).max(WEBHOOK_URL_MAX).openapi({ example: "https://ops.example.com/webhooks/permits" });
const Events = z
  .array(EventType)
  .min(1)
  .refine((l) => new Set(l).size === l.length, "must not repeat an event type")
  .openapi({ example: ["permit.created", "permit.deleted"] });
const Description = z.string().trim().max(200).openapi({ example: "Revenue system" });

export const WebhookCreate = z.object({ url: Url, events: Events, description: Description.optional() });
export const WebhookUpdate = z
  .object({
    url: Url.optional(),
    events: Events.optional(),
    description: Description.nullable().optional().openapi({ description: "null clears it." }),
    enabled: z.boolean().optional().openapi({ description: "false disables the endpoint (nothing is sent to it); true enables it again." }),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "needs url, events, description or enabled");

export const DeliveryView = z
  .object({
    id: z.string().openapi({ example: "dl_3f0c9a1b2c3d4e5f" }),
    eventId: z.string().openapi({ description: "The webhook-id header: the same on every attempt.", example: "msg_5c1f…" }),
    eventType: EventType,
    state: z.enum(["pending", "delivered", "failed", "skipped"]).openapi({
      description:
        "pending: queued, or waiting for its next attempt; delivered: a 2xx came back; failed: the last attempt of its schedule failed (it went to the dead-letter queue), or the receiver answered 410; skipped: the endpoint was disabled when its turn came.",
    }),
    round: z.number().int().openapi({ description: "1, plus one per redelivery by hand." }),
    attempts: z.number().int().openapi({ description: "Attempts made, every round." }),
    createdAt: z.string(),
    lastAttemptAt: z.string().nullable(),
    lastStatus: z.number().int().nullable().openapi({ description: "The last answer's HTTP status; null when none came." }),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable().openapi({ description: "When a pending delivery is attempted next (about)." }),
    finishedAt: z.string().nullable(),
  })
  .openapi("WebhookDelivery");
export const AttemptView = z
  .object({
    number: z.number().int(),
    round: z.number().int(),
    at: z.string(),
    status: z.number().int().nullable(),
    durationMs: z.number().int(),
    error: z.string().nullable(),
    response: z.string().nullable().openapi({ description: "The first 500 characters of the receiver's answer." }),
  })
  .openapi("WebhookAttempt");
export const DeliveryDetail = DeliveryView.extend({
  payload: z.unknown().openapi({ description: "The body every attempt sends: {type, timestamp, data}." }),
  attemptLog: z.array(AttemptView),
}).openapi("WebhookDeliveryDetail");
export const DeliveryList = z
  .object({ deliveries: z.array(DeliveryView), nextCursor: z.string().nullable() })
  .openapi("WebhookDeliveryList");
export const DeliveryQuery = z.object({
  state: z
    .enum(["pending", "delivered", "failed", "skipped"])
    .optional()
    .openapi({ description: "Only the deliveries in this state (all of them without it)." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: "How many deliveries, newest first: 1 to 100.", format: "int32", example: 20 }),
  cursor: z.string().max(100).optional().openapi({ description: "The nextCursor of the previous page." }),
});

const webhookView = (e: EndpointRow): z.infer<typeof WebhookView> => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: eventsOf(e),
  secretPrefix: e.secretPrefix,
  enabled: e.disabledAt === null,
  disabledAt: formatWireTime(e.disabledAt),
  disabledReason: e.disabledReason,
  previousSecretExpiresAt: previousSecretSigns(e, nowSeconds()) ? formatWireTime(e.previousSecretExpiresAt) : null,
  createdAt: formatWireTime(e.createdAt),
  updatedAt: formatWireTime(e.updatedAt),
});

const deliveryView = (d: DeliveryRow): z.infer<typeof DeliveryView> => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType as z.infer<typeof EventType>,
  state: d.state,
  round: d.round,
  attempts: d.attempts,
  createdAt: formatWireTime(d.createdAt),
  lastAttemptAt: formatWireTime(d.lastAttemptAt),
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  nextAttemptAt: d.state === "pending" ? formatWireTime(d.nextAttemptAt) : null,
  finishedAt: formatWireTime(d.finishedAt),
});

const attemptView = (a: AttemptRow): z.infer<typeof AttemptView> => ({
  number: a.number,
  round: a.round,
  at: formatWireTime(a.at),
  status: a.status,
  durationMs: a.durationMs,
  error: a.error,
  response: a.response,
});

const WebhookParam = z.object({
  id: z
    .string()
    .max(100)
    .openapi({ param: { name: "id", in: "path" }, description: "The webhook endpoint's id.", example: "wh_0a1b2c3d4e5f6g7h" }),
});
const DeliveryParam = WebhookParam.extend({
  delivery: z
    .string()
    .max(100)
    .openapi({ param: { name: "delivery", in: "path" }, description: "The delivery's id.", example: "dl_3f0c9a1b2c3d4e5f" }),
});

/** The endpoint in the path, if the caller may manage its site; 9009 otherwise (another site's answers as a missing one). */
async function endpointOf(c: AdminContext, id: string): Promise<EndpointRow> {
  const caller = c.get("admin");
  const row = await findEndpoint(c.env.DB, id);
  if (!row || (caller.kind === "site" && caller.siteId !== row.siteId)) throw noEndpoint(id);
  return row;
}

/** 9009 (404) for an endpoint that does not exist, or no longer does (deleted while a write to it was under way). */
const noEndpoint = (id: string) => new AppError(ErrorCode.NotFound, `Webhook endpoint ${id} does not exist.`, { field: "id" });

/** The URL as the rule allows it (9033 naming `url` and the rule otherwise). */
function allowedUrl(c: AdminContext, url: string): string {
  const check = checkWebhookUrl(url, c.env.WEBHOOKS_ALLOW_LOCALHOST === "true");
  if (!check.ok) throw new AppError(ErrorCode.Invalid, `url ${check.rule}.`, { field: "url" });
  return check.url.href;
}

/** A new secret, sealed for the endpoint, and its prefix. */
async function sealedSecret(c: AdminContext, id: string) {
  const secret = newWebhookSecret();
  return { secret, sealed: await seal(c.env.SETTINGS_KEY, secret, secretContext(id)), prefix: secret.slice(0, 10) };
}

/** The delivery log's pages: by creation, then id. */
const CURSOR = keysetCursor("dl_[0-9a-f]{16}", "nextCursor");

/**
 * What a permit or session event's `data` holds: the site, the permit as the admin API shows it, and the change. In
 * zod/mini, as the permit's fields are (routes/permit-view.ts).
 */
const PermitEventData = zm
  .object({
    site: zm.string().check(zm.meta({ description: "The site's slug." })),
    permit: PermitFields.check(zm.meta({ description: "The permit at the version the event is about, as the admin API shows it." })),
    change: HistoryEntry.check(zm.meta({ description: "The history entry of that version." })),
  })
  .check(zm.meta({ id: "PermitEventData" }));

/** What an import event's `data` holds: the site and the run, as the run log shows it. */
const ImportEventData = z
  .object({
    site: z.string(),
    task: z.literal("parkmobile"),
    run: z.object({
      number: z.number().int(),
      trigger: z.enum(["cron", "manual"]),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
      outcome: z.enum(["succeeded", "partial", "failed"]),
      message: z.string().nullable(),
      counts: ImportCountsView,
      rejections: z.array(z.object({ parkingRightId: z.union([z.string(), z.number()]).nullable(), reason: z.string() })),
    }),
  })
  .openapi("ImportEventData");

const SignatureHeaders = z.object({
  "webhook-id": z.string().openapi({ description: "The event's id (msg_…): the same on every attempt. Deduplicate on it." }),
  "webhook-timestamp": z.string().openapi({ description: "Unix seconds of this attempt." }),
  "webhook-signature": z.string().openapi({
    description: `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" under the secret's bytes>; two, space-separated, for ${PREVIOUS_SECRET_HOURS} hours after a rotation.`,
  }),
});

/**
 * Declares the events in the OpenAPI document's `webhooks` (OpenAPI 3.1): what each delivery posts, signed as
 * Standard Webhooks says. On the root app's registry: a mounted app's webhooks would be named under its path.
 */
export function documentWebhookEvents(registry: OpenAPIHono["openAPIRegistry"]) {
  for (const type of WEBHOOK_EVENT_TYPES) {
    const timestamp = "When it happened (RFC 3339, UTC).";
    const event = type.startsWith("import.")
      ? body(z.object({ type: z.literal(type), timestamp: z.string().openapi({ description: timestamp }), data: ImportEventData }))
      : {
          required: true,
          content: {
            "application/json": {
              schema: documented(
                zm.object({
                  type: zm.literal(type),
                  timestamp: zm.string().check(zm.meta({ description: timestamp })),
                  data: PermitEventData,
                }),
                "output",
              ),
            },
          },
        };
    registry.registerWebhook({
      method: "post",
      path: type,
      operationId: `webhook_${type.replace(".", "_")}`,
      tags: ["Webhooks"],
      // Sent by this server, not called by a client: the receiver checks the signature headers, no credential.
      security: [],
      summary: WEBHOOK_EVENTS[type],
      description:
        "Posted to every enabled endpoint of the site that lists this type. Answer 2xx within 15 s; 410 disables the endpoint; anything else is retried.",
      request: {
        headers: SignatureHeaders,
        body: event,
      },
      responses: { 200: { description: "Taken (any 2xx)" }, 410: { description: "Gone: the endpoint is disabled" } },
    });
  }
}

/** A site's webhook endpoints (register, list, change, enable, disable, rotate, delete) and their deliveries (list, read, redeliver). */
export function registerWebhookRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/webhooks",
      operationId: "listWebhooks",
      summary: "List a site's webhook endpoints (never their secrets)",
      request: { params: SiteParam },
      responses: { 200: json(WebhookList, "Endpoints, oldest first") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json({ endpoints: (await listEndpoints(c.env.DB, site.id)).map(webhookView) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/webhooks",
      operationId: "createWebhook",
      summary: "Register a webhook endpoint; its signing secret is in this answer only",
      description: `The endpoint receives the site's events of the types it lists, signed as Standard Webhooks says with its secret. The URL must be https to a public host: a private, loopback, link-local or otherwise special address (or a name for one, such as localhost) is 9033. At most ${MAX_ENDPOINTS_PER_SITE} endpoints per site (9030).`,
      request: { params: SiteParam, body: body(WebhookCreate) },
      responses: { 201: json(NewWebhookView, "Registered") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const input = c.req.valid("json");
      const url = allowedUrl(c, input.url);
      const id = newEndpointId();
      const { secret, sealed, prefix } = await sealedSecret(c, id);
      const row = await createEndpoint(
        c.env.DB,
        {
          id,
          siteId: site.id,
          url,
          description: input.description || null,
          events: input.events,
          sealedSecret: sealed,
          secretPrefix: prefix,
        },
        nowSeconds(),
      );
      if (!row) {
        throw new AppError(
          ErrorCode.TooLong,
          `Site ${site.slug} already has ${MAX_ENDPOINTS_PER_SITE} webhook endpoints, the most it may.`,
          {
            field: "site",
          },
        );
      }
      await invalidate(c.env.CACHE, cacheKeys.site(site.id));
      return c.json({ ...webhookView(row), secret }, 201);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/webhooks/{id}",
      operationId: "getWebhook",
      summary: "Read a webhook endpoint",
      request: { params: WebhookParam },
      responses: { 200: json(WebhookView, "The endpoint") },
      errors: [400, 404],
    }),
    async (c) => c.json(webhookView(await endpointOf(c, c.req.valid("param").id)), 200),
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/webhooks/{id}",
      operationId: "updateWebhook",
      summary: "Change a webhook endpoint's URL, events or description; disable or enable it",
      description:
        "`enabled: false` disables it: no event is sent to it, and deliveries whose turn comes meanwhile are skipped (redeliver them by hand). `enabled: true` enables it again, also after the receiver answered 410.",
      request: { params: WebhookParam, body: body(WebhookUpdate) },
      responses: { 200: json(WebhookView, "Changed") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const endpoint = await endpointOf(c, c.req.valid("param").id);
      const input = c.req.valid("json");
      const row = await updateEndpoint(
        c.env.DB,
        endpoint.id,
        {
          url: input.url === undefined ? undefined : allowedUrl(c, input.url),
          events: input.events,
          description: input.description === undefined ? undefined : input.description || null,
          enabled: input.enabled,
        },
        nowSeconds(),
      );
      if (!row) throw noEndpoint(endpoint.id);
      await invalidate(c.env.CACHE, cacheKeys.site(endpoint.siteId));
      return c.json(webhookView(row), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/webhooks/{id}/rotate",
      operationId: "rotateWebhookSecret",
      summary: `Give a webhook endpoint a new signing secret; the old one keeps signing beside it for ${PREVIOUS_SECRET_HOURS} hours`,
      description: `For ${PREVIOUS_SECRET_HOURS} hours every delivery carries two signatures (\`v1,<new> v1,<old>\`), so the receiver can switch to the new secret without losing a message; after that only the new one signs.`,
      request: { params: WebhookParam },
      responses: { 200: json(NewWebhookView, "Rotated") },
      errors: [400, 404],
    }),
    async (c) => {
      const endpoint = await endpointOf(c, c.req.valid("param").id);
      const { secret, sealed, prefix } = await sealedSecret(c, endpoint.id);
      const row = await rotateEndpointSecret(c.env.DB, endpoint.id, { sealed, prefix }, nowSeconds());
      if (!row) throw noEndpoint(endpoint.id);
      return c.json({ ...webhookView(row), secret }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "delete",
      path: "/webhooks/{id}",
      operationId: "deleteWebhook",
      summary: "Delete a webhook endpoint with its delivery log",
      request: { params: WebhookParam },
      responses: { 200: json(WebhookDeleted, "Deleted") },
      errors: [400, 404],
    }),
    async (c) => {
      const endpoint = await endpointOf(c, c.req.valid("param").id);
      if (!(await deleteEndpoint(c.env.DB, endpoint.id))) throw noEndpoint(endpoint.id);
      await invalidate(c.env.CACHE, cacheKeys.site(endpoint.siteId));
      return c.json({ id: endpoint.id, deleted: true as const }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/webhooks/{id}/deliveries",
      operationId: "listWebhookDeliveries",
      summary: "An endpoint's deliveries, newest first",
      description: "Filter by `state`; pages of `limit` (1 to 100, default 20): pass `nextCursor` as `cursor` until it is null.",
      request: { params: WebhookParam, query: DeliveryQuery },
      responses: { 200: json(DeliveryList, "A page of deliveries") },
      errors: [400, 404],
    }),
    async (c) => {
      const endpoint = await endpointOf(c, c.req.valid("param").id);
      const q = c.req.valid("query");
      const after = q.cursor === undefined ? undefined : CURSOR.decode(q.cursor);
      const { rows, hasMore } = await listDeliveries(c.env.DB, endpoint.id, {
        state: q.state,
        limit: q.limit,
        after: after && { createdAt: after.key, id: after.id },
      });
      const last = rows.at(-1);
      return c.json(
        { deliveries: rows.map(deliveryView), nextCursor: hasMore && last ? CURSOR.encode(last.createdAt, last.id) : null },
        200,
      );
    },
  );

  /** The delivery in the path, of the endpoint in the path; 9009 otherwise. */
  async function deliveryOf(c: AdminContext, params: { id: string; delivery: string }) {
    const endpoint = await endpointOf(c, params.id);
    const delivery = await findDelivery(c.env.DB, params.delivery);
    if (!delivery || delivery.endpointId !== endpoint.id) {
      throw new AppError(ErrorCode.NotFound, `Webhook endpoint ${endpoint.id} has no delivery ${params.delivery}.`, { field: "delivery" });
    }
    return { endpoint, delivery };
  }

  app.openapi(
    adminRoute({
      method: "get",
      path: "/webhooks/{id}/deliveries/{delivery}",
      operationId: "getWebhookDelivery",
      summary: "A delivery with its payload and every attempt (time, status, duration, error)",
      request: { params: DeliveryParam },
      responses: { 200: json(DeliveryDetail, "The delivery") },
      errors: [400, 404],
    }),
    async (c) => {
      const { delivery } = await deliveryOf(c, c.req.valid("param"));
      const attempts = await listAttempts(c.env.DB, delivery.id);
      return c.json({ ...deliveryView(delivery), payload: JSON.parse(delivery.body), attemptLog: attempts.map(attemptView) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/webhooks/{id}/deliveries/{delivery}/redeliver",
      operationId: "redeliverWebhook",
      summary: "Send a delivery again now, with the same webhook-id, on a fresh retry schedule",
      description:
        "Whatever its state: a new round starts (attempted at once, retried on the schedule if it fails); an attempt of an earlier round still waiting is dropped when its turn comes. The endpoint must be enabled (9033).",
      request: { params: DeliveryParam },
      responses: { 202: json(DeliveryView, "Queued") },
      errors: [400, 404],
    }),
    async (c) => {
      const { endpoint, delivery } = await deliveryOf(c, c.req.valid("param"));
      if (endpoint.disabledAt !== null) {
        throw new AppError(ErrorCode.Invalid, `Webhook endpoint ${endpoint.id} is disabled: enable it before redelivering.`, {
          field: "id",
        });
      }
      const row = await redeliver(c.env.DB, delivery.id, delivery.round, nowSeconds());
      // Another redelivery of it won the race: that one is under way.
      if (!row) return c.json(deliveryView((await findDelivery(c.env.DB, delivery.id)) ?? delivery), 202);
      try {
        await sendMessages(c.env.WEBHOOKS, [{ kind: "delivery", deliveryId: row.id, round: row.round }]);
      } catch {
        throw new AppError(ErrorCode.Internal, "The redelivery could not be queued; try again.", { status: 503 });
      }
      return c.json(deliveryView(row), 202);
    },
  );
}
