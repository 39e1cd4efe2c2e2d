import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { ParkMobileFake, pmUtc } from "../scripts/parkmobile-fake";
import { claimRun } from "../src/db/tasks";
import { markZoneImported } from "../src/db/zone-imports";
import { findZone, type LotZone, updateZone } from "../src/db/zones";
import worker from "../src/index";
import { runParkMobileImport } from "../src/parkmobile/import";
import { adminCall, call, count, newSite, ocTomaOk, post, queryPlans, seedPush } from "./helpers";

type Body = Record<string, unknown>;
type Run = {
  outcome: string;
  message: string | null;
  counts: Record<string, unknown>;
  rejections: { parkingRightId: unknown; reason: string }[];
};

const BASE_URL = "https://pm.test";
const CREDENTIALS = { username: "op-user", password: "op-password", apiKey: "op-key" };
const now = () => Math.floor(Date.now() / 1000);

let fake: ParkMobileFake;
const realFetch = globalThis.fetch;

beforeEach(() => {
  fake = new ParkMobileFake(CREDENTIALS);
  // The Worker under test shares this isolate: its fetch to the ParkMobile host reaches the fake.
  vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) =>
    new URL(input instanceof Request ? input.url : String(input)).host === "pm.test" ? fake.fetch(input, init) : realFetch(input, init),
  );
});
afterEach(() => vi.unstubAllGlobals());

/** A site with lot zones 4410 and 4411 (and Lot 4), ParkMobile configured, and ParkMobile zones 4410, 4411 and 9999. */
async function configuredSite(options: { enable?: boolean } = {}) {
  const site = await newSite({ zones: ["4410", "4411", "Lot 4"] });
  const res = await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { ...CREDENTIALS, baseUrl: BASE_URL });
  expect(res.status).toBe(200);
  if (options.enable) expect((await adminCall("PATCH", `/sites/${site.slug}/tasks/parkmobile`, { enabled: true })).status).toBe(200);
  for (const code of ["4410", "4411", "9999"]) fake.addZone(code);
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(site.slug).first<{ id: number }>())?.id as number;
  return { ...site, siteId };
}

async function runNow(slug: string): Promise<Run> {
  const res = await adminCall("POST", `/sites/${slug}/tasks/parkmobile/run`);
  const json = (await res.json()) as Run;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

const imported = (siteId: number) => count("permits", "site_id = ? AND source = 'ParkMobile'", siteId);

describe("ParkMobile settings", () => {
  it("stores the credentials sealed and never shows the secrets back (the username is shown: it names the account)", async () => {
    const { slug, siteId } = await configuredSite();
    const res = await adminCall("GET", `/sites/${slug}/parkmobile`);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      baseUrl: BASE_URL,
      username: CREDENTIALS.username,
      password: "••••••••",
      apiKey: "••••••••",
      configured: true,
      problem: null,
      updatedAt: expect.any(String),
    });
    for (const secret of [CREDENTIALS.password, CREDENTIALS.apiKey]) expect(text).not.toContain(secret);
    const row = await env.DB.prepare("SELECT * FROM parkmobile_settings WHERE site_id = ?").bind(siteId).first<Record<string, string>>();
    for (const field of ["username", "password", "api_key"]) {
      expect(row?.[field]).toMatch(/^v1\./);
      expect(JSON.stringify(row)).not.toContain(CREDENTIALS.password);
    }
  });

  it("keeps what a later save leaves out; the first save needs all three", async () => {
    const site = await newSite();
    const first = await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { username: "u" });
    expect(first.status).toBe(400);
    expect(await first.json()).toMatchObject({ ErrorCode: 9031, field: "password" });
    expect(await count("parkmobile_settings", "site_id = (SELECT id FROM sites WHERE slug = ?)", site.slug)).toBe(0);
    const { slug } = await configuredSite();
    const later = await adminCall("PUT", `/sites/${slug}/parkmobile`, { baseUrl: "https://api.parkmobile.us" });
    expect(await later.json()).toMatchObject({ baseUrl: "https://api.parkmobile.us", configured: true });
  });

  it("refuses a bad base URL and an empty save", async () => {
    const { slug } = await newSite();
    expect(await (await adminCall("PUT", `/sites/${slug}/parkmobile`, { ...CREDENTIALS, baseUrl: "ftp://x" })).json()).toMatchObject({
      ErrorCode: 9033,
      field: "baseUrl",
    });
    expect(await (await adminCall("PUT", `/sites/${slug}/parkmobile`, {})).json()).toMatchObject({ ErrorCode: 9033 });
  });

  it("a sealed value opens only for its own site and field", async () => {
    const first = await configuredSite();
    const { siteId } = first;
    const other = await configuredSite();
    // Copy site A's sealed password over site B's: B's run must fail to open it, not use it.
    await env.DB.prepare(
      "UPDATE parkmobile_settings SET password = (SELECT password FROM parkmobile_settings WHERE site_id = ?) WHERE site_id = ?",
    )
      .bind(siteId, other.siteId)
      .run();
    const run = await runNow(other.slug);
    expect(run).toMatchObject({ outcome: "failed", message: expect.stringContaining("cannot be opened") });
    // The settings say so before any run: the username is still shown, the problem named apart from it.
    expect(await (await adminCall("GET", `/sites/${other.slug}/parkmobile`)).json()).toMatchObject({
      username: expect.any(String),
      configured: true,
      problem: "The stored password cannot be opened (sealed for another site, or SETTINGS_KEY changed): save it again.",
    });
    expect(await (await adminCall("GET", `/sites/${first.slug}/parkmobile`)).json()).toMatchObject({ problem: null });
  });
});

