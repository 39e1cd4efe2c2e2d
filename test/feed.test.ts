import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ParkMobileFake } from "../scripts/parkmobile-fake";
import { issueToken, readToken } from "../src/auth/continuation";
import { zoneChanges, zoneList } from "../src/db/permits/feed";
import { runParkMobileImport } from "../src/parkmobile/import";
import { adminCall, bearer, call, count, newSite, ocTomaOk, post, queryPlans, seedPush, sessionSite } from "./helpers";

// Genetec AutoVu Pay-by-Plate, as an LPR system calls it: zones, a zone's permits in full and as deltas, search, isvalid.

type Body = Record<string, unknown>;
type Entry = {
  PermitId: string;
  PlateNumber: string;
  PlateState: string | null;
  Activation: string;
  Expiry: string;
  Removed?: boolean;
  RemovalReason?: string;
};
type FeedAnswer = { ContinuationToken: string; Permits: Entry[] };

const PBP = "/api/pbp/v2014-06";
const T0 = Date.UTC(2031, 4, 12, 12, 0, 0);

/** Moves the clock the Worker and the test read to T0 + `minutes`. */
const at = (minutes: number) => vi.setSystemTime(new Date(T0 + minutes * 60_000));
const wire = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().slice(0, 19);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  at(0);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function pbp(path: string, token: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set("x-apikey", token);
  return call(`${PBP}${path}`, { ...init, headers });
}
const pbpPost = (path: string, token: string, body: unknown) =>
  pbp(path, token, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function feedSite(zones = ["Lot A", "Lot B", "4410"]) {
  const site = await newSite({ zones, scopes: ["push", "update", "delete", "lookup"] });
  const ids = (await (await pbp("/zones", site.token)).json()) as { Zones: { ZoneId: string; Name: string }[] };
  const zone = (name: string) => ids.Zones.find((z) => z.Name === name)?.ZoneId as string;
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(site.slug).first<{ id: number }>())?.id as number;
  return { ...site, siteId, zone };
}

/** Pushes a permit (times in minutes from now) and returns its reference. */
async function push(token: string, plate: string, zone: string, from: number, to: number, extra: Body = {}) {
  const res = await post("/api/OC-TOMA/v1/permits/push", {
    ...seedPush(token),
    permitNo: crypto.randomUUID(),
    LicencePlate: plate,
    zone,
    startTime: wire(from),
    endTime: wire(to),
    ...extra,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reference_id: string }).reference_id;
}

async function feed(token: string, zoneId: string, continuationToken?: string): Promise<FeedAnswer> {
  const query = continuationToken === undefined ? "" : `?continuationToken=${encodeURIComponent(continuationToken)}`;
  const res = await pbp(`/zones/${zoneId}/permits${query}`, token);
  const json = (await res.json()) as FeedAnswer;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** An LPR patroller: pulls a zone in full once, then applies each delta to the list it holds. */
class Patroller {
  list = new Map<string, Entry>();
  token = "";
  constructor(
    readonly apiKey: string,
    readonly zoneId: string,
  ) {}
  async full() {
    const answer = await feed(this.apiKey, this.zoneId);
    this.list = new Map(answer.Permits.map((p) => [p.PermitId, p]));
    this.token = answer.ContinuationToken;
    return answer;
  }
  async delta() {
    const answer = await feed(this.apiKey, this.zoneId, this.token);
    for (const p of answer.Permits) {
      if (p.Removed) this.list.delete(p.PermitId);
      else this.list.set(p.PermitId, p);
    }
    this.token = answer.ContinuationToken;
    return answer;
  }
  /** The list it holds, as a fresh full pull would show it. */
  held() {
    return [...this.list.values()].sort((a, b) => a.PermitId.localeCompare(b.PermitId));
  }
}

/** What a fresh full pull of the zone holds now. */
async function fresh(apiKey: string, zoneId: string) {
  return (await feed(apiKey, zoneId)).Permits.sort((a, b) => a.PermitId.localeCompare(b.PermitId));
}

describe("X-ApiKey", () => {
  it("is required, must be a live token with the lookup scope, and is named in every refusal", async () => {
    const { token, slug } = await feedSite();
    const none = await pbp("/zones", null);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({
      ErrorCode: 9001,
      field: "X-ApiKey",
      ErrorMessage: "Send the API token in the X-ApiKey header.",
    });
    // The other header forms are not Genetec's: they do not count here.
    const bearer = await pbp("/zones", null, { headers: { authorization: `Bearer ${token}` } });
    expect(await bearer.json()).toMatchObject({ ErrorCode: 9001, field: "X-ApiKey" });
    const unknown = await pbp("/zones", "pe-unknown");
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({
      ErrorCode: 9002,
      field: "X-ApiKey",
      ErrorMessage: "The token in X-ApiKey is unknown or revoked.",
    });
    expect(await (await pbp("/zones", "not a token!")).json()).toMatchObject({ ErrorCode: 9002, field: "X-ApiKey" });
    const res = await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"] });
    const pushOnly = ((await res.json()) as { token: string }).token;
    const refused = await pbp("/zones", pushOnly);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ ErrorCode: 9002, field: "X-ApiKey" });
  });

  it("is checked before anything else: a bad body or an unknown zone says nothing to a caller without one", async () => {
    expect((await pbp("/zones/999999/permits", null)).status).toBe(401);
    const res = await pbp("/isvalid", null, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(res.status).toBe(401);
  });
});

