import { describe, expect, it } from "vitest";
import { RATE_LIMITS, RATE_PERIOD_SECONDS } from "../src/domain/rate-limits";
import { accessToken, adminCall, bearer, call, count, newClient, newSite, post, seedPush, sessionSite } from "./helpers";

// Rate limits per credential through the Workers Rate Limiting binding, which Miniflare runs locally (counting in
// fixed windows of the wall clock's minutes, exactly): the limits of wrangler.toml, enforced as configured.

type Body = Record<string, unknown>;

/**
 * Waits, if need be, until the current minute has at least `seconds` left: a burst must fall inside one of the
 * limiter's windows (the wall clock's minutes), or its count would start again halfway.
 */
async function freshWindow(seconds = 20) {
  const left = RATE_PERIOD_SECONDS - ((Date.now() / 1000) % RATE_PERIOD_SECONDS);
  if (left < seconds) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 250));
}

/** `n` pushes of distinct permits with `token`, all at once; their statuses, sorted. */
async function pushes(token: string, n: number, tag: string): Promise<number[]> {
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), permitNo: `${tag}-${i}`, LicencePlate: `RL${i}` }),
    ),
  );
  return answers.map((a) => a.status).sort();
}

const WRITES = RATE_LIMITS.standard.writes;
const statuses = (ok: number, refused: number) => [...Array(ok).fill(200), ...Array(refused).fill(429)];

describe("a credential's writes over its limit", () => {
  it("a burst: exactly the limit is let through, the rest answer 429 with Retry-After, the headers and 9998, writing nothing", async () => {
    const { token, slug } = await newSite();
    await freshWindow();
    expect(await pushes(token, WRITES + 10, "B")).toEqual(statuses(WRITES, 10));
    const site = (await (await adminCall("GET", `/sites/${slug}`)).json()) as { slug: string };
    expect(await count("permits p JOIN sites s ON s.id = p.site_id", "s.slug = ?", site.slug)).toBe(WRITES);

    const refused = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), permitNo: "ONE-MORE" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.headers.get("ratelimit")).toBe('"writes";r=0;t=60');
    expect(refused.headers.get("ratelimit-policy")).toBe('"writes";q=120;w=60, "reads";q=600;w=60');
    expect(await refused.json()).toEqual({
      status: "error",
      ErrorCode: 9998,
      ErrorMessage: "Too many writes: this API token may make 120 writes a minute (tier standard). Try again in 60 seconds.",
      requestId: expect.any(String),
    });
    // Reads are counted apart: the same token still looks plates up.
    const read = await call("/api/v1/lookup?plate=PL8RDR", { headers: bearer(token) });
    expect(read.status).toBe(200);
    expect(read.headers.get("ratelimit")).toMatch(/^"reads";r=599;t=\d+$/);
  }, 90_000);

  it("another credential of the same site keeps its own count", async () => {
    const { token, slug } = await newSite();
    const other = ((await (await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"] })).json()) as { token: string }).token;
    await freshWindow();
    expect(await pushes(token, WRITES + 1, "A")).toEqual(statuses(WRITES, 1));
    expect(await pushes(other, 5, "O")).toEqual(statuses(5, 0));
  }, 90_000);

  it("an unauthenticated flood, or one without the scope, spends nothing of the credential's budget", async () => {
    const { token, slug } = await newSite();
    const res = await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["lookup"] });
    const noPush = ((await res.json()) as { token: string }).token;
    await freshWindow(30);
    // The token with its last character changed (to one it is not).
    const twin = `${token.slice(0, -1)}${token.endsWith("x") ? "y" : "x"}`;
    const flood = await Promise.all([
      ...Array.from({ length: 150 }, () => post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), apiToken: twin })),
      ...Array.from({ length: 50 }, () => post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), apiToken: undefined })),
      ...Array.from({ length: 50 }, () => post("/api/OC-TOMA/v1/permits/push", seedPush(noPush))),
    ]);
    expect(new Set(flood.map((a) => a.status))).toEqual(new Set([401, 403]));
    // None of them carries a limit: nothing was counted.
    expect(flood.filter((a) => a.headers.has("ratelimit"))).toEqual([]);
    expect(await pushes(token, WRITES + 1, "F")).toEqual(statuses(WRITES, 1));
  }, 90_000);

  it("the credential is checked before the limit: a limited token's wrong twin is still 401", async () => {
    const { token } = await newSite();
    await freshWindow();
    expect(await pushes(token, WRITES + 1, "W")).toEqual(statuses(WRITES, 1));
    const wrong = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), apiToken: "pe-unknown" });
    expect([wrong.status, ((await wrong.json()) as Body).ErrorCode]).toEqual([401, 9002]);
    // Once counted, a bad request is still refused for the limit first: the body's rules are not reached.
    const bad = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), Amount: "x" });
    expect([bad.status, ((await bad.json()) as Body).ErrorCode]).toEqual([429, 9998]);
  }, 90_000);

  it("an OAuth client's access tokens share one budget; the header-token API's 429 carries no challenge", async () => {
    const s = await sessionSite();
    const second = await accessToken(s.client);
    await freshWindow();
    const starts = await Promise.all(
      Array.from({ length: WRITES + 4 }, (_, i) =>
        post("/api/v1/sessions", { zone_number: "104", license_plate: `OA ${i}`, duration: 10 }, bearer(i % 2 ? s.access : second)),
      ),
    );
    expect(starts.map((a) => a.status).sort()).toEqual([...Array(WRITES).fill(201), ...Array(4).fill(429)]);
    const refused = starts.find((a) => a.status === 429) as Response;
    expect(refused.headers.get("www-authenticate")).toBeNull();
    expect(await refused.json()).toMatchObject({
      ErrorCode: 9998,
      ErrorMessage: "Too many writes: this OAuth client may make 120 writes a minute (tier standard). Try again in 60 seconds.",
    });
  }, 90_000);
});