describe("credentials that can be sent, and only those", () => {
  it("a password outside Latin-1 is sent as UTF-8 Basic credentials (RFC 7617) and the run succeeds", async () => {
    const credentials = { username: "opérateur", password: "pässwörd€", apiKey: "op-key" };
    fake = new ParkMobileFake(credentials);
    const site = await newSite({ zones: ["4410"] });
    expect((await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { ...credentials, baseUrl: BASE_URL })).status).toBe(200);
    fake.addZone("4410");
    fake.addRight("4410", { plate: "UTF8", start: now() - 600, minutes: 60 });
    expect(await runNow(site.slug)).toMatchObject({ outcome: "succeeded", counts: { created: 1 } });
    // Written out, not computed as the client computes it: base64 of the UTF-8 bytes of "opérateur:pässwörd€".
    expect(new Set(fake.authorizations)).toEqual(new Set(["Basic b3DDqXJhdGV1cjpww6Rzc3fDtnJk4oKs"]));
  });

  it("refuses on save what can never be sent, naming the field and writing nothing", async () => {
    const site = await newSite();
    const cases: [Body, string, string][] = [
      [{ username: "a:b" }, "username", "username must not contain a colon (Basic authentication separates the password with one)."],
      [{ apiKey: "clé" }, "apiKey", "apiKey must be visible ASCII characters (it travels in the X-API-Key header)."],
      [{ password: "line\nbreak" }, "password", "password must not contain control characters."],
    ];
    for (const [bad, field, message] of cases) {
      const res = await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { ...CREDENTIALS, ...bad });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ ErrorCode: 9033, field, ErrorMessage: message });
    }
    expect(await count("parkmobile_settings", "site_id = (SELECT id FROM sites WHERE slug = ?)", site.slug)).toBe(0);
  });
});

describe("checking the connection", () => {
  it("says which zones a run would import and skip, and imports nothing", async () => {
    const { slug, siteId } = await configuredSite();
    fake.addRight("4410", { plate: "NOPE1", start: now() - 600, minutes: 60 });
    const res = await adminCall("POST", `/sites/${slug}/parkmobile/test`);
    expect(await res.json()).toEqual({ ok: true, matched: ["4410", "4411"], skipped: ["9999"], message: null });
    expect(await imported(siteId)).toBe(0);
    expect(await count("task_runs", "site_id = ?", siteId)).toBe(0);
  });

  it("says why ParkMobile refused, or that nothing is saved", async () => {
    const { slug } = await configuredSite();
    fake.faults.status = 401;
    expect(await (await adminCall("POST", `/sites/${slug}/parkmobile/test`)).json()).toMatchObject({
      ok: false,
      message: expect.stringContaining("refused the credentials"),
    });
    const bare = await newSite();
    expect(await (await adminCall("POST", `/sites/${bare.slug}/parkmobile/test`)).json()).toMatchObject({
      ok: false,
      message: expect.stringContaining("not set"),
    });
  });
});

describe("the task", () => {
  it("cannot be enabled before the credentials are saved", async () => {
    const site = await newSite();
    const res = await adminCall("PATCH", `/sites/${site.slug}/tasks/parkmobile`, { enabled: true });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ErrorCode: 9031, field: "enabled" });
    expect(await count("tasks", "site_id = (SELECT id FROM sites WHERE slug = ?)", site.slug)).toBe(0);
    expect((await adminCall("PATCH", `/sites/${site.slug}/tasks/parkmobile`, { enabled: false })).status).toBe(200);
  });

  it("is off until enabled, and can be switched", async () => {
    const { slug } = await configuredSite();
    const list = (await (await adminCall("GET", `/sites/${slug}/tasks`)).json()) as { tasks: Body[] };
    expect(list.tasks).toEqual([
      { task: "parkmobile", name: "Fetch ParkMobile Stats", schedule: "*/3 * * * *", enabled: false, lastRun: null },
      { task: "retention", name: "Retention: anonymize, archive, purge", schedule: "0 3 * * *", enabled: true, lastRun: null },
    ]);
    expect(await (await adminCall("PATCH", `/sites/${slug}/tasks/parkmobile`, { enabled: true })).json()).toMatchObject({ enabled: true });
    expect(await (await adminCall("PATCH", `/sites/${slug}/tasks/parkmobile`, { enabled: false })).json()).toMatchObject({
      enabled: false,
    });
    expect(await (await adminCall("PATCH", `/sites/${slug}/tasks/nope`, { enabled: true })).json()).toMatchObject({
      ErrorCode: 9009,
      field: "task",
    });
    const limit = await (await adminCall("GET", `/sites/${slug}/tasks/parkmobile/runs?limit=0`)).json();
    expect(limit).toMatchObject({ ErrorCode: 9032, field: "limit", ErrorMessage: "limit must be at least 1." });
  });

  it("the cron runs it for enabled sites only", async () => {
    const on = await configuredSite({ enable: true });
    const off = await configuredSite();
    fake.addRight("4410", { plate: "CRON1", start: now() - 600, minutes: 60 });
    await worker.scheduled(createScheduledController({ cron: "*/3 * * * *" }), env);
    expect(await imported(on.siteId)).toBe(1);
    expect(await imported(off.siteId)).toBe(0);
    expect(await count("task_runs", "site_id = ? AND trigger = 'cron' AND outcome = 'succeeded'", on.siteId)).toBe(1);
    expect(await count("task_runs", "site_id = ?", off.siteId)).toBe(0);
    // Another schedule does nothing.
    await worker.scheduled(createScheduledController({ cron: "0 * * * *" }), env);
    expect(await count("task_runs", "site_id = ?", on.siteId)).toBe(1);
  });
});

