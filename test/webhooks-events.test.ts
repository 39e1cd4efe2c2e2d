import { env } from "cloudflare:workers";
import { describe, expect, inject, it, vi } from "vitest";
import { adminCall, bearer, call, newSite, ocTomaOk, post, pushed, seedPush, sessionSite } from "./helpers";
import { payload, type Received, received, receivedWhen, receiverUrl, registerEndpoint } from "./webhook-receiver";

// Events end to end: the request that causes one enqueues it, the Worker's own queue consumer fans it out and
// delivers it, and the receiver stand-in verifies its signature with the Standard Webhooks library.

type Json = Record<string, unknown>;
const types = (list: Received[]) => list.map((r) => r.type);
const START = "2026-01-05T08:00:00";

describe("each write path publishes its events", () => {
  it("a push: permit.created, carrying the permit as the admin API shows it and the change; a retried push sends nothing", async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug);
    const reference = await pushed(site.token, { startTime: START, endTime: "2026-01-05T09:00:00" });
    const [got] = await receivedWhen(endpoint.path, (l) => l.length > 0);
    expect(got).toMatchObject({ type: "permit.created", verified: true, answered: 200 });
    const body = payload(got as Received);
    expect(body.type).toBe("permit.created");
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.data).toMatchObject({
      site: site.slug,
      permit: {
        reference_id: reference,
        type: "temp",
        source: "push",
        plate: "PL8RDR",
        plateNormalized: "PL8RDR",
        zone: "Lot 4",
        lotZone: "Lot 4",
        disconnected: false,
        amount: "14.50",
        currency: "CAD",
        start: START,
        end: "2026-01-05T09:00:00",
        permitNo: "L4-1138",
        promoCode: "DISCOUNT20",
        version: 1,
        deleted: false,
      },
      change: { version: 1, action: "create", actor: `token:${site.tokenId}` },
    });
    expect((body.data.change as Json).changes).toMatchObject({ plate: [null, "PL8RDR"], amount: [null, "14.50"], start: [null, START] });
    // The permit as the admin API shows it, field for field (its status aside, which is of the moment it is read).
    const shown = (await (await adminCall("GET", `/permits/${reference}`)).json()) as Json;
    const { history: _history, site: _site, status: _status, ...fields } = shown;
    expect(body.data.permit).toMatchObject(fields);

    // The same push again is answered from the first record: no new event.
    await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(site.token), startTime: START, endTime: "2026-01-05T09:00:00" });
    await pushed(site.token, { permitNo: "L4-2", startTime: START, endTime: "2026-01-05T09:00:00" });
    const after = await receivedWhen(endpoint.path, (l) => l.length >= 2);
    expect(after).toHaveLength(2);
    expect(new Set(after.map((r) => r.id)).size).toBe(2);
  });

  it("OC-TOMA update and delete: permit.updated with what changed, then permit.deleted", async () => {
    const site = await newSite();
    const reference = await pushed(site.token);
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.updated", "permit.deleted"] });
    await ocTomaOk("update", { apiToken: site.token, referenceID: reference, Amount: "16.00" });
    await ocTomaOk("delete", { apiToken: site.token, referenceID: reference });
    const got = await receivedWhen(endpoint.path, (l) => l.length >= 2);
    const byType = Object.fromEntries(got.map((r) => [r.type, payload(r).data]));
    expect(byType["permit.updated"]).toMatchObject({
      permit: { reference_id: reference, amount: "16.00", version: 2 },
      change: { version: 2, action: "update", changes: { amount: ["14.50", "16.00"] } },
    });
    expect(byType["permit.deleted"]).toMatchObject({
      permit: { reference_id: reference, version: 3, deleted: true, status: "deleted" },
      change: { version: 3, action: "delete" },
    });
    expect(got.every((r) => r.verified)).toBe(true);
  });

  it("a session: started, extended, stopped, each also a permit event, with the client as actor and source", async () => {
    const s = await sessionSite();
    const endpoint = await registerEndpoint(s.slug);
    const started = await post("/api/v1/sessions", { zone_number: "104", license_plate: "ABC 1234", duration: 60 }, bearer(s.access));
    const { session_id: id } = (await started.json()) as { session_id: string };
    expect(started.status).toBe(201);
    expect((await post(`/api/v1/sessions/${id}/extend`, { duration: 30 }, bearer(s.access))).status).toBe(200);
    expect((await post(`/api/v1/sessions/${id}/stop`, {}, bearer(s.access))).status).toBe(200);
    const got = await receivedWhen(endpoint.path, (l) => l.length >= 6);
    expect(types(got).sort()).toEqual(
      ["permit.created", "permit.updated", "permit.updated", "session.extended", "session.started", "session.stopped"].sort(),
    );
    const of = (type: string) => payload(got.find((r) => r.type === type) as Received).data;
    expect(of("session.started")).toMatchObject({
      permit: { reference_id: id, source: "ParkOnce", zone: "Lot 4", amount: "2.50", version: 1 },
      change: { action: "create", actor: `oauth:${s.client.clientId}` },
    });
    expect(of("session.extended")).toMatchObject({
      permit: { version: 2, amount: "3.75" },
      change: { changes: { amount: ["2.50", "3.75"] } },
    });
    expect(of("session.stopped")).toMatchObject({ permit: { version: 3, stoppedAt: expect.any(String) } });
    // The driver's e-mail is the client's alone: never in an event.
    const withEmail = await post(
      "/api/v1/sessions",
      { zone_number: "104", license_plate: "MAIL 1", duration: 30, receipt_email: "driver@example.com" },
      bearer(s.access),
    );
    expect(withEmail.status).toBe(201);
    const all = await receivedWhen(endpoint.path, (l) => l.length >= 8);
    expect(all.map((r) => r.body).join("")).not.toContain("driver@example.com");
    // Each event of a version has its own id; both events of one write are the same version.
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
  });

  it("standard permits created and ended by an admin", async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.created", "permit.deleted"] });
    const res = await adminCall("POST", `/sites/${site.slug}/permits`, {
      permits: [
        { plate: "STD 1", zone: "Lot 4", startTime: START, endTime: "2027-01-05T08:00:00", permitNo: "S-1" },
        { plate: "STD 2", zone: "Lot 01", startTime: START, endTime: "2027-01-05T08:00:00", permitNo: "S-2" },
      ],
    });
    const { references } = (await res.json()) as { references: string[] };
    expect(references).toHaveLength(2);
    expect((await adminCall("DELETE", `/sites/${site.slug}/permits/${references[0]}`)).status).toBe(200);
    const got = await receivedWhen(endpoint.path, (l) => l.length >= 3);
    expect(types(got).sort()).toEqual(["permit.created", "permit.created", "permit.deleted"]);
    const created = got.filter((r) => r.type === "permit.created").map((r) => payload(r).data as { permit: Json; change: Json });
    expect(created.map((d) => d.permit.plate).sort()).toEqual(["STD 1", "STD 2"]);
    expect(created[0]).toMatchObject({ permit: { type: "standard", source: "admin" }, change: { actor: "admin", action: "create" } });
    expect(payload(got.find((r) => r.type === "permit.deleted") as Received).data).toMatchObject({
      permit: { reference_id: references[0], type: "standard" },
      change: { actor: "admin" },
    });
    // Importing the same rows again creates nothing, and publishes nothing.
    await adminCall("POST", `/sites/${site.slug}/permits`, {
      permits: [{ plate: "STD 2", zone: "Lot 01", startTime: START, endTime: "2027-01-05T08:00:00", permitNo: "S-2" }],
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await received(endpoint.path)).toHaveLength(3);
  });

  it("the ParkMobile import: permit.created per right imported, then import.finished; a run that fails: import.failed", async () => {
    const { url, credentials } = inject("parkMobile");
    const site = await newSite({ zones: ["4410", "4411"] });
    expect((await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { ...credentials, baseUrl: url })).status).toBe(200);
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.created", "import.finished", "import.failed"] });
    const run = (await (await adminCall("POST", `/sites/${site.slug}/tasks/parkmobile/run`)).json()) as {
      outcome: string;
      counts: { created: number };
    };
    expect(run.outcome).toBe("succeeded");
    const created = run.counts.created;
    expect(created).toBeGreaterThan(0);
    const got = await receivedWhen(endpoint.path, (l) => l.length >= created + 1);
    expect(got.filter((r) => r.type === "permit.created")).toHaveLength(created);
    const finished = payload(got.find((r) => r.type === "import.finished") as Received).data;
    expect(finished).toMatchObject({
      site: site.slug,
      task: "parkmobile",
      run: { number: 1, trigger: "manual", outcome: "succeeded", counts: { created, skippedZones: ["9999"] } },
    });
    expect(payload(got.find((r) => r.type === "permit.created") as Received).data).toMatchObject({
      permit: { source: "ParkMobile", type: "temp" },
      change: { actor: "job:parkmobile" },
    });
    // The same rights again: nothing changed, nothing published but the run's end.
    await adminCall("POST", `/sites/${site.slug}/tasks/parkmobile/run`);
    const again = await receivedWhen(endpoint.path, (l) => l.filter((r) => r.type === "import.finished").length >= 2);
    expect(again.filter((r) => r.type === "permit.created")).toHaveLength(created);

    expect((await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { password: "wrong" })).status).toBe(200);
    const failed = (await (await adminCall("POST", `/sites/${site.slug}/tasks/parkmobile/run`)).json()) as { outcome: string };
    expect(failed.outcome).toBe("failed");
    const last = await receivedWhen(endpoint.path, (l) => l.some((r) => r.type === "import.failed"));
    expect(payload(last.find((r) => r.type === "import.failed") as Received).data).toMatchObject({ run: { number: 3, outcome: "failed" } });
  });
});

