import { describe, expect, it } from "vitest";
import { adminCall, call, newSite, post, seedPush } from "./helpers";

type Schema = { properties?: Record<string, unknown>; required?: string[]; $ref?: string; allOf?: Schema[] };
type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: Schema }> };
        responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
      }
    >
  >;
  components: { schemas: Record<string, Schema> };
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

  it("gives every operation a unique operationId and documents its error answers", async () => {
    const d = await doc();
    const operations = Object.entries(d.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        path,
        method,
        ...(op as { operationId?: string; responses: Record<string, unknown> }),
      })),
    );
    const ids = operations.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      expect(
        Object.keys(op.responses).some((status) => /^[45]\d\d$/.test(status)),
        `${op.method} ${op.path}`,
      ).toBe(true);
    }
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
    expect(Object.keys(feed?.responses ?? {}).sort()).toEqual(["200", "400", "401", "403", "404", "503"]);
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

  it("renders a docs page with every operation, without outside assets", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/api/OC-TOMA/v1/permits/push");
    expect(html).toContain("/api/admin/v1/sites/{site}/tokens");
    expect(html).toContain("LicencePlate");
    expect(html).not.toMatch(/<script|<link[^>]+https?:/);
  });
});