describe("importing", () => {
  it("imports the rights of matching zones as temporary ParkMobile permits, and names the skipped zones", async () => {
    const { slug, siteId, token } = await configuredSite();
    const t = now();
    const a = fake.addRight("4410", { plate: "ABC 123", start: t - 600, minutes: 120, amount: 6.5 });
    fake.addRight("4411", { plate: "XYZ-789", start: t - 300, minutes: 30 });
    fake.addRight("9999", { plate: "SKIP1", start: t - 300, minutes: 30 });
    const run = await runNow(slug);
    expect(run).toMatchObject({
      outcome: "succeeded",
      message: null,
      counts: {
        zonesMatched: 2,
        zonesSkipped: 1,
        skippedZones: ["9999"],
        rightsFetched: 2,
        created: 2,
        updated: 0,
        unchanged: 0,
        rejected: 0,
      },
    });
    const row = await env.DB.prepare("SELECT * FROM permits WHERE site_id = ? AND external_id = ?")
      .bind(siteId, String(a.parkingRightId))
      .first<Body>();
    expect(row).toMatchObject({
      type: "temp",
      source: "ParkMobile",
      plate: "ABC 123",
      plate_norm: "ABC123",
      zone_name: "4410",
      amount_cents: 650,
      currency: "CAD",
      start_at: t - 600,
      end_at: t - 600 + 7200,
      version: 1,
    });
    expect(row?.lot_zone_id).toEqual(expect.any(Number));
    expect(fake.requests).not.toContain("/nforceapi/parkingrights/zone/9999");

    // Visible where pushed permits are, marked with their source.
    const lookup = (await (await call("/api/v1/lookup?plate=abc123", { headers: { authorization: `Bearer ${token}` } })).json()) as {
      permits: Body[];
    };
    expect(lookup.permits).toEqual([expect.objectContaining({ source: "ParkMobile", zone: "4410", type: "temp" })]);
    const stats = (await (await post("/api/OC-TOMA/v1/permits/stats", { apiToken: token, zones: "4410,4411" })).json()) as { data: Body[] };
    expect(stats.data.filter((r) => r.type === "temp").map((r) => r.total)).toEqual(["1", "1"]);
    const shown = (await (await adminCall("GET", `/permits/${row?.id}`)).json()) as Body & { history: Body[] };
    expect(shown).toMatchObject({ source: "ParkMobile", history: [{ version: 1, action: "create", actor: "job:parkmobile" }] });
  });

  it("matches a signage code to the zone numbered so (a zone named Downtown, number 4410), else to the zone named so", async () => {
    const { slug, siteId } = await configuredSite();
    // 4410 is now the number of "Downtown"; the zone named 4410 is renamed away and 4411 keeps matching by its name.
    expect((await adminCall("PATCH", `/sites/${slug}/zones/4410`, { name: "Old 4410" })).status).toBe(200);
    expect((await adminCall("POST", `/sites/${slug}/zones`, { name: "Downtown", number: "4410" })).status).toBe(201);
    const t = now();
    const a = fake.addRight("4410", { plate: "NUM 1", start: t - 60, minutes: 30 });
    fake.addRight("4411", { plate: "NAME 1", start: t - 60, minutes: 30 });
    expect((await runNow(slug)).counts).toMatchObject({ zonesMatched: 2, skippedZones: ["9999"], created: 2 });
    const row = await env.DB.prepare(
      "SELECT p.zone_name, z.name AS lot_zone FROM permits p JOIN lot_zones z ON z.id = p.lot_zone_id WHERE p.site_id = ? AND p.external_id = ?",
    )
      .bind(siteId, String(a.parkingRightId))
      .first();
    expect(row).toEqual({ zone_name: "4410", lot_zone: "Downtown" });
    expect(await count("permits", "site_id = ? AND zone_name = '4411' AND lot_zone_id IS NOT NULL", siteId)).toBe(1);
    // The lot zones marked imported (what the feed's staleness answer reads) are the ones matched, by number or name.
    const marked = await env.DB.prepare(
      "SELECT l.name FROM zone_imports z JOIN lot_zones l ON l.id = z.lot_zone_id WHERE l.site_id = ? ORDER BY l.name",
    )
      .bind(siteId)
      .all<{ name: string }>();
    expect(marked.results.map((m) => m.name)).toEqual(["4411", "Downtown"]);
  });

  it("a zone matched by its number, removed and added again or numbered later, gets its ParkMobile permits back; a push to that name does not join it", async () => {
    const { slug, siteId, token } = await configuredSite();
    expect((await adminCall("PATCH", `/sites/${slug}/zones/4410`, { name: "Old 4410" })).status).toBe(200);
    expect((await adminCall("POST", `/sites/${slug}/zones`, { name: "Downtown", number: "4410" })).status).toBe(201);
    const right = fake.addRight("4410", { plate: "NUM 2", start: now() - 60, minutes: 30 });
    expect((await runNow(slug)).counts).toMatchObject({ created: 1 });
    // An OC-TOMA push names its zone by name: "4410" is no zone's name now, so it is disconnected.
    const pushed = (await (await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), zone: "4410" })).json()) as Body;
    expect(pushed).toMatchObject({ disconnected: true });
    const lotZoneOf = async (where: string, ...params: unknown[]) =>
      (
        await env.DB.prepare(`SELECT z.name FROM permits p LEFT JOIN lot_zones z ON z.id = p.lot_zone_id WHERE p.site_id = ? AND ${where}`)
          .bind(siteId, ...params)
          .first<{ name: string | null }>()
      )?.name;
    const imported = () => lotZoneOf("p.external_id = ?", String(right.parkingRightId));
    const push = () => lotZoneOf("p.id = ?", pushed.reference_id);

    expect(await (await adminCall("DELETE", `/sites/${slug}/zones/Downtown`)).json()).toMatchObject({ disconnected: 1 });
    expect(await imported()).toBeNull();
    const readded = (await (await adminCall("POST", `/sites/${slug}/zones`, { name: "Downtown", number: "4410" })).json()) as Body;
    expect(readded.reconnected).toBe(1);
    expect(await imported()).toBe("Downtown");
    expect(await push()).toBeNull();

    // Added again without its number, then given it: the number reconnects it then.
    await adminCall("DELETE", `/sites/${slug}/zones/Downtown`);
    expect(await (await adminCall("POST", `/sites/${slug}/zones`, { name: "Downtown" })).json()).toMatchObject({ reconnected: 0 });
    expect(await imported()).toBeNull();
    expect(await (await adminCall("PATCH", `/sites/${slug}/zones/Downtown`, { number: "4410" })).json()).toMatchObject({
      reconnected: 1,
    });
    expect(await imported()).toBe("Downtown");
    expect(await push()).toBeNull();
    // The reconnection reads the disconnected records' index for both names, not the site's permits.
    const zone = (await findZone(env.DB, siteId, "Downtown")) as LotZone;
    const plans = await queryPlans((d1) => updateZone(d1, zone, { number: "4410" }));
    expect(plans.find((p) => /^update "permits"/i.test(p.sql))?.plan).toMatch(
      /USING (COVERING )?INDEX permits_disconnected \(site_id=\? AND zone_name=\?\)/,
    );
  });

  it("a repeated run writes nothing; an extension is a new version in the history", async () => {
    const { slug, siteId } = await configuredSite();
    const t = now();
    const right = fake.addRight("4410", { plate: "EXT1", start: t - 600, minutes: 60, amount: 3 });
    fake.addRight("4410", { plate: "SAME1", start: t - 600, minutes: 60 });
    await runNow(slug);
    const events = await count("permit_events");
    expect((await runNow(slug)).counts).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(await count("permit_events")).toBe(events);

    fake.extend(right.parkingRightId, 30, t + 60, 1.5);
    expect((await runNow(slug)).counts).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    const row = await env.DB.prepare("SELECT id, end_at, amount_cents, version FROM permits WHERE site_id = ? AND external_id = ?")
      .bind(siteId, String(right.parkingRightId))
      .first<{ id: string; end_at: number; amount_cents: number; version: number }>();
    expect(row).toMatchObject({ end_at: t - 600 + 5400, amount_cents: 450, version: 2 });
    const history = (await env.DB.prepare("SELECT * FROM permit_events WHERE permit_id = ? ORDER BY version").bind(row?.id).all<Body>())
      .results;
    expect(history.map((h) => h.action)).toEqual(["create", "update"]);
    expect(JSON.parse(history[1]?.changes as string)).toMatchObject({
      endAt: [t - 600 + 3600, t - 600 + 5400],
      amountCents: [300, 450],
      sourceModifiedAt: [t - 596, t + 60],
    });
    expect(history[1]?.actor).toBe("job:parkmobile");
  });

  describe("a zone sent what it was sent last time", () => {
    /** A run of the import, and how many comparison statements it sent (one per zone of up to 1,000 rights). */
    async function comparedZones(siteId: number): Promise<{ run: Run; compared: number }> {
      let compared = 0;
      const DB = new Proxy(env.DB, {
        get(target, key) {
          if (key === "prepare") {
            return (query: string) => {
              if (/FROM json_each\(\?\) j\s+LEFT JOIN permits p/.test(query)) compared++;
              return target.prepare(query);
            };
          }
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const run = (await runParkMobileImport({ ...env, DB }, siteId, "manual", fake.fetch)) as unknown as Run;
      expect(run.outcome, run.message ?? "").toBe("succeeded");
      return { run, compared };
    }

    it("is compared once more, then skipped until ParkMobile sends something else", async () => {
      const { siteId } = await configuredSite();
      const t = now();
      const right = fake.addRight("4410", { plate: "SKIP1", start: t - 600, minutes: 60 });
      fake.addRight("4411", { plate: "SKIP2", start: t - 600, minutes: 60 });
      // Created, then compared and found equal, then skipped: the same counts each time but the first.
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { created: 2 } }, compared: 2 });
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { unchanged: 2 } }, compared: 2 });
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { unchanged: 2 } }, compared: 0 });
      // A skipped zone is marked imported all the same (the feed's staleness reads the mark).
      const marks = await env.DB.prepare(
        "SELECT count(*) AS n FROM zone_imports z JOIN lot_zones l ON l.id = z.lot_zone_id WHERE l.site_id = ? AND z.last_success_at >= ?",
      )
        .bind(siteId, t)
        .first<{ n: number }>();
      expect(marks?.n).toBe(2);
      // ParkMobile extends one right: that zone is compared (and updated), the other still skipped. The update counts
      // as an edit of the site's ParkMobile permits, so the next run compares both; the one after skips both.
      fake.extend(right.parkingRightId, 30, t + 60);
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { updated: 1, unchanged: 1 } }, compared: 1 });
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { unchanged: 2 } }, compared: 2 });
      expect(await comparedZones(siteId)).toMatchObject({ compared: 0 });
    });

    it("is compared again after a local edit of one of the site's ParkMobile permits, which the comparison undoes", async () => {
      const { siteId, token } = await configuredSite();
      const t = now();
      const right = fake.addRight("4410", { plate: "EDIT1", start: t - 600, minutes: 60 });
      await comparedZones(siteId);
      await comparedZones(siteId);
      expect(await comparedZones(siteId)).toMatchObject({ compared: 0 });
      const reference = (
        await env.DB.prepare("SELECT id FROM permits WHERE site_id = ? AND external_id = ?")
          .bind(siteId, String(right.parkingRightId))
          .first<{ id: string }>()
      )?.id as string;
      const plate = () => env.DB.prepare("SELECT plate FROM permits WHERE id = ?").bind(reference).first<{ plate: string }>();
      expect(await ocTomaOk("update", { apiToken: token, reference_id: reference, plate: "LOCAL1" })).toMatchObject({ version: 2 });
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { updated: 1 } }, compared: 1 });
      expect(await plate()).toEqual({ plate: "EDIT1" });
      // A delete is an edit too; a deleted permit stays deleted (ParkMobile's answer does not bring it back).
      await comparedZones(siteId);
      expect(await ocTomaOk("delete", { apiToken: token, reference_id: reference })).toMatchObject({ version: 4 });
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { unchanged: 1 } }, compared: 1 });
      expect(await plate()).toEqual({ plate: "EDIT1" });
      expect(await count("permits", "id = ? AND deleted_at IS NOT NULL", reference)).toBe(1);
    });

    it("a right written through another zone's answer makes its own zone compare again", async () => {
      const { siteId } = await configuredSite();
      const t = now();
      const right = fake.addRight("4410", { plate: "AAA1", start: t - 600, minutes: 60 });
      await comparedZones(siteId);
      expect(await comparedZones(siteId)).toMatchObject({ compared: 1 });
      expect(await comparedZones(siteId)).toMatchObject({ compared: 0 });
      // The same right listed in 4411 too, with another plate: written through 4411, it is 4410's record that changes.
      const copy = { ...right, lpn: "BBB2", signageZoneCode: "4411" };
      fake.rights.get("4411")?.push(copy);
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { updated: 1 } }, compared: 1 });
      fake.rights.set("4411", []);
      // 4410 still sends AAA1: it is compared again (its last equal comparison no longer holds) and puts AAA1 back.
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { updated: 1 } }, compared: 1 });
      const plate = await env.DB.prepare("SELECT plate FROM permits WHERE site_id = ? AND external_id = ?")
        .bind(siteId, String(right.parkingRightId))
        .first();
      expect(plate).toEqual({ plate: "AAA1" });
    });

    it("a run's mark keeps its comparison only while the run is under way", async () => {
      const { siteId } = await configuredSite();
      const lotZoneId = (await findZone(env.DB, siteId, "4410"))?.id as number;
      const stored = async () =>
        env.DB.prepare("SELECT compared_digest AS digest FROM zone_imports WHERE lot_zone_id = ?").bind(lotZoneId).first();
      const mark = (runId: number) =>
        env.DB.batch([markZoneImported(env.DB, { lotZoneId, now: now(), runId, compared: { digest: "d1", edits: 0 } })]);
      const running = (await claimRun(env.DB, siteId, "parkmobile", "manual", now())) as number;
      await mark(running);
      expect(await stored()).toEqual({ digest: "d1" });
      await env.DB.prepare("UPDATE task_runs SET finished_at = ?, outcome = 'failed' WHERE id = ?").bind(now(), running).run();
      await mark(running);
      expect(await stored()).toEqual({ digest: null });
    });

    it("an edit made after a zone was compared, while the run goes on, is compared by the next run", async () => {
      const { siteId, token } = await configuredSite();
      const t = now();
      const right = fake.addRight("4410", { plate: "RACE1", start: t - 600, minutes: 60 });
      await comparedZones(siteId);
      const reference = (
        await env.DB.prepare("SELECT id FROM permits WHERE site_id = ? AND external_id = ?")
          .bind(siteId, String(right.parkingRightId))
          .first<{ id: string }>()
      )?.id as string;
      // The edit lands right after the run's comparison of the zone read it as sent, before the run stores that.
      let edited = false;
      const DB = new Proxy(env.DB, {
        get(target, key) {
          if (key === "prepare") {
            return (query: string) => {
              const prepared = target.prepare(query);
              if (!/LEFT JOIN permits p/.test(query)) return prepared;
              return new Proxy(prepared, {
                get(statement, k) {
                  if (k !== "bind") return Reflect.get(statement, k).bind(statement);
                  return (...params: unknown[]) => {
                    const bound = statement.bind(...params);
                    return new Proxy(bound, {
                      get(b, m) {
                        if (m !== "all") return Reflect.get(b, m).bind(b);
                        return async () => {
                          const answer = await b.all();
                          if (!edited && String(params[0]).includes(String(right.parkingRightId))) {
                            edited = true;
                            await ocTomaOk("update", { apiToken: token, reference_id: reference, plate: "LATE1" });
                          }
                          return answer;
                        };
                      },
                    });
                  };
                },
              });
            };
          }
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const run = await runParkMobileImport({ ...env, DB }, siteId, "manual", fake.fetch);
      expect([edited, run?.counts]).toMatchObject([true, { unchanged: 1 }]);
      expect(await env.DB.prepare("SELECT plate FROM permits WHERE id = ?").bind(reference).first()).toEqual({ plate: "LATE1" });
      expect(await comparedZones(siteId)).toMatchObject({ run: { counts: { updated: 1 } }, compared: 1 });
      expect(await env.DB.prepare("SELECT plate FROM permits WHERE id = ?").bind(reference).first()).toEqual({ plate: "RACE1" });
    });
  });

  it("an older answer never rolls a permit back", async () => {
    const { slug, siteId } = await configuredSite();
    const t = now();
    const right = fake.addRight("4410", { plate: "OLD1", start: t - 600, minutes: 60 });
    fake.extend(right.parkingRightId, 30, t + 100);
    await runNow(slug);
    // The source now shows an earlier modification with the shorter end (a stale replica).
    right.endDateUtc = pmUtc(t - 600 + 3600);
    right.modifiedDateUtc = pmUtc(t);
    expect((await runNow(slug)).counts).toMatchObject({ updated: 0, unchanged: 1 });
    expect((await env.DB.prepare("SELECT end_at FROM permits WHERE site_id = ?").bind(siteId).first<{ end_at: number }>())?.end_at).toBe(
      t - 600 + 5400,
    );
  });

  it("rejects and counts bad rights without failing the run", async () => {
    const { slug, siteId } = await configuredSite();
    const t = now();
    fake.addRight("4410", { plate: "GOOD1", start: t - 600, minutes: 60 });
    const badPlate = fake.addRight("4410", { plate: "***", start: t - 600, minutes: 60 });
    const noTimes = fake.addRight("4410", { plate: "NOTIME1", start: t - 600, minutes: 60 });
    noTimes.startDateUtc = "yesterday";
    noTimes.startDateLocal = "yesterday";
    const backwards = fake.addRight("4410", { plate: "BACK1", start: t - 600, minutes: 60 });
    backwards.endDateUtc = pmUtc(t - 1200);
    const list = fake.rights.get("4410") as unknown[];
    list.push({ lpn: "NOID1" }, "not an object", { parkingRightId: 5, lpn: 42 });
    const run = await runNow(slug);
    expect(run.outcome).toBe("succeeded");
    expect(run.counts).toMatchObject({ rightsFetched: 7, created: 1, rejected: 6 });
    expect(run.rejections.map((r) => r.parkingRightId)).toEqual(
      expect.arrayContaining([badPlate.parkingRightId, noTimes.parkingRightId, backwards.parkingRightId]),
    );
    expect(run.rejections.every((r) => r.reason.length > 5)).toBe(true);
    expect(await imported(siteId)).toBe(1);
  });

  it("reads older payloads without the *Utc fields from local time and the Windows zone name", async () => {
    const { slug, siteId } = await configuredSite();
    const right = fake.addRight("4410", { plate: "LOCAL1", start: Date.UTC(2026, 6, 1, 14) / 1000, minutes: 60 });
    right.startDateUtc = undefined;
    right.endDateUtc = undefined;
    right.modifiedDateUtc = undefined;
    right.startDateLocal = "2026-07-01T10:00:00.0000000"; // Eastern Daylight Time: UTC-4
    right.endDateLocal = "2026-07-01T11:00:00.0000000";
    expect((await runNow(slug)).counts).toMatchObject({ created: 1, rejected: 0 });
    const row = await env.DB.prepare("SELECT start_at, end_at FROM permits WHERE site_id = ?").bind(siteId).first<Body>();
    expect(row).toEqual({ start_at: Date.UTC(2026, 6, 1, 14) / 1000, end_at: Date.UTC(2026, 6, 1, 15) / 1000 });
  });
});

