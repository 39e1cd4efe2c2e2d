import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  adminCall,
  CONSOLE_ORIGIN,
  call,
  consolePage,
  consoleSignIn,
  consoleSubmit,
  count,
  csrfOf,
  newSite,
  post,
  pushed,
  seedPush,
} from "./helpers";

describe("admin console", () => {
  it("signs in with the admin secret into a HttpOnly, Secure, SameSite=Strict cookie with an expiry", async () => {
    const { cookie, session } = await consoleSignIn();
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Max-Age=28800/i);
    expect(cookie).toMatch(/Path=\/admin/i);
    expect((await consolePage("/admin", session)).status).toBe(200);
  });

  it("refuses a wrong secret, and sends visitors without a session to the sign-in", async () => {
    const res = await call("/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: CONSOLE_ORIGIN },
      body: "secret=nope",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain('role="alert"');
    for (const cookie of ["", "pe_session=forged", `pe_session=${"A".repeat(43)}`]) {
      const res = await consolePage("/admin/sites/x/zones", cookie);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/admin/login");
    }
  });

  it("applies the admin API's rules: adding a zone, then a duplicate", async () => {
    const { slug } = await newSite({ zones: [] });
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/zones`, session);
    expect((await consoleSubmit(`/admin/sites/${slug}/zones`, session, { _csrf: token, name: "Console Lot" })).status).toBe(303);
    const html = await (await consolePage(`/admin/sites/${slug}/zones`, session)).text();
    expect(html).toContain("Console Lot");
    expect(html).toMatch(/role="status">Added lot zone Console Lot/);
    await consoleSubmit(`/admin/sites/${slug}/zones`, session, { _csrf: token, name: "Console Lot" });
    expect(await (await consolePage(`/admin/sites/${slug}/zones`, session)).text()).toMatch(
      /role="alert">Lot zone Console Lot already exists/,
    );
  });

  it("refuses cross-site posts and posts without the form token, writing nothing", async () => {
    const { slug } = await newSite({ zones: [] });
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/zones`, session);
    const crossSite = await consoleSubmit(`/admin/sites/${slug}/zones`, session, { _csrf: token, name: "evil" }, "https://evil.example");
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toMatch(/role="alert">Refused: this form was posted from another site\. \(error 9003/);
    expect((await consoleSubmit(`/admin/sites/${slug}/zones`, session, { name: "evil" })).status).toBe(403);
    expect((await consoleSubmit(`/admin/sites/${slug}/zones`, session, { _csrf: "guess", name: "evil" })).status).toBe(403);
    expect(await count("lot_zones", "name = 'evil'")).toBe(0);
  });

  it("shows a new token's secret once, and revokes it", async () => {
    const { slug } = await newSite();
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/tokens`, session);
    const body = new URLSearchParams([
      ["_csrf", token],
      ["scopes", "push"],
      ["scopes", "lookup"],
      ["label", "Console token"],
    ]);
    await call(`/admin/sites/${slug}/tokens`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: CONSOLE_ORIGIN, cookie: session },
      body,
      redirect: "manual",
    });
    const first = await (await consolePage(`/admin/sites/${slug}/tokens`, session)).text();
    const secret = /<output id="new-token">([^<]+)<\/output>/.exec(first)?.[1];
    expect(secret).toMatch(/^pe-/);
    expect(first).toContain("push, lookup");
    expect(await (await consolePage(`/admin/sites/${slug}/tokens`, session)).text()).not.toContain(secret as string);
    expect((await call("/api/v1/lookup?plate=ABC", { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    const row = first.split("<tr>").find((r) => r.includes("Console token")) as string;
    const id = /action="\/admin\/sites\/[^/]+\/tokens\/(tk_[a-z0-9]+)\/revoke"/.exec(row)?.[1] as string;
    await consoleSubmit(`/admin/sites/${slug}/tokens/${id}/revoke`, session, { _csrf: token });
    expect((await call("/api/v1/lookup?plate=ABC", { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  it("sign-out ends the session on the server: the old cookie no longer works", async () => {
    const { session } = await consoleSignIn();
    const token = await csrfOf("/admin", session);
    expect((await consoleSubmit("/admin/logout", session, { _csrf: token })).headers.get("location")).toBe("/admin/login");
    expect((await consolePage("/admin", session)).status).toBe(303);
  });

  it("never shows a stored ParkMobile secret (the username, which names the account, is shown)", async () => {
    const { slug } = await newSite();
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/settings`, session);
    await consoleSubmit(`/admin/sites/${slug}/settings`, session, {
      _csrf: token,
      username: "u-secret",
      password: "p-secret",
      apiKey: "k-secret",
      baseUrl: "https://pm.example",
    });
    const html = await (await consolePage(`/admin/sites/${slug}/settings`, session)).text();
    expect(html).toContain("Saved the ParkMobile settings.");
    for (const s of ["p-secret", "k-secret", ADMIN]) expect(html).not.toContain(s);
    expect(html).toContain("u-secret");
    expect(html).toContain("https://pm.example");
  });
});