describe("GET zones", () => {
  it("lists the site's lot zones with their ids, and only its own", async () => {
    const { token } = await feedSite(["Lot A", "Lot B"]);
    await feedSite(["Other"]);
    const json = (await (await pbp("/zones", token)).json()) as { Zones: Body[] };
    expect(json.Zones.map((z) => z.Name)).toEqual(["Lot A", "Lot B"]);
    expect(json.Zones.every((z) => typeof z.ZoneId === "string" && /^\d+$/.test(z.ZoneId as string))).toBe(true);
  });
});

describe("a zone's permits, in full", () => {
  it("lists every permit active in the zone now, and those that ended within the grace period", async () => {
    const { token, slug, zone } = await feedSite();
    const active = await push(token, "ACT 1", "Lot A", -60, 60, { Amount: "2.00" });
    const justEnded = await push(token, "GRACE1", "Lot A", -60, -10); // 10 minutes ago: within the 15-minute grace
    await push(token, "OLD1", "Lot A", -60, -20); // 20 minutes ago: gone
    await push(token, "SOON1", "Lot A", 30, 90); // not started
    await push(token, "OTHER1", "Lot B", -60, 60);
    await push(token, "DISC1", "Nowhere", -60, 60); // disconnected: in no zone's list
    const gone = await push(token, "GONE1", "Lot A", -60, 60);
    await ocTomaOk("delete", { apiToken: token, referenceID: gone });
    const std = await adminCall("POST", `/sites/${slug}/permits`, {
      permits: [{ plate: "STD-1", zone: "Lot A", startTime: wire(-60 * 24), endTime: wire(60 * 24 * 30), permitNo: "F-1" }],
    });
    const standard = ((await std.json()) as { references: string[] }).references[0] as string;

    const answer = await feed(token, zone("Lot A"));
    expect(answer.Permits.map((p) => p.PermitId).sort()).toEqual([active, justEnded, standard].sort());
    expect(answer.Permits.find((p) => p.PermitId === active)).toEqual({
      PermitId: active,
      PlateNumber: "ACT1",
      PlateState: null,
      Activation: `${wire(-60)}Z`,
      Expiry: `${wire(60)}Z`,
    });
    expect(answer.ContinuationToken).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it("answers 404 for a zone that is not one of the site's", async () => {
    const { token } = await feedSite();
    const other = await feedSite();
    for (const id of ["999999999", "abc", other.zone("Lot A")]) {
      const res = await pbp(`/zones/${id}/permits`, token);
      expect(res.status, id).toBe(404);
      expect(await res.json()).toMatchObject({ ErrorCode: 9009, field: "zoneId" });
    }
  });
});

describe("deltas", () => {
  it("a patroller that applies every delta holds what a fresh full pull holds: pushes, updates, deletes, standard permits, moves, imports and expiries", async () => {
    const { token, slug, siteId, zone } = await feedSite();
    const lotA = zone("Lot A");
    const patroller = new Patroller(token, lotA);
    const extended = await push(token, "EXT1", "Lot A", -60, 60);
    const shortened = await push(token, "SHORT1", "Lot A", -60, 60);
    const replated = await push(token, "PLATE1", "Lot A", -60, 60);
    const deleted = await push(token, "DEL1", "Lot A", -60, 60);
    const upcoming = await push(token, "SOON1", "Lot A", 90, 240);
    const mover = await push(token, "MOVE1", "Lot B", -60, 60);
    const leaver = await push(token, "LEAVE1", "Lot A", -60, 60);
    const expiring = await push(token, "EXP1", "Lot A", -60, 50);
    await patroller.full();
    expect(
      patroller
        .held()
        .map((p) => p.PermitId)
        .sort(),
    ).toEqual([extended, shortened, replated, deleted, leaver, expiring].sort());
    const check = async () => {
      await patroller.delta();
      expect(patroller.held()).toEqual(await fresh(token, lotA));
    };

    // Writes through every path.
    const added = await push(token, "NEW1", "Lot A", -5, 120);
    await ocTomaOk("update", { apiToken: token, referenceID: extended, endTime: wire(180) });
    await ocTomaOk("update", { apiToken: token, referenceID: shortened, endTime: wire(-30) });
    await ocTomaOk("update", { apiToken: token, referenceID: replated, plate: "PLATE2" });
    await ocTomaOk("delete", { apiToken: token, referenceID: deleted });
    const std = await adminCall("POST", `/sites/${slug}/permits`, {
      permits: [
        { plate: "STD 1", zone: "Lot A", startTime: wire(-600), endTime: wire(60 * 24 * 90) },
        { plate: "STD 2", zone: "Lot B", startTime: wire(-600), endTime: wire(60 * 24 * 90) },
      ],
    });
    expect(std.status).toBe(201);
    // A permit moves zone (no surface moves one today; the change log follows any write that does), one leaves.
    await env.DB.prepare("UPDATE permits SET lot_zone_id = ? WHERE id = ?").bind(Number(lotA), mover).run();
    await env.DB.prepare("UPDATE permits SET lot_zone_id = ? WHERE id = ?")
      .bind(Number(zone("Lot B")), leaver)
      .run();
    const delta = await patroller.delta();
    expect(patroller.held()).toEqual(await fresh(token, lotA));
    const byId = new Map(delta.Permits.map((p) => [p.PermitId, p]));
    expect(byId.get(added)).toMatchObject({ PlateNumber: "NEW1" });
    expect(byId.get(extended)).toMatchObject({ Expiry: `${wire(180)}Z` });
    expect(byId.get(shortened)).toMatchObject({ Removed: true, RemovalReason: "expired" });
    expect(byId.get(replated)).toMatchObject({ PlateNumber: "PLATE2" });
    expect(byId.get(deleted)).toMatchObject({ Removed: true, RemovalReason: "deleted" });
    expect(byId.get(mover)).toMatchObject({ PlateNumber: "MOVE1" });
    expect(byId.get(leaver)).toMatchObject({ Removed: true, RemovalReason: "moved" });
    expect(byId.has(upcoming)).toBe(false);

    // Nothing changed: an empty delta, and the list holds.
    expect((await patroller.delta()).Permits).toEqual([]);

    // Time passes with no write: EXP1 ends (+50) and its grace runs out (+65); SOON1 starts (+90).
    at(70);
    await check();
    expect(patroller.list.has(expiring)).toBe(false);
    at(100);
    const started = await patroller.delta();
    expect(started.Permits.map((p) => p.PermitId)).toContain(upcoming);
    expect(patroller.held()).toEqual(await fresh(token, lotA));

    // A zone added later takes in the disconnected records that named it: they join its list.
    const late = await push(token, "LATE1", "Lot C", -5, 60);
    const created = await adminCall("POST", `/sites/${slug}/zones`, { name: "Lot C" });
    const lotC = String(((await created.json()) as { id: number }).id);
    const patrollerC = new Patroller(token, lotC);
    await patrollerC.full();
    expect([...patrollerC.list.keys()]).toEqual([late]);
    await check();

    // Permits imported from ParkMobile, created then extended, in zone 4410.
    const fake = new ParkMobileFake({ username: "u", password: "p", apiKey: "k" });
    fake.addZone("4410");
    await adminCall("PUT", `/sites/${slug}/parkmobile`, { username: "u", password: "p", apiKey: "k", baseUrl: "https://pm.feed" });
    const pm = new Patroller(token, zone("4410"));
    await pm.full();
    const now = Math.floor(Date.now() / 1000);
    const right = fake.addRight("4410", { plate: "PM 1", start: now - 600, minutes: 60, state: "QC" });
    fake.addRight("4410", { plate: "PM 2", start: now - 600, minutes: 30 });
    expect((await runParkMobileImport(env, siteId, "manual", fake.fetch))?.counts).toMatchObject({ created: 2 });
    await pm.delta();
    expect(pm.held()).toEqual(await fresh(token, zone("4410")));
    expect(pm.held().find((p) => p.PlateNumber === "PM1")).toMatchObject({ PlateState: "QC" });
    fake.extend(right.parkingRightId, 60, now + 60);
    expect((await runParkMobileImport(env, siteId, "manual", fake.fetch))?.counts).toMatchObject({ updated: 1 });
    const extension = await pm.delta();
    expect(extension.Permits).toHaveLength(1);
    expect(pm.held()).toEqual(await fresh(token, zone("4410")));

    // Much later: everything in Lot A's list has expired but the standard permit, and the deltas said so.
    at(60 * 6);
    await check();
    expect(patroller.held().map((p) => p.PlateNumber)).toEqual(["STD1"]);
  });

  it("an aggregator's sessions reach the feed: started, extended, stopped, then gone once the grace period is over", async () => {
    const { token, access } = await sessionSite();
    const zones = (await (await pbp("/zones", token)).json()) as { Zones: { ZoneId: string; Name: string }[] };
    const lot4 = zones.Zones.find((z) => z.Name === "Lot 4")?.ZoneId as string;
    const patroller = new Patroller(token, lot4);
    await patroller.full();
    const start = await post(
      "/api/v1/sessions",
      { zone_number: "104", license_plate: "SES 1", license_plate_state: "on", duration: 30 },
      bearer(access),
    );
    expect(start.status).toBe(201);
    const { session_id: id } = (await start.json()) as { session_id: string };
    expect((await patroller.delta()).Permits).toEqual([
      expect.objectContaining({ PermitId: id, PlateNumber: "SES1", PlateState: "ON", Expiry: `${wire(30)}Z` }),
    ]);
    expect((await post(`/api/v1/sessions/${id}/extend`, { duration: 30 }, bearer(access))).status).toBe(200);
    expect((await patroller.delta()).Permits).toEqual([expect.objectContaining({ PermitId: id, Expiry: `${wire(60)}Z` })]);
    at(10);
    expect((await post(`/api/v1/sessions/${id}/stop`, {}, bearer(access))).status).toBe(200);
    // Stopped now: its end is now, and it stays in the list for the grace period.
    expect((await patroller.delta()).Permits).toEqual([expect.objectContaining({ PermitId: id, Expiry: `${wire(0)}Z` })]);
    expect(patroller.held()).toEqual(await fresh(token, lot4));
    at(30);
    expect((await patroller.delta()).Permits).toEqual([expect.objectContaining({ PermitId: id, Removed: true, RemovalReason: "expired" })]);
    expect(patroller.held()).toEqual(await fresh(token, lot4));
  });

  it("a grace period changed since the token needs a full pull", async () => {
    const { token, slug, zone } = await feedSite();
    const first = await feed(token, zone("Lot A"));
    expect((await adminCall("PATCH", `/sites/${slug}`, { graceMinutes: 5 })).status).toBe(200);
    const res = await pbp(`/zones/${zone("Lot A")}/permits?continuationToken=${first.ContinuationToken}`, token);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      ErrorCode: 9033,
      field: "continuationToken",
      ErrorMessage: expect.stringContaining("grace period"),
    });
    const again = await feed(token, zone("Lot A"));
    expect((await feed(token, zone("Lot A"), again.ContinuationToken)).Permits).toEqual([]);
  });
});