describe("faults are contained", () => {
  it("the runtime's own fetch works as the client's default, over a real socket to the sandbox's stand-in", async () => {
    vi.unstubAllGlobals();
    const { slug } = await newSite({ zones: ["4410"] });
    const standIn = inject("parkMobile");
    await adminCall("PUT", `/sites/${slug}/parkmobile`, { ...standIn.credentials, baseUrl: standIn.url });
    const run = await runNow(slug);
    expect(run.message ?? "").not.toContain("Illegal invocation");
    expect(run).toMatchObject({ outcome: "succeeded", counts: { zonesMatched: 1, zonesSkipped: 2, created: 8 } });
  });

  it("a host that cannot be reached is named in words an admin can act on", async () => {
    const { slug } = await configuredSite();
    for (const [thrown, says] of [
      ["internal error; reference = 3jk4h5", "the name pm.test could not be resolved, or no connection could be made"],
      ["Network connection lost.", "the connection to pm.test failed"],
    ] as const) {
      vi.stubGlobal("fetch", () => Promise.reject(new Error(thrown)));
      const run = await runNow(slug);
      expect(run).toMatchObject({ outcome: "failed", message: `ParkMobile could not be reached for /nforceapi/zones: ${says}.` });
    }
  });

  it("keeps credentials exactly as given (no trimming)", async () => {
    const { slug } = await newSite({ zones: ["4410"] });
    fake = new ParkMobileFake({ ...CREDENTIALS, password: " spaced password " });
    fake.addZone("4410");
    fake.addRight("4410", { plate: "SPACE1", start: now() - 60, minutes: 60 });
    await adminCall("PUT", `/sites/${slug}/parkmobile`, { ...CREDENTIALS, password: " spaced password ", baseUrl: BASE_URL });
    const run = await runNow(slug);
    expect(run, JSON.stringify(run)).toMatchObject({ outcome: "succeeded", counts: { created: 1 } });
  });

  it("refused credentials fail the run with a clear message and write nothing", async () => {
    const { slug, siteId } = await configuredSite();
    fake.addRight("4410", { plate: "AUTH1", start: now() - 60, minutes: 60 });
    for (const status of [401, 403]) {
      fake.faults = { status };
      const run = await runNow(slug);
      expect(run.outcome).toBe("failed");
      expect(run.message).toContain(`HTTP ${status}`);
      expect(run.message).toContain("X-API-Key");
    }
    fake.faults = {};
    await adminCall("PUT", `/sites/${slug}/parkmobile`, { password: "wrong" });
    expect((await runNow(slug)).message).toContain("refused the credentials (HTTP 401)");
    expect(await imported(siteId)).toBe(0);
  });

  it("a server error or an unusable zone list fails the run", async () => {
    const { slug } = await configuredSite();
    fake.faults = { status: 503 };
    expect(await runNow(slug)).toMatchObject({ outcome: "failed", message: expect.stringContaining("HTTP 503") });
    fake.faults = { zonesWithoutList: true };
    expect(await runNow(slug)).toMatchObject({ outcome: "failed", message: expect.stringContaining("zones") });
  });

  it("a zone that fails is reported while the others import (partial), and the next run finishes the job without duplicates", async () => {
    const { slug, siteId } = await configuredSite();
    fake.addRight("4410", { plate: "OK1", start: now() - 60, minutes: 60 });
    fake.addRight("4411", { plate: "LATER1", start: now() - 60, minutes: 60 });
    fake.faults = { failZones: ["4411"] };
    const first = await runNow(slug);
    expect(first).toMatchObject({ outcome: "partial", counts: { created: 1 } });
    expect(first.message).toContain("zone 4411");
    fake.faults = { malformedZones: ["4411"] };
    expect(await runNow(slug)).toMatchObject({ outcome: "partial", message: expect.stringContaining("not JSON") });
    fake.faults = {};
    expect(await runNow(slug)).toMatchObject({ outcome: "succeeded", counts: { created: 1, unchanged: 1 } });
    expect(await imported(siteId)).toBe(2);
  });

  it("a timeout is reported as one", async () => {
    const { slug } = await configuredSite();
    vi.stubGlobal("fetch", async () => {
      throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    });
    expect(await runNow(slug)).toMatchObject({ outcome: "failed", message: expect.stringContaining("did not answer") });
  });

  it("missing credentials fail the run", async () => {
    const { slug } = await newSite();
    expect(await runNow(slug)).toMatchObject({ outcome: "failed", message: expect.stringContaining("not set") });
  });
});