describe("every counted answer says the limit", () => {
  it("RateLimit-Policy and RateLimit on successes and on errors after the credential, none on refused credentials", async () => {
    const { token } = await newSite();
    await freshWindow(5);
    const first = await call("/api/v1/lookup?plate=ABC", { headers: bearer(token) });
    expect(first.headers.get("ratelimit-policy")).toBe('"writes";q=120;w=60, "reads";q=600;w=60');
    const [, t] = /^"reads";r=599;t=(\d+)$/.exec(first.headers.get("ratelimit") ?? "") ?? [];
    expect(Number(t)).toBeGreaterThan(0);
    expect(Number(t)).toBeLessThanOrEqual(60);
    const invalid = await call(`/api/v1/lookup?plate=${"A".repeat(30)}`, { headers: bearer(token) });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get("ratelimit")).toMatch(/^"reads";r=598;t=\d+$/);
    const push = await post("/api/OC-TOMA/v1/permits/push", seedPush(token));
    expect(push.headers.get("ratelimit")).toMatch(/^"writes";r=119;t=\d+$/);
    const stats = await post("/api/OC-TOMA/v1/permits/stats", { apiToken: token });
    expect(stats.headers.get("ratelimit")).toMatch(/^"reads";r=597;t=\d+$/);
    const feed = await call("/api/pbp/v2014-06/zones", { headers: { "x-apikey": token } });
    expect(feed.headers.get("ratelimit")).toMatch(/^"reads";r=596;t=\d+$/);
    const validate = await post("/api/v1/validate/plate", { api_token: token, client: "someone-else", plate: "ABC" });
    expect(validate.status).toBe(403);
    expect(validate.headers.get("ratelimit")).toMatch(/^"reads";r=595;t=\d+$/);
    for (const refused of [
      await call("/api/v1/lookup?plate=ABC"),
      await call("/api/v1/lookup?plate=ABC", { headers: bearer("pe-unknown") }),
      await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), apiToken: "pe-unknown" }),
    ]) {
      expect(refused.status).toBe(401);
      expect(refused.headers.has("ratelimit")).toBe(false);
    }
    // Browsers may read them (CORS).
    const cors = await call("/api/v1/lookup?plate=ABC", { headers: { ...bearer(token), origin: "https://enforce.example" } });
    expect(cors.headers.get("access-control-expose-headers")).toMatch(/RateLimit,RateLimit-Policy/);
  });

  it("the admin API is not counted", async () => {
    const { slug } = await newSite();
    const res = await adminCall("GET", `/sites/${slug}/zones`);
    expect(res.status).toBe(200);
    expect(res.headers.has("ratelimit")).toBe(false);
  });
});