describe("continuation tokens", () => {
  async function refused(token: string, zoneId: string, continuation: string) {
    const res = await pbp(`/zones/${zoneId}/permits?continuationToken=${encodeURIComponent(continuation)}`, token);
    const json = (await res.json()) as Body;
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json).toMatchObject({ ErrorCode: 9033, field: "continuationToken" });
    expect(json.ErrorMessage).toContain("pull the zone's permits in full (call without continuationToken)");
    return json.ErrorMessage as string;
  }

  it("a forged, altered or damaged token is refused with the advice to pull in full", async () => {
    const { token, zone } = await feedSite();
    const { ContinuationToken: good } = await feed(token, zone("Lot A"));
    const [payload, tag] = good.split(".") as [string, string];
    const altered = `${btoa(JSON.stringify([1, Number(zone("Lot A")), 0, 0, 900])).replace(/=+$/, "")}.${tag}`;
    const flip = (text: string, i: number) => `${text.slice(0, i)}${text[i] === "A" ? "B" : "A"}${text.slice(i + 1)}`;
    // A changed character of the MAC; the last one's low bits are padding, which a canonical reading refuses too.
    const flipped = [`${payload}.${flip(tag, 3)}`, `${payload}.${flip(tag, tag.length - 1)}`];
    for (const bad of [altered, ...flipped, "garbage", `${payload}`, `${payload}.${tag}.x`, "a.b", "%%%.%%%"]) {
      expect(await refused(token, zone("Lot A"), bad)).toContain("is not one this API issued");
    }
  });

  it("a token is good for its zone only, and for its site only", async () => {
    const { token, zone } = await feedSite();
    const { ContinuationToken: ofA } = await feed(token, zone("Lot A"));
    expect(await refused(token, zone("Lot B"), ofA)).toContain("was issued for another zone");
  });

  it("a token older than 24 hours is expired", async () => {
    const { token, zone } = await feedSite();
    const { ContinuationToken: old } = await feed(token, zone("Lot A"));
    at(24 * 60 - 1);
    const fresher = await feed(token, zone("Lot A"), old);
    at(24 * 60 + 1);
    expect(await refused(token, zone("Lot A"), old)).toContain("older than 24 hours");
    expect((await feed(token, zone("Lot A"), fresher.ContinuationToken)).Permits).toEqual([]);
  });

  it("are derived from data and the key alone: they survive restarts and deploys, and a new key retires them", async () => {
    const position = { siteId: 7, zoneId: 12, seq: 345, at: 1_900_000_000, grace: 900 };
    const token = await issueToken("a-feed-key-that-is-at-least-32-chars", position);
    expect(await readToken("a-feed-key-that-is-at-least-32-chars", token)).toEqual(position);
    expect(await readToken("another-key-that-is-at-least-32-chars", token)).toBeNull();
    await expect(issueToken("short", position)).rejects.toThrow(/FEED_TOKEN_KEY/);
  });
});