describe("admin console: an expired session", () => {
  it("leads back to the sign-in", async () => {
    const { env } = await import("cloudflare:workers");
    const { session } = await consoleSignIn();
    expect((await consolePage("/admin", session)).status).toBe(200);
    await env.DB.prepare("UPDATE console_sessions SET expires_at = 0").run();
    const res = await consolePage("/admin", session);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login");
  });
});

describe("admin console: the one-time secret", () => {
  it("is never stored in the clear between the post and the page that shows it", async () => {
    const { env } = await import("cloudflare:workers");
    const { slug } = await newSite();
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/tokens`, session);
    const body = new URLSearchParams([
      ["_csrf", token],
      ["scopes", "push"],
    ]);
    await call(`/admin/sites/${slug}/tokens`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: CONSOLE_ORIGIN, cookie: session },
      body,
      redirect: "manual",
    });
    const stored = await env.DB.prepare("SELECT flash FROM console_sessions WHERE flash IS NOT NULL").all<{ flash: string }>();
    const html = await (await consolePage(`/admin/sites/${slug}/tokens`, session)).text();
    const secret = /<output id="new-token">([^<]+)<\/output>/.exec(html)?.[1] as string;
    expect(secret).toMatch(/^pe-/);
    expect(stored.results.length).toBeGreaterThan(0);
    for (const row of stored.results) expect(row.flash).not.toContain(secret);
  });
});

describe("admin console: what a person meets", () => {
  it("an unknown site is a 404 page with no forms", async () => {
    const { session } = await consoleSignIn();
    const res = await consolePage("/admin/sites/no-such-site/zones", session);
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain("Site no-such-site does not exist.");
    expect(html).not.toContain('name="name"');
  });

  it("asks before removing a zone: the question changes nothing, the answer removes that zone, even beside a zone named by its id", async () => {
    const { slug } = await newSite({ zones: ["Doomed Lot"] });
    const id = (await env.DB.prepare("SELECT id FROM lot_zones WHERE name = 'Doomed Lot'").first<{ id: number }>())?.id as number;
    // A zone whose name is the other's id: the admin API finds a zone by name first, so console addresses use names.
    expect((await adminCall("POST", `/sites/${slug}/zones`, { name: String(id) })).status).toBe(201);
    const { session } = await consoleSignIn();
    const zones = await (await consolePage(`/admin/sites/${slug}/zones`, session)).text();
    const path = /action="(\/admin\/sites\/[^"]+\/zones\/Doomed%20Lot\/remove)"/.exec(zones)?.[1] as string;
    expect(path).toBeDefined();
    const question = await (await consolePage(path, session)).text();
    expect(question).toContain("Remove lot zone Doomed Lot?");
    expect(await count("lot_zones", "name = 'Doomed Lot'")).toBe(1);
    const token = /name="_csrf" value="([^"]+)"/.exec(question)?.[1] as string;
    expect((await consoleSubmit(path, session, { _csrf: token })).status).toBe(303);
    expect(await count("lot_zones", "name = 'Doomed Lot'")).toBe(0);
    expect(await count("lot_zones", `name = '${id}'`)).toBe(1);
    // Its details page is found by name too.
    const details = await (await consolePage(`/admin/sites/${slug}/zones/${id}`, session)).text();
    expect(details).toContain(`Lot zone ${id}`);
  });

  it("fills a refused form in again, and marks the page it is on", async () => {
    const { slug } = await newSite({ zones: ["Taken"] });
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/zones`, session);
    await consoleSubmit(`/admin/sites/${slug}/zones`, session, { _csrf: token, name: "Taken" });
    const html = await (await consolePage(`/admin/sites/${slug}/zones`, session)).text();
    expect(html).toMatch(/role="alert">Lot zone Taken already exists/);
    expect(html).toMatch(/id="new-zone" name="name" required="" maxlength="200" value="Taken"/);
    expect(html).toMatch(/aria-current="page"[^>]*>Lot zones</);
  });

  it("adds a standard permit, lists it, and downloads the search as CSV", async () => {
    const { slug } = await newSite();
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/standard`, session);
    const fields = { plate: "CON 1", zone: "Lot 4", startTime: "2026-09-01T00:00:00", endTime: "2027-04-30T23:59:59", permitNo: "C-1" };
    expect((await consoleSubmit(`/admin/sites/${slug}/standard`, session, { _csrf: token, ...fields })).status).toBe(303);
    const html = await (await consolePage(`/admin/sites/${slug}/standard`, session)).text();
    expect(html).toMatch(/role="status">Added standard permit /);
    expect(html).toContain("1 permit(s) match");
    expect(html).toContain("CON 1");
    const csv = await consolePage(`/admin/sites/${slug}/standard.csv?plate=con1`, session);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect((await csv.text()).split("\r\n").filter(Boolean)).toHaveLength(2);
  });
});

describe("admin console: a record is shown and acted on under its own site only", () => {
  it("another site's permit, token or OAuth client is 404 under this site's path, and nothing is done to it", async () => {
    const mine = await newSite();
    const theirs = await newSite({ scopes: ["push"] });
    const permit = await pushed(theirs.token);
    const client = (await (await adminCall("POST", `/sites/${theirs.slug}/clients`, { label: "Other", scopes: ["lookup"] })).json()) as {
      clientId: string;
    };
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${mine.slug}/zones`, session);
    const base = `/admin/sites/${mine.slug}`;
    for (const path of [
      `${base}/permits/${permit}`,
      `${base}/permits/${permit}/end`,
      `${base}/tokens/${theirs.tokenId}/revoke`,
      `${base}/clients/${client.clientId}/revoke`,
      `${base}/clients/${client.clientId}/rotate`,
    ]) {
      const res = await consolePage(path, session);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).toContain(`Site ${mine.slug} has no`);
    }
    for (const path of [`${base}/tokens/${theirs.tokenId}/revoke`, `${base}/clients/${client.clientId}/revoke`]) {
      expect((await consoleSubmit(path, session, { _csrf: token })).status, path).toBe(404);
    }
    for (const path of [`${base}/tokens/${theirs.tokenId}/tier`, `${base}/clients/${client.clientId}/tier`]) {
      expect((await consoleSubmit(path, session, { _csrf: token, tier: "max" })).status, path).toBe(404);
    }
    expect(await count("api_tokens", "id = ? AND revoked_at IS NULL AND rate_tier = 'standard'", theirs.tokenId)).toBe(1);
    expect(await count("oauth_clients", "id = ? AND revoked_at IS NULL AND rate_tier = 'standard'", client.clientId)).toBe(1);
    // Under its own site, the permit is there.
    expect((await consolePage(`/admin/sites/${theirs.slug}/permits/${permit}`, session)).status).toBe(200);
  });
});