describe("who gets what", () => {
  it("an endpoint gets only the types it asked for; each endpoint of the site gets its own delivery of one event id", async () => {
    const site = await newSite();
    const creates = await registerEndpoint(site.slug, { events: ["permit.created"] });
    const deletes = await registerEndpoint(site.slug, { events: ["permit.deleted"] });
    const both = await registerEndpoint(site.slug, { events: ["permit.created", "permit.deleted"] });
    const reference = await pushed(site.token);
    await ocTomaOk("delete", { apiToken: site.token, referenceID: reference });
    const all = await receivedWhen(both.path, (l) => l.length >= 2);
    expect(types(all).sort()).toEqual(["permit.created", "permit.deleted"]);
    expect(types(await receivedWhen(creates.path, (l) => l.length >= 1))).toEqual(["permit.created"]);
    expect(types(await receivedWhen(deletes.path, (l) => l.length >= 1))).toEqual(["permit.deleted"]);
    const created = all.find((r) => r.type === "permit.created");
    expect((await received(creates.path))[0]?.id).toBe(created?.id);
  });

  it("a disabled endpoint gets nothing; enabled again, it gets what comes next", async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.created"] });
    await adminCall("PATCH", `/webhooks/${endpoint.id}`, { enabled: false });
    await pushed(site.token, { permitNo: "D-1" });
    await adminCall("PATCH", `/webhooks/${endpoint.id}`, { enabled: true });
    await pushed(site.token, { permitNo: "D-2" });
    const got = await receivedWhen(endpoint.path, (l) => l.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await received(endpoint.path)).map((r) => (payload(r).data.permit as Json).permitNo)).toEqual(["D-2"]);
    expect(got).toHaveLength(1);
  });

  it("a site without endpoints enqueues nothing: the push answers as before, and the queue never sees it", async () => {
    const site = await newSite();
    const sends = vi.spyOn(env.WEBHOOKS, "sendBatch");
    try {
      await pushed(site.token, { permitNo: "Q-1" });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(sends).not.toHaveBeenCalled();
      await registerEndpoint(site.slug, { events: ["permit.deleted"] });
      // Subscribed to another type only: still nothing for a creation.
      await pushed(site.token, { permitNo: "Q-2" });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(sends).not.toHaveBeenCalled();
      // The spy sees the Worker's sends: a subscribed type is enqueued.
      await registerEndpoint(site.slug, { events: ["permit.created"] });
      await pushed(site.token, { permitNo: "Q-3" });
      await expect.poll(() => sends.mock.calls.length).toBeGreaterThan(0);
    } finally {
      sends.mockRestore();
    }
  });
});