describe("a zone whose permits cannot be known", () => {
  it("answers 503 while its ParkMobile import has not succeeded for 15 minutes, and 200 again once it has", async () => {
    const { token, slug, siteId, zone } = await feedSite();
    const fake = new ParkMobileFake({ username: "u", password: "p", apiKey: "k" });
    fake.addZone("4410");
    fake.addRight("4410", { plate: "PM 1", start: Math.floor(Date.now() / 1000) - 60, minutes: 60 });
    await adminCall("PUT", `/sites/${slug}/parkmobile`, { username: "u", password: "p", apiKey: "k", baseUrl: "https://pm.feed" });
    await adminCall("PATCH", `/sites/${slug}/tasks/parkmobile`, { enabled: true });
    await runParkMobileImport(env, siteId, "manual", fake.fetch);
    const zoneId = zone("4410");
    const { ContinuationToken } = await feed(token, zoneId);

    fake.faults = { status: 503 };
    at(14);
    expect((await runParkMobileImport(env, siteId, "manual", fake.fetch))?.outcome).toBe("failed");
    await feed(token, zoneId, ContinuationToken);
    at(16);
    for (const path of [`/zones/${zoneId}/permits`, `/zones/${zoneId}/permits?continuationToken=${ContinuationToken}`]) {
      const res = await pbp(path, token);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("180");
      expect(await res.json()).toMatchObject({
        ErrorCode: 9999,
        ErrorMessage: expect.stringContaining("ParkMobile import has not succeeded since"),
      });
    }
    // A zone that is not imported answers as before; a plate found is still found; nothing found is not trusted.
    expect((await pbp(`/zones/${zone("Lot A")}/permits`, token)).status).toBe(200);
    expect((await pbpPost("/isvalid", token, { PlateNumber: "PM1", ZoneIds: [zoneId] })).status).toBe(200);
    expect((await pbpPost("/isvalid", token, { PlateNumber: "NOPE1", ZoneIds: [zoneId] })).status).toBe(503);
    expect((await pbpPost("/permits/search", token, { PlateNumbers: ["NOPE1"], ZoneIds: [zoneId] })).status).toBe(503);

    // Disabling the import is the operator's word that the zone is no longer fed from ParkMobile.
    await adminCall("PATCH", `/sites/${slug}/tasks/parkmobile`, { enabled: false });
    expect((await pbp(`/zones/${zoneId}/permits`, token)).status).toBe(200);
    await adminCall("PATCH", `/sites/${slug}/tasks/parkmobile`, { enabled: true });
    fake.faults = {};
    expect((await runParkMobileImport(env, siteId, "manual", fake.fetch))?.outcome).toBe("succeeded");
    expect((await pbp(`/zones/${zoneId}/permits`, token)).status).toBe(200);
  });
});