describe("admin console: rate-limit tiers", () => {
  it("shows each credential's tier and changes it; a revoked one's is shown, not offered", async () => {
    const { slug, tokenId } = await newSite();
    const client = (await (await adminCall("POST", `/sites/${slug}/clients`, { label: "Tiered", scopes: ["lookup"] })).json()) as {
      clientId: string;
    };
    const { session } = await consoleSignIn();
    const csrf = await csrfOf(`/admin/sites/${slug}/tokens`, session);
    const tokens = await (await consolePage(`/admin/sites/${slug}/tokens`, session)).text();
    expect(tokens).toContain(`action="/admin/sites/${slug}/tokens/${tokenId}/tier"`);
    expect(tokens).toMatch(/<option value="standard" selected="">standard<\/option>/);
    expect((await consoleSubmit(`/admin/sites/${slug}/tokens/${tokenId}/tier`, session, { _csrf: csrf, tier: "high" })).status).toBe(303);
    expect(await (await consolePage(`/admin/sites/${slug}/tokens`, session)).text()).toMatch(
      new RegExp(`role="status">Token ${tokenId} is now in tier high\\.`),
    );
    await consoleSubmit(`/admin/sites/${slug}/tokens/${tokenId}/tier`, session, { _csrf: csrf, tier: "gold" });
    expect(await (await consolePage(`/admin/sites/${slug}/tokens`, session)).text()).toMatch(
      /role="alert">tier must be one of standard, high, max\. \(error 9033\)/,
    );
    expect(
      (await consoleSubmit(`/admin/sites/${slug}/clients/${client.clientId}/tier`, session, { _csrf: csrf, tier: "max" })).status,
    ).toBe(303);
    expect(await count("oauth_clients", "id = ? AND rate_tier = 'max'", client.clientId)).toBe(1);
    await adminCall("DELETE", `/tokens/${tokenId}`);
    const revoked = await (await consolePage(`/admin/sites/${slug}/tokens`, session)).text();
    expect(revoked).not.toContain(`/tokens/${tokenId}/tier"`);
    expect(await count("api_tokens", "id = ? AND rate_tier = 'high'", tokenId)).toBe(1);
  });
});