describe("retries through the queue", () => {
  it("keep the webhook-id: a receiver that fails once gets the same message again, 5 s later, and takes it", {
    timeout: 20_000,
  }, async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug, { query: "?fail=1", events: ["permit.created"] });
    await pushed(site.token);
    const got = await receivedWhen(endpoint.path, (l) => l.length >= 2, 15_000);
    expect(got.map((r) => r.answered)).toEqual([503, 200]);
    expect(got[0]?.id).toBe(got[1]?.id);
    expect(got[0]?.body).toBe(got[1]?.body);
    expect(got.every((r) => r.verified)).toBe(true);
    expect(Number(got[1]?.timestamp) - Number(got[0]?.timestamp)).toBeGreaterThanOrEqual(5);
    const deliveries = (await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries`)).json()) as { deliveries: Json[] };
    expect(deliveries.deliveries).toEqual([
      expect.objectContaining({ state: "delivered", attempts: 2, lastStatus: 200, eventId: got[0]?.id }),
    ]);
  });
});

describe("the delivery log", () => {
  it("lists deliveries newest first, by state, a page at a time; a delivery shows its payload and every attempt", async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.created"] });
    for (const n of [1, 2, 3]) await pushed(site.token, { permitNo: `LOG-${n}` });
    await receivedWhen(endpoint.path, (l) => l.length >= 3);
    const log = async (query = "") => (await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries${query}`)).json()) as Json;
    await expect.poll(async () => ((await log("?state=delivered")).deliveries as unknown[]).length).toBe(3);
    const first = (await log("?limit=2")) as { deliveries: Json[]; nextCursor: string };
    expect(first.deliveries).toHaveLength(2);
    const second = (await log(`?limit=2&cursor=${first.nextCursor}`)) as { deliveries: Json[]; nextCursor: string | null };
    expect(second.deliveries).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.deliveries, ...second.deliveries].map((d) => d.id);
    expect(new Set(ids).size).toBe(3);
    expect(((await log("?state=failed")) as { deliveries: unknown[] }).deliveries).toEqual([]);

    const one = (await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries/${ids[0]}`)).json()) as Json;
    expect(one).toMatchObject({ id: ids[0], state: "delivered", attempts: 1, payload: { type: "permit.created" } });
    expect(one.attemptLog).toEqual([
      { number: 1, round: 1, at: expect.any(String), status: 200, durationMs: expect.any(Number), error: null, response: "ok\n" },
    ]);

    const bad = await adminCall("GET", `/webhooks/${endpoint.id}/deliveries?cursor=nonsense`);
    expect(await bad.json()).toMatchObject({ ErrorCode: 9033, field: "cursor" });
    expect(await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries?state=lost`)).json()).toMatchObject({
      ErrorCode: 9033,
      field: "state",
    });
    expect(await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries?limit=0`)).json()).toMatchObject({
      ErrorCode: 9032,
      field: "limit",
    });
  });

  it("a delivery of another endpoint, or none, is 9009; an endpoint that is disabled cannot redeliver (9033)", async () => {
    const site = await newSite();
    const a = await registerEndpoint(site.slug, { events: ["permit.created"] });
    const b = await registerEndpoint(site.slug, { events: ["permit.created"] });
    await pushed(site.token);
    await receivedWhen(a.path, (l) => l.length >= 1);
    await receivedWhen(b.path, (l) => l.length >= 1);
    const [ofA] = ((await (await adminCall("GET", `/webhooks/${a.id}/deliveries`)).json()) as { deliveries: Json[] }).deliveries;
    for (const res of [
      await adminCall("GET", `/webhooks/${b.id}/deliveries/${ofA?.id}`),
      await adminCall("POST", `/webhooks/${b.id}/deliveries/${ofA?.id}/redeliver`),
      await adminCall("GET", `/webhooks/${a.id}/deliveries/dl_0000000000000000`),
    ]) {
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ ErrorCode: 9009, field: "delivery" });
    }
    await adminCall("PATCH", `/webhooks/${a.id}`, { enabled: false });
    const res = await adminCall("POST", `/webhooks/${a.id}/deliveries/${ofA?.id}/redeliver`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ErrorCode: 9033, field: "id" });
  });

  it("redelivers by hand: the same webhook-id again, a new round in the log", async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.created"] });
    await pushed(site.token);
    const [first] = await receivedWhen(endpoint.path, (l) => l.length >= 1);
    const [delivery] = ((await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries`)).json()) as { deliveries: Json[] })
      .deliveries;
    await expect
      .poll(
        async () =>
          ((await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries`)).json()) as { deliveries: Json[] }).deliveries[0]?.state,
      )
      .toBe("delivered");
    const res = await adminCall("POST", `/webhooks/${endpoint.id}/deliveries/${delivery?.id}/redeliver`);
    expect(res.status).toBe(202);
    const again = await receivedWhen(endpoint.path, (l) => l.length >= 2);
    expect(again[1]).toMatchObject({ id: first?.id, body: first?.body, verified: true });
    await expect
      .poll(async () => ((await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries/${delivery?.id}`)).json()) as Json).attemptLog)
      .toMatchObject([
        { round: 1, status: 200 },
        { round: 2, status: 200 },
      ]);
  });
});

