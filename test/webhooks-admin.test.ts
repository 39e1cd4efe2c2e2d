import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildApp } from "../src/app";
import { ADMIN, adminCall, count, newSite } from "./helpers";
import { receiverUrl, registerEndpoint } from "./webhook-receiver";

type Json = Record<string, unknown>;
const EVERY = ["permit.created"];

/** The admin API of a Worker deployed without the sandbox flag (WEBHOOKS_ALLOW_LOCALHOST unset): production's rule. */
async function productionCall(method: string, path: string, body?: unknown): Promise<Response> {
  const app = buildApp();
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`http://permits.test/api/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { ...env, WEBHOOKS_ALLOW_LOCALHOST: undefined },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** How many endpoints a site has, straight from D1. */
const endpointsOf = (slug: string) => count("webhook_endpoints", "site_id = (SELECT id FROM sites WHERE slug = ?)", slug);

async function refused(res: Response, status: number, code: number, field: string) {
  const body = (await res.json()) as Json;
  expect({ status: res.status, code: body.ErrorCode, field: body.field }, JSON.stringify(body)).toEqual({ status, code, field });
  return body.ErrorMessage as string;
}

describe("registering an endpoint", () => {
  it("answers the whsec_ secret once; lists and reads never show it", async () => {
    const { slug } = await newSite();
    const res = await adminCall("POST", `/sites/${slug}/webhooks`, {
      url: "https://ops.example.com/hooks",
      events: ["permit.created", "session.started"],
      description: "Revenue system",
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Json & { secret: string; id: string };
    expect(created).toMatchObject({
      url: "https://ops.example.com/hooks",
      events: ["permit.created", "session.started"],
      description: "Revenue system",
      enabled: true,
      disabledAt: null,
      disabledReason: null,
      previousSecretExpiresAt: null,
    });
    expect(created.id).toMatch(/^wh_[0-9a-z]{16}$/);
    // Standard Webhooks: whsec_ and the base64 of 24 to 64 random bytes (32 here).
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(created.secret.slice(6))).toHaveLength(32);
    expect(created.secretPrefix).toBe(created.secret.slice(0, 10));

    const list = (await (await adminCall("GET", `/sites/${slug}/webhooks`)).json()) as { endpoints: Json[] };
    expect(list.endpoints).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(created.secret);
    expect(list.endpoints[0]).not.toHaveProperty("secret");
    const one = (await (await adminCall("GET", `/webhooks/${created.id}`)).json()) as Json;
    expect(one).toEqual(list.endpoints[0]);
    // At rest the secret is sealed, never in clear.
    const row = await env.DB.prepare("SELECT secret FROM webhook_endpoints WHERE id = ?").bind(created.id).first<{ secret: string }>();
    expect(row?.secret).toMatch(/^v1\./);
    expect(row?.secret).not.toContain(created.secret.slice(6));
  });

  it("checks the credential before anything else", async () => {
    const { slug, token } = await newSite();
    const none = await adminCall("POST", `/sites/${slug}/webhooks`, { url: "https://10.0.0.1/" }, "");
    await refused(none, 401, 9001, "Authorization");
    const vendor = await adminCall("POST", `/sites/${slug}/webhooks`, { url: "https://10.0.0.1/" }, token);
    await refused(vendor, 403, 9002, "Authorization");
    expect(await endpointsOf(slug)).toBe(0);
  });

  it.each([
    [{ events: EVERY }, 9031, "url"],
    [{ url: "", events: EVERY }, 9032, "url"],
    [{ url: `https://example.com/${"a".repeat(2000)}`, events: EVERY }, 9030, "url"],
    [{ url: 42, events: EVERY }, 9033, "url"],
    [{ url: "not a url", events: EVERY }, 9033, "url"],
    [{ url: "ftp://example.com/hooks", events: EVERY }, 9033, "url"],
    [{ url: "https://example.com/hooks" }, 9031, "events"],
    [{ url: "https://example.com/hooks", events: [] }, 9032, "events"],
    [{ url: "https://example.com/hooks", events: "permit.created" }, 9033, "events"],
    [{ url: "https://example.com/hooks", events: ["permit.created", "permit.exploded"] }, 9033, "events.1"],
    [{ url: "https://example.com/hooks", events: ["Permit.Created"] }, 9033, "events.0"],
    [{ url: "https://example.com/hooks", events: ["permit.created", "permit.created"] }, 9033, "events"],
    [{ url: "https://example.com/hooks", events: EVERY, description: "d".repeat(201) }, 9030, "description"],
  ])("refuses %j with %i naming %s, writing nothing", async (input, code, field) => {
    const { slug } = await newSite();
    await refused(await adminCall("POST", `/sites/${slug}/webhooks`, input), 400, code, field);
    expect(await endpointsOf(slug)).toBe(0);
  });

  it("names the event types an unknown one could have been", async () => {
    const { slug } = await newSite();
    const message = await refused(
      await adminCall("POST", `/sites/${slug}/webhooks`, { url: "https://example.com/", events: ["permit.exploded"] }),
      400,
      9033,
      "events.0",
    );
    expect(message).toContain("permit.created, permit.updated, permit.deleted, session.started");
  });

  describe("never to a private, loopback or link-local address (production: no sandbox flag)", () => {
    it.each([
      ["https://10.0.0.1/hooks", "private address (10.0.0.1)"],
      ["https://172.16.5.4/", "private address"],
      ["https://192.168.1.20:8443/x", "private address"],
      ["https://169.254.169.254/latest/meta-data/", "link-local address (169.254.169.254)"],
      ["https://127.0.0.1/", "loopback address"],
      ["https://2130706433/", "loopback address (127.0.0.1)"],
      ["https://0x7f.0.0.1/", "loopback address (127.0.0.1)"],
      ["https://[::1]/hooks", "loopback address ([::1])"],
      ["https://[::ffff:10.0.0.1]/", "private address ([::ffff:a00:1])"],
      ["https://[fe80::1]/", "link-local address"],
      ["https://[fd00::5]/", "private address"],
      ["https://100.64.0.1/", "shared (carrier-grade NAT) address"],
      ["https://0.0.0.0/", "unspecified address"],
      ["https://localhost/hooks", "localhost, which is not a public host name"],
      ["https://api.localhost/", "api.localhost, which is not a public host name"],
      ["https://printer.local/", "printer.local, which is not a public host name"],
      ["https://metadata.google.internal/", "metadata.google.internal, which is not a public host name"],
      ["https://intranet/", "intranet, which is not a public host name"],
      ["http://localhost:8789/hooks", "localhost, which is not a public host name"],
      ["http://example.com/hooks", "must be https"],
      ["https://user:secret@example.com/", "must not carry a user name or password"],
    ])("refuses %s", async (url, rule) => {
      const { slug } = await newSite();
      const message = await refused(await productionCall("POST", `/sites/${slug}/webhooks`, { url, events: EVERY }), 400, 9033, "url");
      expect(message).toContain(rule);
      expect(await endpointsOf(slug)).toBe(0);
    });

    it("takes a public https URL", async () => {
      const { slug } = await newSite();
      const res = await productionCall("POST", `/sites/${slug}/webhooks`, { url: "https://hooks.example.com:8443/in?k=1", events: EVERY });
      expect(res.status).toBe(201);
    });

    it("refuses a change of URL to a private address the same way", async () => {
      const { slug } = await newSite();
      const created = (await (
        await productionCall("POST", `/sites/${slug}/webhooks`, { url: "https://hooks.example.com/", events: EVERY })
      ).json()) as Json;
      await refused(await productionCall("PATCH", `/webhooks/${created.id}`, { url: "https://169.254.169.254/" }), 400, 9033, "url");
      expect((await (await adminCall("GET", `/webhooks/${created.id}`)).json()) as Json).toMatchObject({
        url: "https://hooks.example.com/",
      });
    });
  });

  it("with the sandbox flag, takes loopback over http, and still refuses private and link-local addresses", async () => {
    const { slug } = await newSite();
    for (const url of ["http://localhost:8789/demo", "http://127.0.0.1:8789/demo", "http://[::1]:8789/demo"]) {
      expect((await adminCall("POST", `/sites/${slug}/webhooks`, { url, events: EVERY })).status, url).toBe(201);
    }
    for (const url of ["http://10.0.0.1/", "https://169.254.169.254/", "http://example.com/"]) {
      await refused(await adminCall("POST", `/sites/${slug}/webhooks`, { url, events: EVERY }), 400, 9033, "url");
    }
  });

  it("keeps a site to 10 endpoints, even when creates race", async () => {
    const { slug } = await newSite();
    const results = await Promise.all(
      Array.from({ length: 14 }, (_, i) =>
        adminCall("POST", `/sites/${slug}/webhooks`, { url: `https://example.com/${i}`, events: EVERY }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const over = results.find((r) => r.status !== 201) as Response;
    await refused(over, 400, 9030, "site");
    const list = (await (await adminCall("GET", `/sites/${slug}/webhooks`)).json()) as { endpoints: unknown[] };
    expect(list.endpoints).toHaveLength(10);
  });
});

describe("managing an endpoint", () => {
  it("changes its URL, events and description, disables and enables it", async () => {
    const { slug } = await newSite();
    const { id } = await registerEndpoint(slug, { events: ["permit.created"] });
    const patch = (body: Json) => adminCall("PATCH", `/webhooks/${id}`, body);
    const changed = (await (await patch({ events: ["permit.deleted", "import.failed"], description: "Ops" })).json()) as Json;
    expect(changed).toMatchObject({ events: ["permit.deleted", "import.failed"], description: "Ops", enabled: true });
    expect(((await (await patch({ description: null })).json()) as Json).description).toBeNull();

    const disabled = (await (await patch({ enabled: false })).json()) as Json;
    expect(disabled).toMatchObject({ enabled: false, disabledReason: "manual" });
    // Disabling again keeps the first time.
    expect(((await (await patch({ enabled: false })).json()) as Json).disabledAt).toBe(disabled.disabledAt);
    expect(await (await patch({ enabled: true })).json()).toMatchObject({ enabled: true, disabledAt: null, disabledReason: null });

    await refused(await patch({}), 400, 9033, "body");
    await refused(await patch({ enabled: "no" }), 400, 9033, "enabled");
    await refused(await patch({ events: [] }), 400, 9032, "events");
  });

  it("rotates the secret: a new one, the previous still signing for a day", async () => {
    const { slug } = await newSite();
    const endpoint = await registerEndpoint(slug);
    const res = await adminCall("POST", `/webhooks/${endpoint.id}/rotate`);
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as Json & { secret: string; previousSecretExpiresAt: string };
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(rotated.secretPrefix).toBe(rotated.secret.slice(0, 10));
    const expires = Date.parse(`${rotated.previousSecretExpiresAt}Z`);
    expect(Math.abs(expires - (Date.now() + 86_400_000))).toBeLessThan(5_000);
  });

  it("deletes it with its delivery log", async () => {
    const { slug } = await newSite();
    const { id } = await registerEndpoint(slug);
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO webhook_events (id, site_id, type, body, created_at) SELECT 'msg_del', site_id, 'permit.created', '{}', 1 FROM webhook_endpoints WHERE id = ?",
      ).bind(id),
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, site_id, event_type, state, created_at) SELECT 'dl_del', 'msg_del', id, site_id, 'permit.created', 'delivered', 1 FROM webhook_endpoints WHERE id = ?",
      ).bind(id),
      env.DB.prepare(
        "INSERT INTO webhook_attempts (delivery_id, number, round, at, status, duration_ms) VALUES ('dl_del', 1, 1, 1, 200, 5)",
      ),
    ]);
    const res = await adminCall("DELETE", `/webhooks/${id}`);
    expect(await res.json()).toEqual({ id, deleted: true });
    expect(await count("webhook_endpoints", "id = ?", id)).toBe(0);
    expect(await count("webhook_deliveries", "endpoint_id = ?", id)).toBe(0);
    expect(await count("webhook_attempts", "delivery_id = 'dl_del'")).toBe(0);
    await refused(await adminCall("GET", `/webhooks/${id}`), 404, 9009, "id");
    await refused(await adminCall("DELETE", `/webhooks/${id}`), 404, 9009, "id");
  });

  it("answers another site's endpoint as a missing one, to a site's own admin token", async () => {
    const a = await newSite();
    const b = await newSite({ scopes: ["admin"] });
    const { id } = await registerEndpoint(a.slug);
    const asB = (method: string, path: string, body?: unknown) => adminCall(method, path, body, b.token);
    for (const [method, path, body] of [
      ["GET", `/webhooks/${id}`],
      ["PATCH", `/webhooks/${id}`, { enabled: false }],
      ["POST", `/webhooks/${id}/rotate`],
      ["GET", `/webhooks/${id}/deliveries`],
      ["DELETE", `/webhooks/${id}`],
    ] as const) {
      await refused(await asB(method, path, body), 404, 9009, "id");
    }
    await refused(await asB("GET", `/sites/${a.slug}/webhooks`), 404, 9009, "site");
    expect(await (await adminCall("GET", `/webhooks/${id}`)).json()).toMatchObject({ enabled: true });
    // Its own site is its to manage.
    const own = await asB("POST", `/sites/${b.slug}/webhooks`, { url: `${receiverUrl()}/b`, events: EVERY });
    expect(own.status).toBe(201);
  });

  it("is 9009 for an id that never existed", async () => {
    await refused(await adminCall("GET", "/webhooks/wh_nosuchendpoint00"), 404, 9009, "id");
    await refused(await adminCall("PATCH", "/webhooks/wh_nosuchendpoint00", { enabled: true }), 404, 9009, "id");
    await refused(await adminCall("GET", "/sites/no-such-site/webhooks"), 404, 9009, "site");
  });
});

