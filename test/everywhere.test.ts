import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, adminCall, call, count, eventually, newSite, post, seedPush } from "./helpers";

// The rules that hold on every surface: the credential first, bodies in UTF-8, a token's use recorded whatever it
// does, and a method a route does not take answered as such.

type Body = Record<string, unknown>;

/** A body of UTF-8 JSON with one invalid byte (0xFF) inside the string value of `key`. */
function withBadByte(json: Body, key: string): Uint8Array {
  const text = JSON.stringify({ ...json, [key]: "@@" });
  const [before, after] = text.split("@@") as [string, string];
  const encode = (s: string) => new TextEncoder().encode(s);
  return new Uint8Array([...encode(before), 0x4c, 0xff, 0x34, ...encode(after)]);
}

const written = async () => ({ permits: await count("permits"), zones: await count("lot_zones"), events: await count("permit_events") });

describe("bodies that are not UTF-8 are refused with 9003, writing nothing", () => {
  it("a push whose zone holds a byte FF", async () => {
    const { token } = await newSite();
    const before = await written();
    const res = await call("/api/OC-TOMA/v1/permits/push", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: withBadByte(seedPush(token), "zone"),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: "error", ErrorCode: 9003, ErrorMessage: "The body is not valid UTF-8." });
    expect(await written()).toEqual(before);
  });

  it("an admin zone whose name holds a byte FF", async () => {
    const { slug } = await newSite();
    const before = await written();
    const res = await call(`/api/admin/v1/sites/${slug}/zones`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: withBadByte({}, "name"),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ErrorCode: 9003 });
    expect(await written()).toEqual(before);
  });

  it("an escaped U+FFFD is a character like any other", async () => {
    const { slug } = await newSite();
    expect((await adminCall("POST", `/sites/${slug}/zones`, { name: "Lot \uFFFD" })).status).toBe(201);
  });

  it("a console form whose percent-escapes are not UTF-8", async () => {
    const res = await call("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://permits.test" },
      body: "secret=%FF",
    });
    expect(res.status).toBe(400);
    // People read the console: its errors are pages.
    expect(await res.text()).toMatch(/role="alert">The body is not valid UTF-8\. \(error 9003/);
  });
});

describe("the credential is checked before anything else", () => {
  it("a lookup without a valid token learns nothing about the plate rules", async () => {
    const bad = `plate=${"A".repeat(26)}`;
    expect(await (await call(`/api/v1/lookup?${bad}`)).json()).toMatchObject({ ErrorCode: 9001, field: "Authorization" });
    const unknown = await call(`/api/v1/lookup?${bad}`, { headers: { authorization: "Bearer pe-unknown" } });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ ErrorCode: 9002, field: "Authorization" });
  });

  it("a refused lookup token is named by the header that carried it", async () => {
    const { slug } = await newSite();
    const res = await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"] });
    const pushOnly = ((await res.json()) as { token: string }).token;
    const viaKey = await call("/api/v1/lookup?plate=ABC", { headers: { "x-api-key": pushOnly } });
    expect(viaKey.status).toBe(403);
    expect(await viaKey.json()).toMatchObject({
      ErrorCode: 9002,
      field: "X-Api-Key",
      ErrorMessage: "The token in X-Api-Key lacks the lookup scope for this call.",
    });
    const viaBearer = await call("/api/v1/lookup?plate=ABC", { headers: { authorization: "Bearer pe-unknown" } });
    expect(await viaBearer.json()).toMatchObject({
      field: "Authorization",
      ErrorMessage: "The token in Authorization is unknown or revoked.",
    });
  });

  it("the admin API refuses a caller without a token before it looks at the body, however large", async () => {
    const res = await call("/api/admin/v1/sites", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(3 * 1024 * 1024),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ ErrorCode: 9001 });
  });
});

describe("a token's last use is recorded on every surface", () => {
  const lastUsed = async (tokenId: string) =>
    (await env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE id = ?").bind(tokenId).first<{ last_used_at: number | null }>())
      ?.last_used_at;

  it("a lookup, a stats call and an admin call each record it", async () => {
    for (const use of [
      (token: string) => call("/api/v1/lookup?plate=ABC", { headers: { authorization: `Bearer ${token}` } }),
      (token: string) => post("/api/OC-TOMA/v1/permits/stats", { apiToken: token }),
      (_: string, slug: string, adminToken: string) => adminCall("GET", `/sites/${slug}/zones`, undefined, adminToken),
    ]) {
      const { token, tokenId, slug } = await newSite({ scopes: ["lookup", "stats"] });
      const res = await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["admin"] });
      const admin = (await res.json()) as { id: string; token: string };
      expect(await lastUsed(tokenId)).toBeNull();
      expect((await use(token, slug, admin.token)).status).toBe(200);
      const used = await eventually(
        async () => (await lastUsed(tokenId)) ?? (await lastUsed(admin.id)),
        (at) => at != null,
      );
      expect(used).toBeGreaterThan(Date.now() / 1000 - 60);
    }
  });

  it("a call that fails records nothing", async () => {
    const { token, tokenId } = await newSite({ scopes: ["lookup", "push"] });
    expect((await call("/api/v1/lookup?plate=***", { headers: { authorization: `Bearer ${token}` } })).status).toBe(400);
    expect((await post("/api/OC-TOMA/v1/permits/push", { apiToken: token, LicencePlate: "AB1" })).status).toBe(400);
    // Given time to land had they been recorded in the background, they were not; and they took no turn of the
    // once-a-minute record, since a call that works afterwards is recorded.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await lastUsed(tokenId)).toBeNull();
    expect((await call("/api/v1/lookup?plate=AB1", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(
      await eventually(
        () => lastUsed(tokenId),
        (at) => at != null,
      ),
    ).toEqual(expect.any(Number));
  });
});

describe("a method a route does not take", () => {
  it("is 405 with Allow, not 404", async () => {
    const res = await call("/api/v1/lookup?plate=ABC", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(await res.json()).toMatchObject({ ErrorCode: 9009 });
    const admin = await call("/api/admin/v1/sites/demo/zones", { method: "PUT", headers: { authorization: `Bearer ${ADMIN}` } });
    expect(admin.status).toBe(405);
    expect(admin.headers.get("allow")?.split(", ").sort()).toEqual(["GET", "HEAD", "POST"]);
  });

  it("a path nothing serves is still 404", async () => {
    expect((await call("/api/v1/nothing-here")).status).toBe(404);
  });
});