describe("an admin raises a credential's tier", () => {
  it("a token past its standard writes writes again once raised to high, under high's limits", async () => {
    const { token, tokenId, slug } = await newSite();
    await freshWindow(30);
    expect(await pushes(token, WRITES + 1, "T")).toEqual(statuses(WRITES, 1));
    const raised = await adminCall("PATCH", `/tokens/${tokenId}`, { tier: "high" });
    expect([raised.status, await raised.json()]).toEqual([200, expect.objectContaining({ id: tokenId, tier: "high" })]);
    const res = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), permitNo: "AFTER" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toBe('"writes";q=600;w=60, "reads";q=3000;w=60');
    expect(res.headers.get("ratelimit")).toMatch(/^"writes";r=\d+;t=\d+$/);
    expect((await (await adminCall("GET", `/sites/${slug}/tokens`)).json()) as Body).toMatchObject({
      tokens: [expect.objectContaining({ id: tokenId, tier: "high" })],
    });
  }, 90_000);

  it("an OAuth client's tier is its access tokens'", async () => {
    const s = await sessionSite();
    const res = await adminCall("PATCH", `/clients/${s.client.clientId}`, { tier: "max" });
    expect([res.status, await res.json()]).toEqual([200, expect.objectContaining({ clientId: s.client.clientId, tier: "max" })]);
    expect((await me(s.access)).rate_limits).toEqual({
      tier: "max",
      writes: { limit: 3000, window: 60 },
      reads: { limit: 15000, window: 60 },
    });
  });

  it("refuses an unknown tier, a revoked credential, an unknown one, and anyone but ADMIN_TOKEN, changing nothing", async () => {
    const { slug, tokenId } = await newSite();
    const admin = ((await (await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["admin"] })).json()) as { token: string }).token;
    const client = await newClient(slug);
    const cases: [string, string, unknown, string | undefined, number, number, string | undefined][] = [
      ["PATCH", `/tokens/${tokenId}`, { tier: "platinum" }, undefined, 400, 9033, "tier"],
      ["PATCH", `/tokens/${tokenId}`, {}, undefined, 400, 9031, "tier"],
      ["PATCH", "/tokens/tk_nosuchtoken0", { tier: "high" }, undefined, 404, 9009, "id"],
      ["PATCH", `/clients/${client.clientId}`, { tier: "" }, undefined, 400, 9033, "tier"],
      // A site's admin-scope token may not raise its own site's limits, whatever it sends.
      ["PATCH", `/tokens/${tokenId}`, { tier: "max" }, admin, 403, 9002, undefined],
      ["PATCH", `/tokens/${tokenId}`, { tier: "platinum" }, admin, 403, 9002, undefined],
      ["PATCH", `/clients/${client.clientId}`, { tier: "max" }, admin, 403, 9002, undefined],
    ];
    for (const [method, path, body, bearerToken, status, code, field] of cases) {
      const res = await adminCall(method, path, body, bearerToken);
      const json = (await res.json()) as Body;
      expect([path, bearerToken ? "admin-scope" : "root", res.status, json.ErrorCode, json.field]).toEqual([
        path,
        bearerToken ? "admin-scope" : "root",
        status,
        code,
        field,
      ]);
    }
    expect(await adminCall("DELETE", `/tokens/${tokenId}`)).toHaveProperty("status", 200);
    expect(await adminCall("DELETE", `/clients/${client.clientId}`)).toHaveProperty("status", 200);
    for (const path of [`/tokens/${tokenId}`, `/clients/${client.clientId}`]) {
      const res = await adminCall("PATCH", path, { tier: "high" });
      expect([res.status, await res.json()]).toEqual([400, expect.objectContaining({ ErrorCode: 9033, field: "id" })]);
    }
    expect(await count("api_tokens", "id = ? AND rate_tier = 'standard'", tokenId)).toBe(1);
    expect(await count("oauth_clients", "id = ? AND rate_tier = 'standard'", client.clientId)).toBe(1);
  });
});