describe("permits/search", () => {
  it("finds the permits of the plates in the zones, grouped by zone, with how each matched", async () => {
    const { token, zone } = await feedSite();
    const a = await push(token, "ABC 123", "Lot A", -30, 30);
    const b = await push(token, "ABC-123", "Lot B", -30, -5); // within grace
    await push(token, "XYZ 9", "Lot A", -30, 30);
    const res = await pbpPost("/permits/search", token, { PlateNumbers: ["abc123", "NOPE"], ZoneIds: [zone("Lot A"), zone("Lot B")] });
    const json = (await res.json()) as { PermitZones: { ZoneId: string; Permits: Body[] }[] };
    expect(res.status, JSON.stringify(json)).toBe(200);
    // Latest end first: the permit valid now, then the one within its grace period.
    expect(json.PermitZones).toEqual([
      {
        ZoneId: zone("Lot A"),
        Permits: [
          expect.objectContaining({
            PermitId: a,
            PlateNumber: "ABC123",
            MatchedPlateNumber: "ABC123",
            Match: "exact",
            ExpiredWithinGrace: false,
          }),
        ],
      },
      { ZoneId: zone("Lot B"), Permits: [expect.objectContaining({ PermitId: b, ExpiredWithinGrace: true })] },
    ]);
    // Without ZoneIds: every zone of the site.
    const all = (await (await pbpPost("/permits/search", token, { PlateNumbers: ["ABC123"] })).json()) as { PermitZones: unknown[] };
    expect(all.PermitZones).toHaveLength(2);
  });

  it("answers 404 when nothing matches, and refuses bad input naming the item", async () => {
    const { token, zone } = await feedSite();
    const none = await pbpPost("/permits/search", token, { PlateNumbers: ["NOPE1"], ZoneIds: [zone("Lot A")] });
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ ErrorCode: 9009 });
    const cases: [unknown, Body][] = [
      [{ ZoneIds: [zone("Lot A")] }, { ErrorCode: 9031, field: "PlateNumbers" }],
      [{ PlateNumbers: [] }, { ErrorCode: 9032, field: "PlateNumbers" }],
      [{ PlateNumbers: ["OK1", "***"] }, { ErrorCode: 9033, field: "PlateNumbers.1" }],
      [
        { PlateNumbers: ["OK1"], ZoneIds: ["424242"] },
        { ErrorCode: 9033, field: "ZoneIds.0" },
      ],
      [
        { PlateNumbers: ["OK1"], PlateState: "NOT A STATE" },
        { ErrorCode: 9030, field: "PlateState" },
      ],
      [
        { PlateNumbers: ["OK1"], PlateState: "O N" },
        { ErrorCode: 9033, field: "PlateState" },
      ],
      [{ PlateNumbers: Array.from({ length: 101 }, (_, i) => `P${i}`) }, { ErrorCode: 9030, field: "PlateNumbers" }],
    ];
    for (const [body, error] of cases) {
      const res = await pbpPost("/permits/search", token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json(), JSON.stringify(body)).toMatchObject(error);
    }
    const notJson = await pbp("/permits/search", token, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(await notJson.json()).toMatchObject({ ErrorCode: 9003 });
  });
});

