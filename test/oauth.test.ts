import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/auth/secrets";
import { accessToken, adminCall, basic, bearer, call, count, eventually, newClient, newSite, post, postForm, seedPush } from "./helpers";

// OAuth 2.0 client credentials (RFC 6749 §4.4, §5.1, §5.2), revocation (RFC 7009), and access tokens used as bearers
// on the header-token API (RFC 6750), with the admin API's clients behind them.

type Body = Record<string, unknown>;

async function client(scopes = ["sessions", "lookup"]) {
  const site = await newSite({ scopes: ["push", "lookup", "sessions", "stats"] });
  return { site, ...(await newClient(site.slug, { scopes })) };
}

const tokens = () => count("oauth_tokens");

/** An RFC 6749 §5.2 error answer, with no-store, writing no token. */
async function oauthError(request: () => Promise<Response>, status: number, error: string) {
  const before = await tokens();
  const res = await request();
  const json = (await res.json()) as Body;
  expect(json, JSON.stringify(json)).toEqual({ error, error_description: expect.any(String) });
  expect(res.status).toBe(status);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(await tokens()).toBe(before);
  return res;
}

describe("POST /oauth/token: every way a client authenticates", () => {
  it("HTTP Basic with a form body: a Bearer token for an hour, the client's scopes, never cached", async () => {
    const c = await client();
    const res = await postForm("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, c.clientSecret));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("pragma")).toBe("no-cache");
    const json = (await res.json()) as Body;
    expect(json).toEqual({
      access_token: expect.stringMatching(/^at-[A-Za-z0-9]{43}$/),
      token_type: "Bearer",
      expires_in: 3600,
      scope: "sessions lookup",
    });
    // Stored only as its hash, with its expiry an hour ahead.
    const row = await env.DB.prepare("SELECT * FROM oauth_tokens WHERE client_id = ?").bind(c.clientId).first<Body>();
    expect(row?.token_hash).toBe(await sha256Hex(json.access_token as string));
    expect(JSON.stringify(row)).not.toContain(json.access_token as string);
    expect((row?.expires_at as number) - (row?.issued_at as number)).toBe(3600);
  });

  it("client_id and client_secret in a form body", async () => {
    const c = await client();
    const res = await postForm("/oauth/token", { grant_type: "client_credentials", client_id: c.clientId, client_secret: c.clientSecret });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Body).token_type).toBe("Bearer");
  });

  it("a JSON body, as seed 003's ParkOnce sends it", async () => {
    const c = await client();
    const res = await post("/oauth/token", { grant_type: "client_credentials", client_id: c.clientId, client_secret: c.clientSecret });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("HTTP Basic with a JSON body, and Basic whose halves are form-urlencoded (RFC 6749 §2.3.1)", async () => {
    const c = await client();
    expect((await post("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, c.clientSecret))).status).toBe(200);
    // "oc_…" with its underscore percent-encoded still names the client.
    const encoded = { authorization: `Basic ${btoa(`${c.clientId.replace("_", "%5F")}:${c.clientSecret}`)}` };
    expect((await postForm("/oauth/token", { grant_type: "client_credentials" }, encoded)).status).toBe(200);
    // Basic plus the same client_id in the body is one method.
    const same = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials", client_id: c.clientId },
      basic(c.clientId, c.clientSecret),
    );
    expect(same.status).toBe(200);
  });

  it("a scope narrows the token (space-separated, RFC 6749 §3.3)", async () => {
    const c = await client();
    const res = await postForm("/oauth/token", { grant_type: "client_credentials", scope: "lookup" }, basic(c.clientId, c.clientSecret));
    const json = (await res.json()) as Body;
    expect(json.scope).toBe("lookup");
    const token = json.access_token as string;
    expect((await call("/api/v1/lookup?plate=ABC", { headers: bearer(token) })).status).toBe(200);
    const zones = await call("/api/v1/zones", { headers: bearer(token) });
    expect(zones.status).toBe(403);
    expect(zones.headers.get("www-authenticate")).toMatch(/error="insufficient_scope".*scope="sessions"/);
  });

  it("records the client's last use", async () => {
    const c = await client();
    expect(await env.DB.prepare("SELECT last_used_at FROM oauth_clients WHERE id = ?").bind(c.clientId).first("last_used_at")).toBeNull();
    await accessToken(c);
    const used = await env.DB.prepare("SELECT last_used_at FROM oauth_clients WHERE id = ?").bind(c.clientId).first<number>("last_used_at");
    expect(used).toBeGreaterThan(Date.now() / 1000 - 60);
  });
});

describe("POST /oauth/token: every RFC 6749 §5.2 error, each writing nothing", () => {
  it("invalid_request: grant_type missing, a parameter twice, a value not a string, a body neither form nor JSON", async () => {
    const c = await client();
    const auth = basic(c.clientId, c.clientSecret);
    await oauthError(() => postForm("/oauth/token", {}, auth), 400, "invalid_request");
    await oauthError(
      () =>
        call("/oauth/token", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", ...auth },
          body: "grant_type=client_credentials&grant_type=client_credentials",
        }),
      400,
      "invalid_request",
    );
    await oauthError(() => post("/oauth/token", { grant_type: 1 }, auth), 400, "invalid_request");
    await oauthError(() => post("/oauth/token", "[1]", auth), 400, "invalid_request");
    await oauthError(() => post("/oauth/token", "{not json", auth), 400, "invalid_request");
    await oauthError(
      () =>
        call("/oauth/token", { method: "POST", headers: { "content-type": "text/plain", ...auth }, body: "grant_type=client_credentials" }),
      400,
      "invalid_request",
    );
  });

  it("invalid_request: two authentication methods at once, or a body client_id that is not the Basic one", async () => {
    const c = await client();
    const other = await client();
    const auth = basic(c.clientId, c.clientSecret);
    await oauthError(
      () => postForm("/oauth/token", { grant_type: "client_credentials", client_secret: c.clientSecret }, auth),
      400,
      "invalid_request",
    );
    await oauthError(
      () => postForm("/oauth/token", { grant_type: "client_credentials", client_id: other.clientId }, auth),
      400,
      "invalid_request",
    );
  });

  it("invalid_client (401, WWW-Authenticate: Basic): none sent, malformed, unknown, wrong secret, revoked", async () => {
    const c = await client();
    const cases: (() => Promise<Response>)[] = [
      () => postForm("/oauth/token", { grant_type: "client_credentials" }),
      () => postForm("/oauth/token", { grant_type: "client_credentials", client_id: c.clientId }),
      () => postForm("/oauth/token", { grant_type: "client_credentials" }, { authorization: "Basic !!!" }),
      () => postForm("/oauth/token", { grant_type: "client_credentials" }, { authorization: `Basic ${btoa("no-colon")}` }),
      () => postForm("/oauth/token", { grant_type: "client_credentials" }, { authorization: `Bearer ${c.clientSecret}` }),
      () => postForm("/oauth/token", { grant_type: "client_credentials" }, basic("oc_unknown", c.clientSecret)),
      () => postForm("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, `${c.clientSecret}x`)),
      () => post("/oauth/token", { grant_type: "client_credentials", client_id: c.clientId, client_secret: "cs-wrong" }),
    ];
    for (const request of cases) {
      const res = await oauthError(request, 401, "invalid_client");
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="permits-edge"');
    }
    expect((await adminCall("DELETE", `/clients/${c.clientId}`)).status).toBe(200);
    await oauthError(
      () => postForm("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, c.clientSecret)),
      401,
      "invalid_client",
    );
  });

  it("the client is authenticated before the request is judged", async () => {
    // A bad grant_type from an unknown client is invalid_client, not unsupported_grant_type: it learns nothing.
    await oauthError(() => postForm("/oauth/token", { grant_type: "password" }, basic("oc_nobody", "cs-x")), 401, "invalid_client");
  });

  it("unsupported_grant_type", async () => {
    const c = await client();
    for (const grant of ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"]) {
      await oauthError(
        () => postForm("/oauth/token", { grant_type: grant }, basic(c.clientId, c.clientSecret)),
        400,
        "unsupported_grant_type",
      );
    }
  });

  it("invalid_scope: a scope the client does not hold, or that does not exist", async () => {
    const c = await client(["sessions"]);
    for (const scope of ["lookup", "admin", "push", "sessions nonsense"]) {
      await oauthError(
        () => postForm("/oauth/token", { grant_type: "client_credentials", scope }, basic(c.clientId, c.clientSecret)),
        400,
        "invalid_scope",
      );
    }
  });

  it("a body too large or not UTF-8 is invalid_request in the RFC's shape", async () => {
    const c = await client();
    const auth = basic(c.clientId, c.clientSecret);
    await oauthError(
      () =>
        call("/oauth/token", { method: "POST", headers: { "content-type": "application/json", ...auth }, body: `"${"x".repeat(40_000)}"` }),
      413,
      "invalid_request",
    );
    await oauthError(
      () =>
        call("/oauth/token", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", ...auth },
          body: new Uint8Array([0x67, 0x3d, 0xff]),
        }),
      400,
      "invalid_request",
    );
  });
});

describe("access tokens on the header-token API (RFC 6750)", () => {
  it("answer like an API token: the client's site, the token's scopes", async () => {
    const c = await client();
    const token = await accessToken(c);
    const res = await call("/api/v1/zones", { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { zones: Body[] }).zones.map((z) => z.name)).toEqual(["Lot 01", "Lot 02", "Lot 4"]);
  });

  it("missing credentials: 401 with a bare Bearer challenge (no error code, RFC 6750 §3.1)", async () => {
    const res = await call("/api/v1/zones");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="permits-edge"');
    expect(await res.json()).toMatchObject({ status: "error", ErrorCode: 9001, field: "Authorization" });
  });

  it("an unknown, malformed or expired token: 401 invalid_token, with our error body", async () => {
    const c = await client();
    const token = await accessToken(c);
    await env.DB.prepare("UPDATE oauth_tokens SET expires_at = ? WHERE token_hash = ?")
      .bind(Math.floor(Date.now() / 1000) - 1, await sha256Hex(token))
      .run();
    for (const [value, message] of [
      [token, /has expired/],
      ["at-unknown", /unknown or revoked/],
      ["bad!token", /not valid/],
    ] as const) {
      const res = await call("/api/v1/zones", { headers: { authorization: `Bearer ${value}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(
        /^Bearer realm="permits-edge", error="invalid_token", error_description="[^"]+"$/,
      );
      expect(await res.json()).toMatchObject({ ErrorCode: 9002, field: "Authorization", ErrorMessage: expect.stringMatching(message) });
    }
  });

  it("an under-scoped API token or access token: 403 insufficient_scope naming the scope", async () => {
    const { site } = await client();
    const res = await adminCall("POST", `/sites/${site.slug}/tokens`, { scopes: ["push"] });
    const pushOnly = ((await res.json()) as { token: string }).token;
    for (const headers of [{ "x-api-key": pushOnly }, bearer(pushOnly)]) {
      const refused = await call("/api/v1/rights?license_plate=ABC", { headers });
      expect(refused.status).toBe(403);
      expect(refused.headers.get("www-authenticate")).toMatch(/error="insufficient_scope".*scope="lookup"/);
      expect(await refused.json()).toMatchObject({ ErrorCode: 9002 });
    }
  });

  it("travel as bearers only: not as X-Api-Key, not as an OC-TOMA apiToken", async () => {
    const c = await client(["sessions", "lookup"]);
    const token = await accessToken(c);
    expect((await call("/api/v1/zones", { headers: { "x-api-key": token } })).status).toBe(401);
    const push = await post("/api/OC-TOMA/v1/permits/push", seedPush(token));
    expect(push.status).toBe(401);
  });

  it("stop working at once here when the client is revoked or rotated", async () => {
    const c = await client();
    const token = await accessToken(c);
    expect((await call("/api/v1/zones", { headers: bearer(token) })).status).toBe(200);
    const rotated = await adminCall("POST", `/clients/${c.clientId}/rotate`);
    const { clientSecret } = (await rotated.json()) as { clientSecret: string };
    // The old token and secret are gone; the new secret works.
    expect((await call("/api/v1/zones", { headers: bearer(token) })).status).toBe(401);
    await oauthError(
      () => postForm("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, c.clientSecret)),
      401,
      "invalid_client",
    );
    const fresh = await accessToken({ clientId: c.clientId, clientSecret });
    expect((await call("/api/v1/zones", { headers: bearer(fresh) })).status).toBe(200);
    expect((await adminCall("DELETE", `/clients/${c.clientId}`)).status).toBe(200);
    expect((await call("/api/v1/zones", { headers: bearer(fresh) })).status).toBe(401);
  });

  it("a use is recorded on the client at most once a minute", async () => {
    const c = await client();
    const token = await accessToken(c);
    await env.DB.prepare("UPDATE oauth_clients SET last_used_at = NULL WHERE id = ?").bind(c.clientId).run();
    expect((await call("/api/v1/zones", { headers: bearer(token) })).status).toBe(200);
    const used = () => env.DB.prepare("SELECT last_used_at FROM oauth_clients WHERE id = ?").bind(c.clientId).first("last_used_at");
    expect(await eventually(used, (at) => at != null)).toEqual(expect.any(Number));
  });
});

describe("POST /oauth/revoke (RFC 7009)", () => {
  it("revokes the client's own token: 200 with no body, and the token stops working", async () => {
    const c = await client();
    const token = await accessToken(c);
    expect((await call("/api/v1/zones", { headers: bearer(token) })).status).toBe(200);
    const res = await postForm("/oauth/revoke", { token, token_type_hint: "access_token" }, basic(c.clientId, c.clientSecret));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect((await call("/api/v1/zones", { headers: bearer(token) })).status).toBe(401);
    // Again, and for a token that never existed: still 200 (RFC 7009 §2.2).
    expect((await postForm("/oauth/revoke", { token }, basic(c.clientId, c.clientSecret))).status).toBe(200);
    expect((await post("/oauth/revoke", { token: "at-never", client_id: c.clientId, client_secret: c.clientSecret })).status).toBe(200);
  });

  it("refuses another client's token, which keeps working", async () => {
    const c = await client();
    const other = await newClient(c.site.slug, { label: "Other" });
    const token = await accessToken(c);
    await oauthError(() => postForm("/oauth/revoke", { token }, basic(other.clientId, other.clientSecret)), 400, "unauthorized_client");
    expect((await call("/api/v1/zones", { headers: bearer(token) })).status).toBe(200);
  });

  it("needs the client's credentials and the token", async () => {
    const c = await client();
    const token = await accessToken(c);
    await oauthError(() => postForm("/oauth/revoke", { token }), 401, "invalid_client");
    await oauthError(() => postForm("/oauth/revoke", {}, basic(c.clientId, c.clientSecret)), 400, "invalid_request");
    expect((await call("/api/v1/zones", { headers: bearer(token) })).status).toBe(200);
  });
});

describe("admin: OAuth clients", () => {
  it("registers a client, shows its secret once, stores only the secret's hash, lists, revokes twice", async () => {
    const { slug } = await newSite();
    const res = await adminCall("POST", `/sites/${slug}/clients`, { label: "ParkOnce", scopes: ["sessions", "lookup"] });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Body;
    expect(created).toEqual({
      clientId: expect.stringMatching(/^oc_[0-9a-z]{16}$/),
      label: "ParkOnce",
      scopes: ["sessions", "lookup"],
      secretPrefix: (created.clientSecret as string).slice(0, 7),
      createdAt: expect.any(String),
      lastUsedAt: null,
      revokedAt: null,
      tier: "standard",
      clientSecret: expect.stringMatching(/^cs-[A-Za-z0-9]{43}$/),
    });
    const row = await env.DB.prepare("SELECT * FROM oauth_clients WHERE id = ?").bind(created.clientId).first<Body>();
    expect(row?.secret_hash).toBe(await sha256Hex(created.clientSecret as string));
    expect(JSON.stringify(row)).not.toContain(created.clientSecret as string);
    const list = (await (await adminCall("GET", `/sites/${slug}/clients`)).json()) as { clients: Body[] };
    expect(list.clients).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(created.clientSecret as string);
    const revoked = (await (await adminCall("DELETE", `/clients/${created.clientId}`)).json()) as Body;
    expect(revoked.revokedAt).toEqual(expect.any(String));
    expect(await (await adminCall("DELETE", `/clients/${created.clientId}`)).json()).toEqual(revoked);
    const rotate = await adminCall("POST", `/clients/${created.clientId}/rotate`);
    expect(rotate.status).toBe(400);
    expect(await rotate.json()).toMatchObject({ ErrorCode: 9033, field: "id" });
  });

  it("refuses bad input, writing nothing", async () => {
    const { slug } = await newSite();
    const before = await count("oauth_clients");
    const cases: [unknown, number, string][] = [
      [{ scopes: ["sessions"] }, 9031, "label"],
      [{ label: " ", scopes: ["sessions"] }, 9032, "label"],
      [{ label: "x".repeat(101), scopes: ["sessions"] }, 9030, "label"],
      [{ label: "X", scopes: [] }, 9032, "scopes"],
      [{ label: "X", scopes: ["admin"] }, 9033, "scopes.0"],
      [{ label: "X", scopes: ["push"] }, 9033, "scopes.0"],
      [{ label: "X", scopes: ["lookup", "lookup"] }, 9033, "scopes"],
    ];
    for (const [body, code, field] of cases) {
      const res = await adminCall("POST", `/sites/${slug}/clients`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ ErrorCode: code, field });
    }
    expect(await count("oauth_clients")).toBe(before);
  });

  it("a site's admin token manages its own site's clients only", async () => {
    const mine = await newSite();
    const theirs = await newSite();
    const other = await newClient(theirs.slug);
    const res = await adminCall("POST", `/sites/${mine.slug}/tokens`, { scopes: ["admin"] });
    const admin = ((await res.json()) as { token: string }).token;
    expect((await adminCall("POST", `/sites/${mine.slug}/clients`, { label: "Mine", scopes: ["sessions"] }, admin)).status).toBe(201);
    expect((await adminCall("GET", `/sites/${theirs.slug}/clients`, undefined, admin)).status).toBe(404);
    for (const [method, path] of [
      ["DELETE", `/clients/${other.clientId}`],
      ["POST", `/clients/${other.clientId}/rotate`],
    ] as const) {
      const refused = await adminCall(method, path, undefined, admin);
      expect(refused.status).toBe(404);
      expect(await refused.json()).toMatchObject({ ErrorCode: 9009 });
    }
    expect(await accessToken(other)).toMatch(/^at-/);
  });
});
