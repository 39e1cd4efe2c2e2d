import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cacheKeys } from "../src/cache";
import { ADMIN, adminCall, call, count, newSite, post, seedPush } from "./helpers";

type Body = Record<string, unknown>;
const PUSH = "/api/OC-TOMA/v1/permits/push";

async function ok(res: Response, status = 200) {
  const json = (await res.json()) as Body;
  expect(res.status, JSON.stringify(json)).toBe(status);
  return json;
}

async function error(res: Response, status: number, code: number, field?: string) {
  const json = (await res.json()) as Body;
  expect(res.status, JSON.stringify(json)).toBe(status);
  expect(json).toMatchObject({ status: "error", ErrorCode: code, ...(field === undefined ? {} : { field }) });
  return json;
}

describe("admin: authentication", () => {
  it("no bearer is 9001 (401); a wrong one 9002 (401)", async () => {
    await error(await call("/api/admin/v1/sites"), 401, 9001, "Authorization");
    await error(await adminCall("GET", "/sites", undefined, "wrong-secret"), 401, 9002);
    await error(await adminCall("GET", "/sites", undefined, "x".repeat(80)), 401, 9002, "Authorization");
    await error(await adminCall("GET", "/sites", undefined, "pe-well-formed-but-unknown"), 401, 9002, "Authorization");
  });

  it("a push token cannot use the admin API", async () => {
    const { token } = await newSite();
    await error(await adminCall("GET", "/sites", undefined, token), 403, 9002);
  });

  it("an admin-scope token manages its own site only", async () => {
    const mine = await newSite({ scopes: ["admin"] });
    const other = await newSite();
    await error(await adminCall("GET", "/sites", undefined, mine.token), 403, 9002);
    await error(await adminCall("POST", "/sites", { slug: "nope" }, mine.token), 403, 9002);
    await ok(await adminCall("POST", `/sites/${mine.slug}/zones`, { name: "Lot 7" }, mine.token), 201);
    await error(await adminCall("GET", `/sites/${other.slug}/zones`, undefined, mine.token), 404, 9009);
    await error(await adminCall("DELETE", `/tokens/${other.tokenId}`, undefined, mine.token), 404, 9009);
    await ok(await adminCall("GET", `/sites/${mine.slug}/tokens`, undefined, mine.token));
  });
});

describe("admin: sites", () => {
  it("creates, reads, lists and updates a site", async () => {
    const site = await ok(await adminCall("POST", "/sites", { slug: "campus-north", name: "Campus North", currencies: ["USD"] }), 201);
    expect(site).toMatchObject({ slug: "campus-north", name: "Campus North", currencies: ["USD"] });
    expect(site.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(await ok(await adminCall("GET", "/sites/campus-north"))).toEqual(site);
    const list = (await ok(await adminCall("GET", "/sites"))) as { sites: Body[] };
    expect(list.sites.map((s) => s.slug)).toContain("campus-north");
    const updated = await ok(await adminCall("PATCH", "/sites/campus-north", { currencies: ["CAD", "USD"] }));
    expect(updated.currencies).toEqual(["CAD", "USD"]);
  });

  it("defaults: name = slug, currencies CAD and USD", async () => {
    expect(await ok(await adminCall("POST", "/sites", { slug: "plain" }), 201)).toMatchObject({
      name: "plain",
      currencies: ["CAD", "USD"],
    });
  });

  it("refuses bad input with the field and the rule, writing nothing", async () => {
    const before = await count("sites");
    await error(await adminCall("POST", "/sites", {}), 400, 9031, "slug");
    await error(await adminCall("POST", "/sites", { slug: "Has Spaces" }), 400, 9033, "slug");
    await error(await adminCall("POST", "/sites", { slug: 7 }), 400, 9033, "slug");
    await error(await adminCall("POST", "/sites", { slug: "ok", currencies: ["CA"] }), 400, 9033, "currencies.0");
    await error(await adminCall("POST", "/sites", { slug: "ok", timeZone: "Mars/Olympus" }), 400, 9033, "timeZone");
    await error(await adminCall("POST", "/sites", { slug: "ok", currencies: [] }), 400, 9032, "currencies");
    await error(await adminCall("POST", "/sites", { slug: "ok", name: "n".repeat(201) }), 400, 9030, "name");
    const notJson = await call("/api/admin/v1/sites", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: "{",
    });
    await error(notJson, 400, 9003);
    expect(await count("sites")).toBe(before);
  });

  it("takes currencies in any case, as pushes do, and a time zone", async () => {
    const site = (await (
      await adminCall("POST", "/sites", { slug: "anycase", currencies: ["cad", "Usd"], timeZone: "America/Toronto" })
    ).json()) as Body;
    expect(site).toMatchObject({ currencies: ["CAD", "USD"], timeZone: "America/Toronto" });
    expect(await (await adminCall("PATCH", "/sites/anycase", { timeZone: "UTC" })).json()).toMatchObject({ timeZone: "UTC" });
  });

  it("an update with nothing to change is 9033 and names what it needs", async () => {
    const { slug } = await newSite();
    const json = await error(await adminCall("PATCH", `/sites/${slug}`, {}), 400, 9033);
    expect(json.ErrorMessage).toContain("name, currencies, timeZone or graceMinutes");
  });

  it("messages name the field and the rule in words", async () => {
    const json = await error(await adminCall("POST", "/sites", { slug: "ok", currencies: [] }), 400, 9032, "currencies");
    expect(json.ErrorMessage).toBe("currencies must have at least 1 item.");
    const scope = await error(await adminCall("POST", "/sites/nope/tokens", { scopes: ["fly"] }), 400, 9033, "scopes.0");
    expect(scope.ErrorMessage).toBe("scopes.0 must be one of push, update, delete, stats, lookup, sessions, admin.");
  });

  it("a taken slug is 9022 (409); an unknown one 9009 (404)", async () => {
    await ok(await adminCall("POST", "/sites", { slug: "twice" }), 201);
    await error(await adminCall("POST", "/sites", { slug: "twice" }), 409, 9022, "slug");
    await error(await adminCall("GET", "/sites/never"), 404, 9009);
  });

  it("a currency change reaches pushes at once (the site's cache entry is dropped)", async () => {
    const { slug, token } = await newSite();
    await ok(await post(PUSH, { ...seedPush(token), CurrencyID: "USD", permitNo: "c1" }));
    await ok(await adminCall("PATCH", `/sites/${slug}`, { currencies: ["CAD"] }));
    await error(await post(PUSH, { ...seedPush(token), CurrencyID: "USD", permitNo: "c2" }), 400, 9033, "CurrencyID");
  });
});