describe("isvalid", () => {
  it("says whether a plate holds a valid permit in the zones, counting the grace period, narrowing by state, forgiving misreads when asked", async () => {
    const { token, zone } = await feedSite();
    await push(token, "OBC 123", "Lot A", -30, 30);
    await push(token, "LATE 1", "Lot A", -30, -5);
    await env.DB.prepare("UPDATE permits SET plate_state = 'ON' WHERE plate_norm = 'OBC123'").run();
    const isValid = async (body: Body) => {
      const res = await pbpPost("/isvalid", token, body);
      const json = (await res.json()) as Body & { Permits: Body[] };
      expect(res.status, JSON.stringify(json)).toBe(200);
      return json;
    };
    expect(await isValid({ PlateNumber: "obc123", ZoneIds: [zone("Lot A")] })).toMatchObject({ IsValid: true, ExpiredWithinGrace: false });
    expect(await isValid({ PlateNumber: "OBC123", ZoneIds: [zone("Lot B")] })).toMatchObject({ IsValid: false, Permits: [] });
    expect(await isValid({ PlateNumber: "LATE1" })).toMatchObject({ IsValid: true, ExpiredWithinGrace: true });
    // A camera read 0 for O: no match unless asked to forgive it.
    expect(await isValid({ PlateNumber: "0BC123" })).toMatchObject({ IsValid: false });
    const forgiven = await isValid({ PlateNumber: "0BC123", Confusables: true });
    expect(forgiven).toMatchObject({
      IsValid: true,
      Permits: [{ PlateNumber: "OBC123", MatchedPlateNumber: "0BC123", Match: "confusable", ZoneId: zone("Lot A") }],
    });
    expect(await isValid({ PlateNumber: "OBC123", PlateState: "ON" })).toMatchObject({ IsValid: true });
    expect(await isValid({ PlateNumber: "OBC123", PlateState: "qc" })).toMatchObject({ IsValid: false });
    // A permit whose state is unknown matches any state.
    expect(await isValid({ PlateNumber: "LATE1", PlateState: "QC" })).toMatchObject({ IsValid: true });
  });
});