describe("a run's progress and the zones it marks imported", () => {
  const CODES = ["5501", "5502", "5503", "5504", "5505", "5506"];
  /** A site whose six lot zones ParkMobile lists, a right in each; its id. */
  async function sixZones(): Promise<number> {
    const site = await newSite({ zones: CODES });
    expect((await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { ...CREDENTIALS, baseUrl: BASE_URL })).status).toBe(200);
    for (const code of CODES) {
      fake.addZone(code);
      fake.addRight(code, { plate: `Z${code}`, start: now() - 60, minutes: 60 });
    }
    return (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(site.slug).first<{ id: number }>())?.id as number;
  }
  /** The site's lot zones marked imported, by name, with when. */
  const marks = async (siteId: number) =>
    (
      await env.DB.prepare(
        "SELECT l.name, z.last_success_at AS at FROM zone_imports z JOIN lot_zones l ON l.id = z.lot_zone_id WHERE l.site_id = ? ORDER BY l.name",
      )
        .bind(siteId)
        .all<{ name: string; at: number }>()
    ).results;
  /** The fake's fetch, with `before` run ahead of each zone's rights (not the zone list). */
  const around = (before: (code: string) => Promise<Response | undefined>) => async (input: RequestInfo | URL, init?: RequestInit) => {
    const code = /parkingrights\/zone\/(\d+)$/.exec(new URL(String(input instanceof Request ? input.url : input)).pathname)?.[1];
    return (code && (await before(code))) || fake.fetch(input, init);
  };

  /** Runs the import with each zone's answer taking `seconds`; answers how many zones were marked when each zone was asked. */
  async function runTaking(siteId: number, seconds: number): Promise<number[]> {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const seen: number[] = [];
      const slow = around(async () => {
        seen.push((await marks(siteId)).length);
        vi.setSystemTime(Date.now() + seconds * 1000);
        return undefined;
      });
      expect(await runParkMobileImport(env, siteId, "manual", slow)).toMatchObject({ outcome: "succeeded", counts: { created: 6 } });
      return seen;
    } finally {
      vi.useRealTimers();
    }
  }

  it("writes the zones' marks together at its end, each at the moment its zone finished", async () => {
    const siteId = await sixZones();
    const started = now();
    // Six zones of a second each: no zone is marked before the run ends (one write, not one per zone).
    expect(await runTaking(siteId, 1)).toEqual([0, 0, 0, 0, 0, 0]);
    const written = await marks(siteId);
    expect(written.map((m) => m.name)).toEqual(CODES);
    for (const { at } of written) expect(at).toBeGreaterThanOrEqual(started);
    expect(new Set(written.map((m) => m.at)).size).toBeGreaterThan(1);
  });

  it("a long run writes the marks of the zones done, and its heartbeat, every 15 seconds", async () => {
    const siteId = await sixZones();
    // Zones of 20 seconds each: the zones finished first are marked while the last ones are still being asked for.
    const seen = await runTaking(siteId, 20);
    expect(seen.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(seen.at(-1)).toBeGreaterThan(0);
    expect((await marks(siteId)).map((m) => m.name)).toEqual(CODES);
  });

  it("a run refused half-way still marks the zones it imported, and not the zone refused", async () => {
    const siteId = await sixZones();
    // ParkMobile refuses the credentials for the last zone: a fatal fault, which fails the run.
    const refusing = around(async (code) => (code === "5506" ? new Response(null, { status: 401 }) : undefined));
    const run = await runParkMobileImport(env, siteId, "manual", refusing);
    expect(run).toMatchObject({ outcome: "failed", message: expect.stringContaining("HTTP 401") });
    const written = (await marks(siteId)).map((m) => m.name);
    expect(written.length).toBeGreaterThan(0);
    expect(written).not.toContain("5506");
  });
  it("a lot zone removed during a run is not marked, and the other zones are", async () => {
    const siteId = await sixZones();
    const slug = (await env.DB.prepare("SELECT slug FROM sites WHERE id = ?").bind(siteId).first<{ slug: string }>())?.slug;
    // The admin removes 5501 while the run asks for the last zone, after 5501 was imported.
    const removing = around(async (code) => {
      if (code === "5506") expect((await adminCall("DELETE", `/sites/${slug}/zones/5501`)).status).toBe(200);
      return undefined;
    });
    expect(await runParkMobileImport(env, siteId, "manual", removing)).toMatchObject({ outcome: "succeeded" });
    expect((await marks(siteId)).map((m) => m.name)).toEqual(CODES.slice(1));
  });
});