describe("admin: lot zones", () => {
  it("adds, lists, renames and removes zones", async () => {
    const { slug } = await newSite({ zones: [] });
    const added = await ok(await adminCall("POST", `/sites/${slug}/zones`, { name: "  Red Lot  " }), 201);
    expect(added).toMatchObject({ name: "Red Lot", reconnected: 0 });
    await ok(await adminCall("POST", `/sites/${slug}/zones`, { name: "Lot 03" }), 201);
    const list = (await ok(await adminCall("GET", `/sites/${slug}/zones`))) as { zones: Body[] };
    expect(list.zones.map((z) => z.name)).toEqual(["Lot 03", "Red Lot"]);
    const renamed = await ok(await adminCall("PATCH", `/sites/${slug}/zones/${encodeURIComponent("Red Lot")}`, { name: "Blue Lot" }));
    expect(renamed).toMatchObject({ id: added.id, name: "Blue Lot" });
    await ok(await adminCall("DELETE", `/sites/${slug}/zones/${added.id}`));
    const after = (await ok(await adminCall("GET", `/sites/${slug}/zones`))) as { zones: Body[] };
    expect(after.zones.map((z) => z.name)).toEqual(["Lot 03"]);
  });

  it("finds a zone by name before id, so a zone named like a number stays reachable", async () => {
    const { slug } = await newSite({ zones: ["Lot 4"] });
    const numeric = await ok(await adminCall("POST", `/sites/${slug}/zones`, { name: "1" }), 201);
    const renamed = await ok(await adminCall("PATCH", `/sites/${slug}/zones/1`, { name: "Lot 1" }));
    expect(renamed.id).toBe(numeric.id);
    await ok(await adminCall("DELETE", `/sites/${slug}/zones/${numeric.id}`));
  });

  it("refuses duplicates (9022), blanks (9032), over-long names (9030) and unknown zones (9009)", async () => {
    const { slug } = await newSite({ zones: ["Lot 4", "Lot 5"] });
    await error(await adminCall("POST", `/sites/${slug}/zones`, { name: "Lot 4" }), 409, 9022, "name");
    await error(await adminCall("PATCH", `/sites/${slug}/zones/${encodeURIComponent("Lot 5")}`, { name: "Lot 4" }), 409, 9022, "name");
    await error(await adminCall("POST", `/sites/${slug}/zones`, { name: "   " }), 400, 9032, "name");
    await error(await adminCall("POST", `/sites/${slug}/zones`, { name: "z".repeat(201) }), 400, 9030, "name");
    await error(await adminCall("DELETE", `/sites/${slug}/zones/Nowhere`), 404, 9009);
    await error(await adminCall("POST", "/sites/no-such-site/zones", { name: "x" }), 404, 9009);
  });

  it("adding a zone reconnects the disconnected records that named it; removing one disconnects its records", async () => {
    const { slug, token } = await newSite({ zones: [] });
    const pushed = (await ok(await post(PUSH, { ...seedPush(token), zone: "Lot 9" }))) as { reference_id: string; disconnected: boolean };
    expect(pushed.disconnected).toBe(true);
    const zone = await ok(await adminCall("POST", `/sites/${slug}/zones`, { name: "Lot 9" }), 201);
    expect(zone.reconnected).toBe(1);
    const row = await env.DB.prepare("SELECT lot_zone_id FROM permits WHERE id = ?")
      .bind(pushed.reference_id)
      .first<{ lot_zone_id: number }>();
    expect(row?.lot_zone_id).toBe(zone.id);
    // A push right after the zone exists is connected: the zone is matched inside the write, not from a cache.
    expect(await ok(await post(PUSH, { ...seedPush(token), zone: "Lot 9", permitNo: "next" }))).toMatchObject({ disconnected: false });
    const removed = await ok(await adminCall("DELETE", `/sites/${slug}/zones/${encodeURIComponent("Lot 9")}`));
    expect(removed.disconnected).toBe(2);
    expect(
      await count("permits", "zone_name = 'Lot 9' AND lot_zone_id IS NULL AND site_id = (SELECT id FROM sites WHERE slug = ?)", slug),
    ).toBe(2);
  });

  it("every zone change drops the site's cache entry", async () => {
    const { slug, token } = await newSite();
    await ok(await post(PUSH, seedPush(token)));
    const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
    expect(await env.CACHE.get(cacheKeys.site(siteId))).not.toBeNull();
    await ok(await adminCall("POST", `/sites/${slug}/zones`, { name: "Lot 77" }), 201);
    expect(await env.CACHE.get(cacheKeys.site(siteId))).toBeNull();
  });
});