type Me = {
  kind: string;
  id: string;
  label: string;
  site: { slug: string; currencies: string[] };
  scopes: string[];
  expires_at: string | null;
  rate_limits: Body;
};

async function me(credential: string, headers: Record<string, string> = bearer(credential)): Promise<Me> {
  const res = await call("/api/v1/me", { headers });
  const body = (await res.json()) as Me;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

describe("GET /api/v1/me", () => {
  it("an API token: its site, scopes, kind, no expiry, and its limits, whatever its scopes and header", async () => {
    const { slug, tokenId } = await newSite({ currencies: ["USD", "CAD"] });
    const res = await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"], label: "Pay stations" });
    const push = (await res.json()) as { id: string; token: string };
    const expected = {
      kind: "api_token",
      id: push.id,
      label: "Pay stations",
      site: { slug, currencies: ["USD", "CAD"] },
      scopes: ["push"],
      expires_at: null,
      rate_limits: { tier: "standard", writes: { limit: 120, window: 60 }, reads: { limit: 600, window: 60 } },
    };
    expect(await me(push.token)).toEqual(expected);
    expect(await me(push.token, { "x-api-key": push.token })).toEqual(expected);
    expect(tokenId).not.toBe(push.id);
  });

  it("an OAuth access token: the client, the token's scopes and its expiry", async () => {
    const s = await sessionSite();
    const narrow = await accessToken(s.client, "lookup");
    const before = Math.floor(Date.now() / 1000);
    const answer = await me(narrow);
    expect(answer).toMatchObject({ kind: "oauth_client", id: s.client.clientId, label: "ParkOnce", scopes: ["lookup"] });
    const expires = Date.parse(answer.expires_at as string) / 1000;
    expect(expires - before).toBeGreaterThanOrEqual(3599);
    expect(expires - before).toBeLessThanOrEqual(3601);
    expect(answer.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("refuses a missing, unknown or revoked credential with the project's error and RFC 6750's challenge", async () => {
    const { tokenId, token } = await newSite();
    const none = await call("/api/v1/me");
    expect([none.status, ((await none.json()) as Body).ErrorCode, none.headers.get("www-authenticate")]).toEqual([
      401,
      9001,
      'Bearer realm="permits-edge"',
    ]);
    // Genetec's header is the feed's alone.
    expect((await call("/api/v1/me", { headers: { "x-apikey": token } })).status).toBe(401);
    await adminCall("DELETE", `/tokens/${tokenId}`);
    const revoked = await call("/api/v1/me", { headers: bearer(token) });
    expect([revoked.status, ((await revoked.json()) as Body).ErrorCode]).toEqual([401, 9002]);
    expect(revoked.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("counts as a read", async () => {
    const { token } = await newSite();
    await freshWindow(5);
    const res = await call("/api/v1/me", { headers: bearer(token) });
    expect(res.headers.get("ratelimit")).toMatch(/^"reads";r=599;t=\d+$/);
  });
});