describe("retention", () => {
  it("deletes webhook events past the site's plate horizon, with their deliveries and attempts; newer ones stay", async () => {
    const { slug } = await newSite();
    const { id } = await registerEndpoint(slug);
    const now = Math.floor(Date.now() / 1000);
    // [event, made at, its permit's end]: an event made yesterday about a permit that ended 91 days ago goes with that plate.
    const statements = (
      [
        ["msg_old_retention", now - 91 * 86400, now - 91 * 86400],
        ["msg_late_retention", now - 86400, now - 91 * 86400],
        ["msg_new_retention", now - 86400, now + 3600],
      ] as const
    ).flatMap(([event, at, end]) => [
      env.DB.prepare(
        "INSERT INTO webhook_events (id, site_id, type, body, created_at, forget_from) SELECT ?, site_id, 'permit.deleted', '{\"plate\":\"ABC123\"}', ?, ? FROM webhook_endpoints WHERE id = ?",
      ).bind(event, at, Math.min(at, end), id),
      env.DB.prepare(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, site_id, event_type, state, created_at) SELECT ?, ?, id, site_id, 'permit.created', 'delivered', ? FROM webhook_endpoints WHERE id = ?",
      ).bind(`dl_${event}`, event, at, id),
      env.DB.prepare(
        "INSERT INTO webhook_attempts (delivery_id, number, round, at, status, duration_ms, response) VALUES (?, 1, 1, ?, 200, 3, 'ABC123')",
      ).bind(`dl_${event}`, at),
    ]);
    await env.DB.batch(statements);
    const res = await adminCall("POST", `/sites/${slug}/tasks/retention/run`);
    const run = (await res.json()) as { counts: Json };
    expect(run.counts).toMatchObject({ webhookEventsPruned: 2 });
    expect(await count("webhook_events", "id IN ('msg_old_retention', 'msg_late_retention')")).toBe(0);
    expect(await count("webhook_deliveries", "id = 'dl_msg_old_retention'")).toBe(0);
    expect(await count("webhook_attempts", "delivery_id = 'dl_msg_old_retention'")).toBe(0);
    expect(await count("webhook_events", "id = 'msg_new_retention'")).toBe(1);
    expect(await count("webhook_attempts", "delivery_id = 'dl_msg_new_retention'")).toBe(1);
  });
});