describe("admin: tokens", () => {
  it("issues a token once, lists it without its secret, revokes and rotates", async () => {
    const { slug } = await newSite();
    const issued = await ok(await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"], label: "East lots" }), 201);
    expect(issued.token).toMatch(/^[A-Za-z0-9-]{1,50}$/);
    expect(issued).toMatchObject({ label: "East lots", scopes: ["push"], revokedAt: null, lastUsedAt: null });
    const stored = await env.DB.prepare("SELECT token_hash FROM api_tokens WHERE id = ?").bind(issued.id).first<{ token_hash: string }>();
    expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored?.token_hash).not.toContain(issued.token as string);

    const list = (await ok(await adminCall("GET", `/sites/${slug}/tokens`))) as { tokens: Body[] };
    const listed = list.tokens.find((t) => t.id === issued.id);
    expect(listed).toMatchObject({ label: "East lots", prefix: (issued.token as string).slice(0, 7) });
    expect(JSON.stringify(list)).not.toContain(issued.token as string);

    const revoked = await ok(await adminCall("DELETE", `/tokens/${issued.id}`));
    expect(revoked.revokedAt).toEqual(expect.any(String));
    expect(await ok(await adminCall("DELETE", `/tokens/${issued.id}`))).toEqual(revoked);
    await error(await adminCall("POST", `/tokens/${issued.id}/rotate`), 400, 9033, "id");
    await error(await adminCall("DELETE", "/tokens/tk_missing"), 404, 9009);
  });

  it("two tokens are never alike", async () => {
    const { slug } = await newSite();
    const a = await ok(await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"] }), 201);
    const b = await ok(await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"] }), 201);
    expect(a.token).not.toBe(b.token);
    expect(a.id).not.toBe(b.id);
  });

  it("refuses unknown, repeated or no scopes", async () => {
    const { slug } = await newSite();
    const before = await count("api_tokens");
    await error(await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["root"] }), 400, 9033, "scopes.0");
    await error(await adminCall("POST", `/sites/${slug}/tokens`, { scopes: [] }), 400, 9032, "scopes");
    await error(await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push", "push"] }), 400, 9033, "scopes");
    await error(await adminCall("POST", `/sites/${slug}/tokens`, {}), 400, 9031, "scopes");
    expect(await count("api_tokens")).toBe(before);
  });
});

describe("admin: bodies", () => {
  it("a body that is not JSON is 9003: wrong Content-Type 415, malformed 400", async () => {
    const { slug } = await newSite();
    const res = await call(`/api/admin/v1/sites/${slug}/zones`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "text/plain" },
      body: '{"name":"x"}',
    });
    const json = await error(res, 415, 9003);
    expect(json.ErrorMessage).toContain("application/json");
  });
});