describe("never two runs at once", () => {
  it("a second run while one is under way is refused (409 by hand, skipped by the cron)", async () => {
    const { slug, siteId } = await configuredSite();
    fake.addRight("4410", { plate: "SLOW1", start: now() - 60, minutes: 60 });
    fake.faults = { delayMs: 100 };
    const [a, b] = await Promise.all([runParkMobileImport(env, siteId, "manual"), runParkMobileImport(env, siteId, "cron")]);
    expect([a, b].filter((r) => r === null)).toHaveLength(1);
    expect(await imported(siteId)).toBe(1);
    await env.DB.prepare(
      "INSERT INTO task_runs (site_id, task, trigger, started_at, heartbeat_at, outcome, counts, rejections) VALUES (?, 'parkmobile', 'cron', ?, ?, 'running', '{}', '[]')",
    )
      .bind(siteId, now(), now())
      .run();
    const res = await adminCall("POST", `/sites/${slug}/tasks/parkmobile/run`);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ ErrorCode: 9022 });
  });

  it("a run that died half-way is closed as abandoned, and the next run completes the work", async () => {
    const { slug, siteId } = await configuredSite();
    fake.addRight("4410", { plate: "DEAD1", start: now() - 60, minutes: 60 });
    // A run that died ten minutes ago, after importing nothing.
    await env.DB.prepare(
      "INSERT INTO task_runs (site_id, task, trigger, started_at, heartbeat_at, outcome, counts, rejections) VALUES (?, 'parkmobile', 'cron', ?, ?, 'running', '{}', '[]')",
    )
      .bind(siteId, now() - 900, now() - 900)
      .run();
    expect((await runNow(slug)).counts).toMatchObject({ created: 1 });
    const runs = (await (await adminCall("GET", `/sites/${slug}/tasks/parkmobile/runs`)).json()) as { runs: Run[] };
    expect(runs.runs.map((r) => r.outcome)).toEqual(["succeeded", "failed"]);
    expect(runs.runs[1]?.message).toContain("Abandoned");
  });
});

