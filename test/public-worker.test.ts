import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_PATHS, buildPublicApp } from "../src/api";
import { ADMIN, newSite } from "./helpers";

// The public Worker (src/index.ts) answers the API surfaces itself and hands the admin Worker's paths (ADMIN_PATHS)
// to its service binding, untouched. Here the binding is a recorder, so what crosses it can be seen.

/** The public app with ADMIN recording what it is given and answering 299 with the path. */
function publicWorker() {
  const forwarded: Request[] = [];
  const admin = {
    fetch: async (request: Request) => {
      forwarded.push(request);
      return new Response(`admin saw ${new URL(request.url).pathname}`, { status: 299 });
    },
  } as unknown as Env["ADMIN"];
  const app = buildPublicApp();
  const call = async (path: string, init: RequestInit = {}) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`https://permits.example.org${path}`, init), { ...env, ADMIN: admin }, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
  return { call, forwarded };
}

describe("the public Worker", () => {
  it("forwards the admin API, the console, the docs page and the OpenAPI document, request untouched", async () => {
    expect(ADMIN_PATHS).toEqual(["/api/admin/*", "/admin", "/admin/*", "/docs", "/openapi.json"]);
    const { call, forwarded } = publicWorker();
    for (const path of ["/api/admin/v1/sites", "/admin", "/admin/", "/admin/demo/zones", "/docs", "/openapi.json"]) {
      const response = await call(path);
      expect(response.status, path).toBe(299);
      expect(await response.text()).toBe(`admin saw ${path}`);
    }
    const body = JSON.stringify({ slug: "forwarded", name: "Forwarded" });
    await call("/api/admin/v1/sites?x=1", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", "x-request-id": "abc" },
      body,
    });
    const last = forwarded.at(-1) as Request;
    expect(last.method).toBe("POST");
    expect(last.url).toBe("https://permits.example.org/api/admin/v1/sites?x=1");
    expect(last.headers.get("authorization")).toBe(`Bearer ${ADMIN}`);
    expect(last.headers.get("x-request-id")).toBe("abc");
    expect(await last.text()).toBe(body);
  });

  it("answers the API surfaces itself, and a path of neither Worker with its own 404", async () => {
    const { call, forwarded } = publicWorker();
    const { token } = await newSite({ zones: ["Lot 4"], scopes: ["lookup"] });
    const lookup = await call("/api/v1/lookup?plate=ABC123", { headers: { authorization: `Bearer ${token}` } });
    expect(lookup.status).toBe(200);
    expect(lookup.headers.get("x-request-id")).toBeTruthy();
    expect((await call("/api/OC-TOMA/v1/permits/push", { method: "POST" })).status).toBe(415);
    expect((await call("/docs/elsewhere")).status).toBe(404);
    expect((await call("/administrator")).status).toBe(404);
    expect((await call("/")).headers.get("location")).toBe("/docs");
    expect(forwarded).toEqual([]);
  });
});
