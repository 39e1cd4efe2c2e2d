import { env } from "cloudflare:workers";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { answerError, throwValidationError } from "../src/errors";
import { adminRoute, createAdminApp } from "../src/routes/admin/route";
import { apiRoute, type CallerEnv } from "../src/routes/caller";
import { deprecationHeaders } from "../src/routes/deprecation";
import { ADMIN, bearer, call, newSite } from "./helpers";

// The versioning policy's mechanism: an operation declared deprecated answers Deprecation (RFC 9745) and Sunset
// (RFC 8594) on every answer and is marked so in the OpenAPI document. No operation of the API is deprecated today, so
// these tests declare one the way a future change would, with the same helpers the API's operations use.

const DEPRECATION = {
  since: "2026-12-01",
  sunset: "2027-12-01",
  successor: "/api/v2/plates/{plate}",
  notice: "https://example.test/changes#v2",
};

/** An app with one operation, declared deprecated as the API would declare it. */
function appWithDeprecatedLookup() {
  const app = new OpenAPIHono<CallerEnv>({ defaultHook: throwValidationError });
  app.onError(answerError);
  app.openapi(
    apiRoute({
      method: "get",
      path: "/old-lookup",
      operationId: "oldLookup",
      scope: "lookup",
      traffic: "reads",
      summary: "The old lookup",
      description: "What it did.",
      request: { query: z.object({ plate: z.string().min(1) }) },
      responses: { 200: { description: "ok", content: { "application/json": { schema: z.object({ plate: z.string() }) } } } },
      errors: [400],
      deprecated: DEPRECATION,
    }),
    (c) => c.json({ plate: c.req.valid("query").plate }, 200),
  );
  return app;
}

describe("a deprecated operation", () => {
  it("answers Deprecation, Sunset and Link on success and on errors, a refused credential's too", async () => {
    const app = appWithDeprecatedLookup();
    const { token } = await newSite();
    const expected = {
      deprecation: `@${Date.UTC(2026, 11, 1) / 1000}`,
      sunset: "Wed, 01 Dec 2027 00:00:00 GMT",
      link: '</api/v2/plates/{plate}>; rel="successor-version", <https://example.test/changes#v2>; rel="deprecation"',
    };
    for (const [path, headers, status] of [
      ["/old-lookup?plate=ABC", bearer(token), 200],
      ["/old-lookup?plate=", bearer(token), 400],
      ["/old-lookup?plate=ABC", {}, 401],
    ] as const) {
      const res = await app.request(path, { headers }, env);
      expect(res.status).toBe(status);
      expect({
        deprecation: res.headers.get("deprecation"),
        sunset: res.headers.get("sunset"),
        link: res.headers.get("link"),
      }).toEqual(expected);
    }
  });

  it("is marked deprecated in the OpenAPI document, with its sunset and successor in words", () => {
    const doc = appWithDeprecatedLookup().getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    const op = doc.paths?.["/old-lookup"]?.get as Record<string, unknown>;
    expect(op.deprecated).toBe(true);
    expect(op["x-sunset"]).toBe("2027-12-01");
    expect(op.description).toBe(
      "**Deprecated** since 2026-12-01; it stops answering on 2027-12-01 (the `Sunset` header says so on every answer). Use /api/v2/plates/{plate} instead.\n\nWhat it did.",
    );
  });

  it("an admin operation too", async () => {
    const app = createAdminApp();
    app.openapi(
      adminRoute({
        method: "get",
        path: "/old",
        operationId: "oldAdmin",
        summary: "old",
        responses: { 200: { description: "ok" } },
        errors: [],
        deprecated: { since: "2026-12-01", sunset: "2028-01-01" },
      }),
      (c) => c.body(null, 200),
    );
    const res = await app.request("/old", { headers: bearer(ADMIN) }, env);
    expect([res.status, res.headers.get("deprecation"), res.headers.get("sunset"), res.headers.get("link")]).toEqual([
      200,
      `@${Date.UTC(2026, 11, 1) / 1000}`,
      "Sat, 01 Jan 2028 00:00:00 GMT",
      null,
    ]);
  });

  it("cannot be declared with less than the policy's 12 months, or with days that do not exist", () => {
    expect(() => deprecationHeaders({ since: "2026-12-01", sunset: "2027-11-30" })).toThrow(/at least 12 months/);
    expect(() => deprecationHeaders({ since: "2026-02-30", sunset: "2028-01-01" })).toThrow(/are days/);
    expect(deprecationHeaders({ since: "2026-12-01", sunset: "2027-12-01" })).toEqual({
      Deprecation: "@1796083200",
      Sunset: "Wed, 01 Dec 2027 00:00:00 GMT",
    });
  });
});

describe("the API today", () => {
  it("has no deprecated operation, and its answers carry no Deprecation", async () => {
    const res = await call("/openapi.json");
    const doc = (await res.json()) as { info: { version: string }; paths: Record<string, Record<string, { deprecated?: boolean }>> };
    const deprecated = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => (op.deprecated ? [`${method} ${path}`] : [])),
    );
    expect(deprecated).toEqual([]);
    const { token } = await newSite();
    const lookup = await call("/api/v1/lookup?plate=ABC", { headers: bearer(token) });
    expect(lookup.headers.has("deprecation")).toBe(false);
    expect(lookup.headers.has("sunset")).toBe(false);
  });
});