describe("scale", () => {
  it("imports 10,000 rights across 20 zones in one run, and no statement binds more than 100 parameters", async () => {
    const codes = Array.from({ length: 20 }, (_, i) => String(5000 + i));
    const site = await newSite({ zones: codes });
    await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { ...CREDENTIALS, baseUrl: BASE_URL });
    const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(site.slug).first<{ id: number }>())?.id as number;
    const t = now();
    for (const code of codes) {
      fake.addZone(code);
      for (let i = 0; i < 500; i++) fake.addRight(code, { plate: `Z${code}N${i}`, start: t - 3600 + i, minutes: 120 });
    }
    let maxParams = 0;
    const counting = new Proxy(env.DB, {
      get(target, key) {
        if (key === "prepare") {
          return (query: string) => {
            maxParams = Math.max(maxParams, (query.match(/\?/g) ?? []).length);
            return target.prepare(query);
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const run = await runParkMobileImport({ ...env, DB: counting }, siteId, "manual");
    expect(run).toMatchObject({ outcome: "succeeded" });
    expect(run?.counts).toMatchObject({ zonesMatched: 20, rightsFetched: 10_000, created: 10_000 });
    expect(await imported(siteId)).toBe(10_000);
    expect(maxParams).toBeGreaterThan(0);
    expect(maxParams).toBeLessThanOrEqual(100);
  }, 120_000);
});