describe("the OpenAPI document", () => {
  type Schema = {
    properties?: Record<string, Schema>;
    required?: string[];
    $ref?: string;
    allOf?: Schema[];
    const?: unknown;
    enum?: unknown[];
  };
  type Doc = {
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
    webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: Schema }> }; parameters: { name: string }[] } }>;
    components: { schemas: Record<string, Schema> };
  };
  const deref = (d: Doc, s: Schema): Schema => {
    if (s.$ref) return deref(d, d.components.schemas[s.$ref.split("/").pop() as string] as Schema);
    if (!s.allOf) return s;
    const parts = s.allOf.map((p) => deref(d, p));
    return {
      properties: Object.assign({}, s.properties, ...parts.map((p) => p.properties)),
      required: parts.flatMap((p) => p.required ?? []),
    };
  };
  /** Every key of the value is documented, every required key is there, down the documented objects. */
  const conforms = (d: Doc, schema: Schema, value: Json, where = "body") => {
    const s = deref(d, schema);
    expect(
      Object.keys(value).filter((k) => !(k in (s.properties ?? {}))),
      where,
    ).toEqual([]);
    for (const key of s.required ?? []) expect(value, `${where}.${key}`).toHaveProperty(key);
    for (const [key, sub] of Object.entries(s.properties ?? {})) {
      const v = value[key];
      const inner = deref(d, sub);
      if (inner.properties && v && typeof v === "object" && !Array.isArray(v)) conforms(d, inner, v as Json, `${where}.${key}`);
    }
  };
  const doc = async () => (await (await call("/openapi.json")).json()) as Doc;

  it("declares every event type under `webhooks`, with its signature headers, and what is delivered matches it", async () => {
    const d = await doc();
    expect(Object.keys(d.webhooks)).toEqual([
      "permit.created",
      "permit.updated",
      "permit.deleted",
      "session.started",
      "session.extended",
      "session.stopped",
      "import.finished",
      "import.failed",
    ]);
    for (const hook of Object.values(d.webhooks)) {
      expect(hook.post.parameters.map((p) => p.name)).toEqual(["webhook-id", "webhook-timestamp", "webhook-signature"]);
    }
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.created"] });
    await pushed(site.token);
    const [got] = await receivedWhen(endpoint.path, (l) => l.length >= 1);
    const schema = d.webhooks["permit.created"]?.post.requestBody.content["application/json"]?.schema as Schema;
    conforms(d, schema, payload(got as Received) as unknown as Json);
  });

  it("describes the webhook admin answers actually sent", async () => {
    const d = await doc();
    const site = await newSite();
    const admin = "/api/admin/v1";
    const created = await adminCall("POST", `/sites/${site.slug}/webhooks`, { url: `${receiverUrl()}/doc`, events: ["permit.created"] });
    const endpoint = (await created.json()) as Json;
    const schemaOf = (path: string, method: string, status: string) =>
      d.paths[`${admin}${path}`]?.[method]?.responses[status]?.content?.["application/json"]?.schema as Schema;
    conforms(d, schemaOf("/sites/{site}/webhooks", "post", "201"), endpoint);
    conforms(
      d,
      schemaOf("/sites/{site}/webhooks", "get", "200"),
      (await (await adminCall("GET", `/sites/${site.slug}/webhooks`)).json()) as Json,
    );
    await pushed(site.token);
    await expect
      .poll(
        async () =>
          ((await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries`)).json()) as { deliveries: unknown[] }).deliveries.length,
      )
      .toBe(1);
    const list = (await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries`)).json()) as { deliveries: Json[] };
    conforms(d, schemaOf("/webhooks/{id}/deliveries", "get", "200"), list);
    const one = (await (await adminCall("GET", `/webhooks/${endpoint.id}/deliveries/${list.deliveries[0]?.id}`)).json()) as Json;
    conforms(d, schemaOf("/webhooks/{id}/deliveries/{delivery}", "get", "200"), one);
  });
});
