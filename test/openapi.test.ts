import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DOCS_SCRIPT, DOCS_STYLESHEET, SWAGGER_UI_FILES, SWAGGER_UI_PATH } from "../src/routes/docs-assets";
import { accessToken, adminCall, basic, bearer, call, newSite, post, postForm, seedPush, sessionSite } from "./helpers";

type Schema = { properties?: Record<string, unknown>; required?: string[]; $ref?: string; allOf?: Schema[] };
type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId?: string;
        security?: Record<string, string[]>[];
        requestBody?: { content: Record<string, { schema: Schema }> };
        responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
      }
    >
  >;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Record<string, unknown>> };
};

async function doc(): Promise<Doc> {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

/** Resolves $ref and merges allOf (zod's `.extend()` of a named schema comes out as allOf). */
function deref(d: Doc, s: Schema): Schema {
  if (s.$ref) return deref(d, d.components.schemas[s.$ref.split("/").pop() as string] as Schema);
  if (!s.allOf) return s;
  const parts = s.allOf.map((p) => deref(d, p));
  return {
    properties: Object.assign({}, s.properties, ...parts.map((p) => p.properties)),
    required: [...(s.required ?? []), ...parts.flatMap((p) => p.required ?? [])],
  };
}

/** The keys an answer carries must be the documented ones, and the required ones must be there. */
function conforms(d: Doc, schema: Schema, body: Record<string, unknown>) {
  const s = deref(d, schema);
  expect(Object.keys(body).filter((k) => !(k in (s.properties ?? {})))).toEqual([]);
  for (const key of s.required ?? []) expect(body).toHaveProperty(key);
}

describe("OpenAPI 3.1 document", () => {
  it("is served at /openapi.json and lists every alias of the push body", async () => {
    const d = await doc();
    expect(d.openapi).toBe("3.1.0");
    const push = d.paths["/api/OC-TOMA/v1/permits/push"]?.post;
    const body = deref(d, push?.requestBody?.content["application/json"]?.schema as Schema);
    for (const name of [
      "apiToken",
      "plate",
      "LicencePlate",
      "LicensePlate",
      "Amount",
      "amount",
      "CurrencyID",
      "currency",
      "startTime",
      "StartDateUtc",
      "endTime",
      "EndDateUtc",
      "permitNo",
      "TicketNumber",
      "zone",
      "ParkingZoneName",
      "promoCode",
    ]) {
      expect(body.properties, name).toHaveProperty(name);
    }
  });

  it("describes the answers actually sent: push success and error", async () => {
    const d = await doc();
    const { token } = await newSite();
    const responses = d.paths["/api/OC-TOMA/v1/permits/push"]?.post?.responses ?? {};
    const good = await post("/api/OC-TOMA/v1/permits/push", seedPush(token));
    conforms(d, responses["200"]?.content?.["application/json"]?.schema as Schema, (await good.json()) as Record<string, unknown>);
    const bad = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), Amount: "x" });
    conforms(
      d,
      responses[String(bad.status)]?.content?.["application/json"]?.schema as Schema,
      (await bad.json()) as Record<string, unknown>,
    );
  });

  it("describes the admin answers actually sent", async () => {
    const d = await doc();
    const { slug } = await newSite();
    const cases: [string, string, string, unknown, string][] = [
      ["post", "/sites/{site}/zones", `/sites/${slug}/zones`, { name: "Lot X" }, "201"],
      ["get", "/sites/{site}/zones", `/sites/${slug}/zones`, undefined, "200"],
      ["post", "/sites/{site}/tokens", `/sites/${slug}/tokens`, { scopes: ["push"] }, "201"],
      ["get", "/sites/{site}/tokens", `/sites/${slug}/tokens`, undefined, "200"],
      ["get", "/sites/{site}", `/sites/${slug}`, undefined, "200"],
    ];
    for (const [method, template, path, body, status] of cases) {
      const res = await adminCall(method.toUpperCase(), path, body);
      expect(String(res.status)).toBe(status);
      const schema = d.paths[`/api/admin/v1${template}`]?.[method]?.responses[status]?.content?.["application/json"]?.schema as Schema;
      conforms(d, schema, (await res.json()) as Record<string, unknown>);
    }
  });

  it("declares OAuth 2.0 client credentials, and each header-token operation accepts it for its scope", async () => {
    const d = await doc();
    expect(d.components.securitySchemes.oauth2).toEqual({
      type: "oauth2",
      description: expect.any(String),
      flows: { clientCredentials: { tokenUrl: "/oauth/token", scopes: { sessions: expect.any(String), lookup: expect.any(String) } } },
    });
    expect(d.paths["/api/v1/sessions"]?.post?.security).toEqual([{ bearer: [] }, { apiKey: [] }, { oauth2: ["sessions"] }]);
    expect(d.paths["/api/v1/rights"]?.get?.security).toContainEqual({ oauth2: ["lookup"] });
    expect(Object.keys(d.paths["/oauth/token"]?.post?.requestBody?.content ?? {})).toEqual([
      "application/x-www-form-urlencoded",
      "application/json",
    ]);
  });

  it("describes the sessions, rights, zones and OAuth answers actually sent", async () => {
    const d = await doc();
    const s = await sessionSite();
    const check = async (method: string, template: string, res: Response) => {
      const op = d.paths[template]?.[method];
      const schema = op?.responses[String(res.status)]?.content?.["application/json"]?.schema as Schema;
      expect(schema, `${method} ${template} ${res.status}`).toBeDefined();
      conforms(d, schema, (await res.json()) as Record<string, unknown>);
    };
    const auth = bearer(s.access);
    const started = await post("/api/v1/sessions", { zone_number: "104", license_plate: "DOC 1", duration: 30 }, auth);
    const { session_id: id } = (await started.clone().json()) as { session_id: string };
    await check("post", "/api/v1/sessions", started);
    await check(
      "post",
      "/api/v1/sessions",
      await post("/api/v1/sessions", { zone_number: "104", license_plate: "DOC 1", duration: 30 }, auth),
    );
    await check("post", "/api/v1/sessions", await post("/api/v1/sessions", { zone_number: "104" }, auth));
    await check("get", "/api/v1/sessions/{id}", await call(`/api/v1/sessions/${id}`, { headers: auth }));
    await check("get", "/api/v1/sessions/{id}", await call("/api/v1/sessions/unknown", { headers: auth }));
    await check("get", "/api/v1/sessions", await call("/api/v1/sessions?limit=1", { headers: auth }));
    await check("post", "/api/v1/sessions/{id}/extend", await post(`/api/v1/sessions/${id}/extend`, { duration: 5 }, auth));
    await check("post", "/api/v1/sessions/{id}/stop", await post(`/api/v1/sessions/${id}/stop`, {}, auth));
    await check("post", "/api/v1/sessions/{id}/extend", await post(`/api/v1/sessions/${id}/extend`, { duration: 5 }, auth));
    await check("get", "/api/v1/zones", await call("/api/v1/zones", { headers: auth }));
    await check("get", "/api/v1/zones", await call("/api/v1/zones"));
    await check("get", "/api/v1/rights", await call("/api/v1/rights?license_plate=DOC1", { headers: auth }));
    await check(
      "get",
      "/api/v1/rights",
      await call("/api/v1/rights?license_plate=DOC1", { headers: bearer(await accessToken(s.client, "sessions")) }),
    );
    const tokenAuth = basic(s.client.clientId, s.client.clientSecret);
    await check("post", "/oauth/token", await postForm("/oauth/token", { grant_type: "client_credentials" }, tokenAuth));
    await check("post", "/oauth/token", await postForm("/oauth/token", { grant_type: "password" }, tokenAuth));
    await check("post", "/oauth/token", await postForm("/oauth/token", { grant_type: "client_credentials" }));
    await check("post", "/oauth/revoke", await postForm("/oauth/revoke", {}, tokenAuth));
    const clients = await adminCall("GET", `/sites/${s.slug}/clients`);
    await check("get", "/api/admin/v1/sites/{site}/clients", clients);
    await check(
      "post",
      "/api/admin/v1/sites/{site}/clients",
      await adminCall("POST", `/sites/${s.slug}/clients`, { label: "Doc", scopes: ["lookup"] }),
    );
    await check(
      "patch",
      "/api/admin/v1/sites/{site}/zones/{zone}",
      await adminCall("PATCH", `/sites/${s.slug}/zones/Lot%2001`, { capacity: 5 }),
    );
  });

  it("names each operation once, the enforcement and retention ones included", async () => {
    const d = await doc();
    const operations = Object.entries(d.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        path,
        method,
        ...(op as { operationId?: string; responses: Record<string, unknown> }),
      })),
    );
    const ids = operations.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      "pbpListZones",
      "pbpZonePermits",
      "pbpSearchPermits",
      "pbpIsValid",
      "validatePlate",
      "getRetention",
      "setRetention",
      "listArchives",
      "getArchive",
    ]) {
      expect(ids).toContain(id);
    }
    const feed = operations.find((o) => o.operationId === "pbpZonePermits");
    expect(Object.keys(feed?.responses ?? {}).sort()).toEqual(["200", "400", "401", "403", "404", "429", "503"]);
  });

  it("documents a 429 on every operation a credential's rate limit counts, and on no admin or OAuth one", async () => {
    const d = await doc();
    for (const [path, methods] of Object.entries(d.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const counted = path.startsWith("/api/") && !path.startsWith("/api/admin/");
        expect([method, path, "429" in op.responses]).toEqual([method, path, counted]);
      }
    }
  });

  it("describes the credential and report answers actually sent", async () => {
    const d = await doc();
    const { token, slug } = await newSite();
    await post("/api/OC-TOMA/v1/permits/push", seedPush(token));
    const schema = (path: string, method: string, status: string) =>
      d.paths[path]?.[method]?.responses[status]?.content?.["application/json"]?.schema as Schema;
    const me = await call("/api/v1/me", { headers: bearer(token) });
    conforms(d, schema("/api/v1/me", "get", "200"), (await me.json()) as Record<string, unknown>);
    const today = new Date().toISOString().slice(0, 10);
    const report = await call(`/api/admin/v1/sites/${slug}/reports/transactions?from=${today}&to=${today}`, {
      headers: { authorization: "Bearer test-admin-secret", accept: "application/json" },
    });
    const body = (await report.json()) as { transactions: Record<string, unknown>[] };
    const reportSchema = schema("/api/admin/v1/sites/{site}/reports/transactions", "get", "200");
    conforms(d, reportSchema, body);
    expect(body.transactions).toHaveLength(1);
    conforms(d, { $ref: "#/components/schemas/Transaction" }, body.transactions[0] as Record<string, unknown>);
  });

  it("describes the enforcement answers actually sent", async () => {
    const d = await doc();
    const { token } = await newSite({ scopes: ["push", "lookup"] });
    const zones = await call("/api/pbp/v2014-06/zones", { headers: { "x-apikey": token } });
    const zoneList = (await zones.json()) as { Zones: { ZoneId: string }[] };
    const schema = (path: string, method: string, status: string) =>
      d.paths[path]?.[method]?.responses[status]?.content?.["application/json"]?.schema as Schema;
    conforms(d, schema("/api/pbp/v2014-06/zones", "get", "200"), zoneList);
    const zoneId = zoneList.Zones[0]?.ZoneId as string;
    const feed = await call(`/api/pbp/v2014-06/zones/${zoneId}/permits`, { headers: { "x-apikey": token } });
    conforms(d, schema("/api/pbp/v2014-06/zones/{zoneId}/permits", "get", "200"), (await feed.json()) as Record<string, unknown>);
    const isValid = await call("/api/pbp/v2014-06/isvalid", {
      method: "POST",
      headers: { "x-apikey": token, "content-type": "application/json" },
      body: JSON.stringify({ PlateNumber: "PL8RDR" }),
    });
    conforms(d, schema("/api/pbp/v2014-06/isvalid", "post", "200"), (await isValid.json()) as Record<string, unknown>);
    const lookup = await call("/api/v1/lookup?plate=PL8RDR", { headers: { authorization: `Bearer ${token}` } });
    conforms(d, schema("/api/v1/lookup", "get", "200"), (await lookup.json()) as Record<string, unknown>);
    const missing = await call(`/api/pbp/v2014-06/zones/0/permits`, { headers: { "x-apikey": token } });
    expect(missing.status).toBe(404);
    conforms(d, schema("/api/pbp/v2014-06/zones/{zoneId}/permits", "get", "404"), (await missing.json()) as Record<string, unknown>);
  });

  it("names the server it was reached at, so a call made from the docs goes back to it", async () => {
    const d = (await doc()) as unknown as { servers: { url: string }[] };
    expect(d.servers).toEqual([{ url: "http://permits.test", description: expect.any(String) }]);
    const elsewhere = await exports.default.fetch(new Request("https://permits.example.org:8443/openapi.json"));
    expect(((await elsewhere.json()) as { servers: { url: string }[] }).servers.map((s) => s.url)).toEqual([
      "https://permits.example.org:8443",
    ]);
  });

  it("carries a licence with an SPDX identifier, and declares every tag its operations use, with a description", async () => {
    const d = (await doc()) as unknown as Doc & {
      info: { license?: { name: string; identifier?: string } };
      tags: { name: string; description: string }[];
    };
    expect(d.info.license).toEqual({ name: expect.any(String), identifier: expect.stringMatching(/^[A-Za-z0-9.+-]+$/) });
    const declared = new Map(d.tags.map((t) => [t.name, t.description]));
    for (const [path, item] of Object.entries(d.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const tags = (op as { tags?: string[] }).tags ?? [];
        expect(tags.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const tag of tags) expect(declared.get(tag), `${method} ${path}: tag ${tag}`).toBeTruthy();
      }
    }
  });

  it("describes every parameter, and says what every query parameter's values look like", async () => {
    const d = (await doc()) as unknown as {
      paths: Record<
        string,
        Record<string, { parameters?: { name: string; in: string; description?: string; schema?: Record<string, unknown> }[] }>
      >;
    };
    let queries = 0;
    for (const [path, item] of Object.entries(d.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const p of op.parameters ?? []) {
          const where = `${method} ${path} ${p.in} ${p.name}`;
          expect(p.description?.trim(), where).toBeTruthy();
          if (p.in !== "query") continue;
          queries += 1;
          expect(
            ["format", "enum", "const", "pattern", "maxLength"].some((k) => k in (p.schema ?? {})),
            `${where}: a format, an enum, a pattern or a maxLength`,
          ).toBe(true);
          if (p.schema?.type === "integer") expect(p.schema.format, where).toMatch(/^int(32|64)$/);
        }
      }
    }
    expect(queries).toBeGreaterThan(20);
    const query = (path: string, name: string) =>
      d.paths[path]?.get?.parameters?.find((p) => p.in === "query" && p.name === name)?.schema as Record<string, unknown>;
    expect(query("/api/v1/sessions", "since")?.format).toBe("date-time");
    expect(query("/api/v1/sessions", "status")?.enum).toEqual(["active", "stopped", "expired"]);
    expect(new RegExp(query("/api/admin/v1/sites/{site}/permits", "from")?.pattern as string).test("2026-11-22T00:00:00")).toBe(true);
  });

  it("marks the operations whose token travels in the body: no security requirement, x-body-token naming a body field", async () => {
    type Op = {
      operationId: string;
      description?: string;
      security?: unknown[];
      "x-body-token"?: { field: string; scope: string };
      requestBody?: { content: Record<string, { schema: Schema }> };
    };
    const d = (await doc()) as unknown as Doc & { paths: Record<string, Record<string, Op>> };
    const operations = Object.values(d.paths).flatMap((item) => Object.values(item));
    const inBody = operations.filter((op) => op.security?.length === 0);
    expect(inBody.map((op) => [op.operationId, op["x-body-token"]]).sort()).toEqual([
      ["deletePermit", { field: "apiToken", scope: "delete" }],
      ["permitStats", { field: "apiToken", scope: "stats" }],
      ["pushPermit", { field: "apiToken", scope: "push" }],
      ["updatePermit", { field: "apiToken", scope: "update" }],
      ["validatePlate", { field: "api_token", scope: "lookup" }],
    ]);
    for (const op of inBody) {
      const token = op["x-body-token"] as { field: string; scope: string };
      expect(op.description, op.operationId).toMatch(new RegExp(`^\\*\\*Credential:\\*\\* .*\`${token.field}\``));
      const body = deref(d as unknown as Doc, op.requestBody?.content["application/json"]?.schema as Schema);
      expect(body.properties, op.operationId).toHaveProperty(token.field);
    }
    // Every other operation names its header credential.
    for (const op of operations.filter((o) => !inBody.includes(o))) {
      expect(op.security?.length, op.operationId).toBeGreaterThan(0);
      expect(op["x-body-token"], op.operationId).toBeUndefined();
    }
  });

  it("serves /docs: Swagger UI from this Worker's static assets, naming the server its calls go to", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<code id="docs-server">http://permits.test</code>');
    expect(html).toContain('data-document="/openapi.json"');
    // Every file it loads is one of the docs' static assets, under /docs/assets on this origin; no inline script.
    const loaded = [...html.matchAll(/<(?:script|link)\b[^>]*?\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(loaded.sort()).toEqual(
      [`${SWAGGER_UI_PATH}/swagger-ui-bundle.js`, `${SWAGGER_UI_PATH}/swagger-ui.css`, DOCS_SCRIPT, DOCS_STYLESHEET, "data:,"].sort(),
    );
    for (const file of loaded.filter((f) => f?.startsWith(SWAGGER_UI_PATH))) {
      expect(SWAGGER_UI_FILES as readonly string[]).toContain(file?.slice(SWAGGER_UI_PATH.length + 1));
    }
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    // The browser holds it to that: scripts from this origin only, calls to this origin only.
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect((await call("/", { redirect: "manual" })).headers.get("location")).toBe("/docs");
  });

  it("every operation has an operationId and documents its error answers", async () => {
    const d = (await doc()) as unknown as {
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
    };
    for (const [path, item] of Object.entries(d.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z]+$/);
        expect(
          Object.keys(op.responses).some((status) => Number(status) >= 400),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
  });
});