describe("storage", () => {
  it("a delta is one statement of index seeks: the change log, expiries and starts, never a scan of permits", async () => {
    const { siteId, zone } = await feedSite();
    const q = { siteId, zoneId: Number(zone("Lot A")), now: 2_000_000_000, graceSeconds: 900, staleAfter: 900 };
    const plans = await queryPlans(async (d1) => {
      await zoneChanges(d1, { ...q, since: { seq: 0, at: 1_999_990_000 } });
      await zoneList(d1, q);
    });
    const delta = plans.find((p) => p.sql.includes("UNION"))?.plan ?? "";
    expect(delta).toMatch(/SEARCH permit_changes USING COVERING INDEX permit_changes_zone \(lot_zone_id=\? AND seq>\?\)/);
    expect(delta).toMatch(/SEARCH permits USING INDEX permits_zone_live \(site_id=\? AND lot_zone_id=\? AND end_at>\? AND end_at<\?\)/);
    expect(delta).toMatch(/SEARCH permits USING INDEX permits_site_start \(site_id=\? AND type=\? AND start_at>\? AND start_at<\?\)/);
    expect(delta).toMatch(/SEARCH p USING INDEX sqlite_autoindex_permits_1 \(id=\?\)/);
    for (const { plan } of plans) expect(plan).not.toMatch(/SCAN (p|permits)\b/);
    expect(plans.find((p) => p.sql.includes("permits_zone_live") && !p.sql.includes("UNION"))?.plan).toMatch(
      /SEARCH p USING INDEX permits_zone_live/,
    );
  });

  it("every write path logs its change for the feed, and only while a zone's list could hold the permit", async () => {
    // The triggers read the database's clock: this test keeps the real one.
    vi.useRealTimers();
    const { token, zone } = await feedSite();
    const before = await count("permit_changes", "lot_zone_id = ?", Number(zone("Lot A")));
    const ref = await push(token, "LOG1", "Lot A", -30, 30);
    await ocTomaOk("update", { apiToken: token, referenceID: ref, Amount: "3.00" }); // the amount is not in the feed: no log
    await ocTomaOk("update", { apiToken: token, referenceID: ref, endTime: wire(60) });
    await push(token, "HIST1", "Lot A", -60 * 24 * 10, -60 * 24 * 9); // long ended: no list can hold it
    expect(await count("permit_changes", "lot_zone_id = ?", Number(zone("Lot A")))).toBe(before + 2);
  });
});