describe("admin console: errors are pages", () => {
  it("an address no page answers is a page saying so, signed in or not", async () => {
    const { session } = await consoleSignIn();
    const res = await consolePage("/admin/no-such-page", session);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("No such page");
    expect((await consolePage("/admin/no-such-page", "")).headers.get("location")).toBe("/admin/login");
  });

  it("a 403 raised inside the console that is not a cross-site post is not reported as one", async () => {
    const { slug } = await newSite();
    const { session } = await consoleSignIn();
    // A form token that does not match: the console's own refusal, not csrf()'s.
    const res = await consoleSubmit(`/admin/sites/${slug}/zones`, session, { _csrf: "wrong", name: "x" });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("posted from another site");
  });
});

describe("admin console: enforcement and retention settings", () => {
  it("sets the grace period, naming the rule when a value is refused", async () => {
    const { slug } = await newSite();
    const { session } = await consoleSignIn();
    const token = await csrfOf(`/admin/sites/${slug}/settings`, session);
    await consoleSubmit(`/admin/sites/${slug}/settings/grace`, session, { _csrf: token, graceMinutes: "5" });
    const html = await (await consolePage(`/admin/sites/${slug}/settings`, session)).text();
    expect(html).toContain("The grace period is now 5 minute(s).");
    expect(html).toMatch(/name="graceMinutes"[^>]*value="5"/);
    await consoleSubmit(`/admin/sites/${slug}/settings/grace`, session, { _csrf: token, graceMinutes: "2000" });
    expect(await (await consolePage(`/admin/sites/${slug}/settings`, session)).text()).toMatch(
      /role="alert">graceMinutes must be at most 1440/,
    );
    await consoleSubmit(`/admin/sites/${slug}/settings/grace`, session, { _csrf: token, graceMinutes: "soon" });
    expect(await (await consolePage(`/admin/sites/${slug}/settings`, session)).text()).toMatch(
      /role="alert">graceMinutes must be a number/,
    );
    expect(await (await adminCall("GET", `/sites/${slug}`)).json()).toMatchObject({ graceMinutes: 5 });
  });

  it("sets the retention policy, runs it, switches it, lists and downloads the archives", async () => {
    const { slug, token: apiToken } = await newSite();
    await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(apiToken), startTime: "2019-03-01T09:00:00", endTime: "2019-03-01T10:00:00" });
    const { session } = await consoleSignIn();
    const path = `/admin/sites/${slug}/retention`;
    const token = await csrfOf(path, session);
    const first = await (await consolePage(path, session)).text();
    expect(first).toMatch(/name="anonymizeAfterDays"[^>]*value="90"/);
    expect(first).toContain("is <strong>enabled</strong> for this site");
    await consoleSubmit(path, session, { _csrf: token, anonymizeAfterDays: "30", archiveAfterMonths: "0" });
    expect(await (await consolePage(path, session)).text()).toMatch(/role="alert">archiveAfterMonths must be at least 1/);
    await consoleSubmit(path, session, { _csrf: token, anonymizeAfterDays: "30", archiveAfterMonths: "12" });
    expect(await (await consolePage(path, session)).text()).toContain(
      "Saved: plates removed after 30 days, records archived after 12 months.",
    );
    await consoleSubmit(`${path}/run`, session, { _csrf: token });
    const after = await (await consolePage(path, session)).text();
    expect(after).toMatch(
      /role="status">Run \d+ of retention \(manual\) succeeded: 1 plate\(s\) anonymized; 1 permit\(s\) with 1 event\(s\) archived/,
    );
    expect(after).toContain(`href="/admin/sites/${slug}/archives/2019-03"`);
    const download = await consolePage(`/admin/sites/${slug}/archives/2019-03`, session);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("application/gzip");
    expect((await consolePage(`/admin/sites/${slug}/archives/2019-04`, session)).status).toBe(404);
    await consoleSubmit(`${path}/disable`, session, { _csrf: token });
    expect(await (await consolePage(path, session)).text()).toContain("is <strong>disabled</strong> for this site");
  });
  it("downloads the transactions report as CSV or JSON; a refused range comes back as the form, with the reason", async () => {
    const { slug, token } = await newSite();
    await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), startTime: "2026-03-02T09:00:00", endTime: "2026-03-02T10:00:00" });
    const { session } = await consoleSignIn();
    const form = await (await consolePage(`/admin/sites/${slug}/reports`, session)).text();
    expect(form).toContain(`action="/admin/sites/${slug}/reports/transactions"`);
    for (const name of ["from", "to", "zone", "source", "currency", "format"]) expect(form).toContain(`name="${name}"`);
    const today = new Date().toISOString().slice(0, 10);
    const csv = await consolePage(`/admin/sites/${slug}/reports/transactions?from=${today}&to=${today}&zone=&format=csv`, session);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe(`attachment; filename="${slug}-transactions-${today}-to-${today}.csv"`);
    const lines = (await csv.text()).split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/,create,/);
    const json = await consolePage(`/admin/sites/${slug}/reports/transactions?from=${today}&to=${today}&format=json`, session);
    expect(json.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(((await json.json()) as { transactions: unknown[] }).transactions).toHaveLength(1);
    const refused = await consolePage(`/admin/sites/${slug}/reports/transactions?from=2026-03-01&to=2026-05-01&zone=Lot%204`, session);
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toMatch(/role="alert">The range must be at most 31 days long[^<]*\(error 9030\)/);
    expect(html).toMatch(/name="from"[^>]*value="2026-03-01"/);
    expect(html).toMatch(/<option value="Lot 4" selected="">Lot 4<\/option>/);
  });
});
