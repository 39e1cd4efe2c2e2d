import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openSession } from "../src/db/client";
import { checkPlates } from "../src/db/permits/reads";
import { CONFUSABLES, foldedPlateSql, foldPlate } from "../src/domain/plate";
import { adminCall, bearer, call, count, newSite, post, seedPush, sessionSite } from "./helpers";

// What an officer's plate check sees on every surface: the grace period, misread plates, the plate's state; and
// reads served through D1 sessions with bookmarks (read-your-writes).

type Body = Record<string, unknown>;
type Lookup = Body & { permits: Body[] };

const T0 = Date.UTC(2031, 4, 12, 12, 0, 0);
const wire = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString().slice(0, 19);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(T0));
});
afterEach(() => vi.useRealTimers());

async function push(token: string, plate: string, fromSeconds: number, toSeconds: number, extra: Body = {}) {
  const res = await post("/api/OC-TOMA/v1/permits/push", {
    ...seedPush(token),
    permitNo: crypto.randomUUID(),
    LicencePlate: plate,
    startTime: wire(fromSeconds),
    endTime: wire(toSeconds),
    ...extra,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reference_id: string }).reference_id;
}

async function lookup(token: string, query: string): Promise<Lookup> {
  const res = await call(`/api/v1/lookup?${query}`, { headers: { authorization: `Bearer ${token}` } });
  const json = (await res.json()) as Lookup;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

describe("the grace period", () => {
  it("returns a permit that ended less than the site's grace period ago, flagged, and not one second later", async () => {
    const { token, slug } = await newSite();
    const ref = await push(token, "GRACE 1", -3600, -(15 * 60 - 1)); // ended 14:59 ago
    await push(token, "GONE 1", -3600, -(15 * 60)); // ended 15:00 ago
    expect(await lookup(token, "plate=GRACE1")).toMatchObject({
      active: false,
      within_grace: true,
      grace_minutes: 15,
      permits: [{ reference_id: ref, expiredWithinGrace: true }],
    });
    expect(await lookup(token, "plate=GONE1")).toMatchObject({ active: false, within_grace: false, permits: [] });
    // The boundary moves with the site's setting; 0 turns grace off.
    await adminCall("PATCH", `/sites/${slug}`, { graceMinutes: 20 });
    expect((await lookup(token, "plate=GONE1")).permits).toHaveLength(1);
    await adminCall("PATCH", `/sites/${slug}`, { graceMinutes: 0 });
    expect(await lookup(token, "plate=GRACE1")).toMatchObject({ within_grace: false, grace_minutes: 0, permits: [] });
  });

  it("a plate with a valid permit is active, whatever else it holds", async () => {
    const { token } = await newSite();
    await push(token, "BOTH 1", -3600, -60);
    const valid = await push(token, "BOTH 1", -60, 3600);
    const json = await lookup(token, "plate=BOTH1");
    expect(json).toMatchObject({ active: true, within_grace: false });
    expect(json.permits.map((p) => [p.reference_id, p.expiredWithinGrace])).toEqual([
      [valid, false],
      [expect.any(String), true],
    ]);
  });
});

describe("plates misread by cameras", () => {
  it("folds exactly O/Q→0, I/L→1, B→8, S→5, Z→2, G→6, in the code and in the generated column alike", async () => {
    expect(CONFUSABLES).toEqual({ O: "0", Q: "0", I: "1", L: "1", B: "8", S: "5", Z: "2", G: "6" });
    const samples = ["OQIL0BSZG", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "ÅÖ8Б", "PL8RDR"];
    for (const plate of samples) {
      const row = await env.DB.prepare(`SELECT ${foldedPlateSql("?1")} AS folded`)
        .bind(plate)
        .first<{ folded: string }>();
      expect(row?.folded, plate).toBe(foldPlate(plate));
    }
    expect(foldPlate("OQIL0BSZG")).toBe("001108526");
  });

  it("only when asked, each hit naming the plate it matched and how; what is stored is never folded", async () => {
    const { token } = await newSite();
    const stored = await push(token, "OBC 123", -60, 3600);
    const exact = await push(token, "0BC 123", -60, 3600);
    expect(await env.DB.prepare("SELECT plate_norm, plate_folded FROM permits WHERE id = ?").bind(stored).first()).toEqual({
      plate_norm: "OBC123",
      plate_folded: "08C123",
    });
    expect((await lookup(token, "plate=0BC123")).permits.map((p) => p.reference_id)).toEqual([exact]);
    const forgiving = await lookup(token, "plate=0BC123&confusables=true");
    expect(forgiving.confusables).toBe(true);
    expect(forgiving.permits.map((p) => [p.reference_id, p.plate, p.matchedPlate, p.match]).sort()).toEqual(
      [
        [exact, "0BC 123", "0BC123", "exact"],
        [stored, "OBC 123", "0BC123", "confusable"],
      ].sort(),
    );
    for (const misread of ["08C123", "OBCI23", "Q8C1Z3"]) {
      expect((await lookup(token, `plate=${misread}&confusables=1`)).permits, misread).toHaveLength(2);
    }
    expect((await lookup(token, "plate=0BC123&confusables=false")).permits).toHaveLength(1);
    const bad = await call("/api/v1/lookup?plate=ABC&confusables=yes", { headers: { authorization: `Bearer ${token}` } });
    expect(await bad.json()).toMatchObject({ ErrorCode: 9033, field: "confusables" });
  });
});

describe("the plate's state", () => {
  it("is kept from ParkMobile's lpnState and narrows a check; a permit of unknown state matches any", async () => {
    const { token, slug } = await newSite();
    const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
    const ontario = await push(token, "STATE 1", -60, 3600);
    const unknown = await push(token, "STATE 1", -60, 3600);
    await env.DB.prepare("UPDATE permits SET plate_state = 'ON' WHERE id = ?").bind(ontario).run();
    const refs = async (query: string) => (await lookup(token, query)).permits.map((p) => p.reference_id).sort();
    expect(await refs("plate=STATE1&state=on")).toEqual([ontario, unknown].sort());
    expect(await refs("plate=STATE1&state=QC")).toEqual([unknown]);
    expect((await lookup(token, "plate=STATE1&state=QC")).state).toBe("QC");
    const bad = await call("/api/v1/lookup?plate=STATE1&state=O%20N", { headers: { authorization: `Bearer ${token}` } });
    expect(await bad.json()).toMatchObject({ ErrorCode: 9033, field: "state" });
    // The storage function says the same.
    const hits = await checkPlates(env.DB, {
      siteId,
      plates: ["STATE1"],
      now: Math.floor(T0 / 1000),
      graceSeconds: 0,
      plateState: "QC",
      limit: 10,
    });
    expect(hits.map((h) => h.id)).toEqual([unknown]);
  });
});

describe("POST /api/v1/validate/plate (OPS-COM)", () => {
  const validate = (body: unknown, type = "application/json") =>
    call("/api/v1/validate/plate", {
      method: "POST",
      headers: { "content-type": type },
      body:
        typeof body === "string"
          ? body
          : type.includes("json")
            ? JSON.stringify(body)
            : new URLSearchParams(body as Record<string, string>),
    });

  it("answers OPS-COM's shape for JSON and form bodies", async () => {
    const { token, slug } = await newSite({ scopes: ["push", "lookup"] });
    const ref = await push(token, "VAL 1", -60, 3600, { zone: "Lot 4" });
    const expected = {
      error: 0,
      message: "Valid permit found.",
      data: {
        plate: "VAL1",
        response: `VAL1 has a valid permit in Lot 4 until ${wire(3600)} UTC.`,
        responseJSON: {
          permits: [
            {
              type: "temp",
              shortName: "Lot 4",
              expires: wire(3600),
              reference_id: ref,
              plateState: null,
              matchedPlate: "VAL1",
              match: "exact",
              expiredWithinGrace: false,
            },
          ],
          dntt: [],
          alarm: false,
        },
        valid: true,
      },
    };
    expect(await (await validate({ api_token: token, client: slug, plate: "val-1" })).json()).toEqual(expected);
    const form = await validate({ api_token: token, client: slug, plate: "val 1" }, "application/x-www-form-urlencoded");
    expect(form.status).toBe(200);
    expect(await form.json()).toEqual(expected);
    expect(await (await validate({ api_token: token, client: slug, plate: "NONE1" })).json()).toEqual({
      error: 0,
      message: "No valid permit found.",
      data: { plate: "NONE1", response: "NONE1 has no valid permit.", responseJSON: { permits: [], dntt: [], alarm: false }, valid: false },
    });
  });

  it("counts the grace period, and takes confusables and state as extensions", async () => {
    const { token, slug } = await newSite({ scopes: ["push", "lookup"] });
    await push(token, "OLD 8", -3600, -120, { zone: "Lot 4" });
    const late = (await (await validate({ api_token: token, client: slug, plate: "OLD8" })).json()) as { data: Body };
    expect(late.data).toMatchObject({
      valid: true,
      response: `OLD8's permit in Lot 4 expired at ${wire(-120)} UTC, within the 15-minute grace period.`,
    });
    const misread = (await (await validate({ api_token: token, client: slug, plate: "0LDB", confusables: true })).json()) as { data: Body };
    expect(misread.data).toMatchObject({ valid: true, responseJSON: { permits: [{ matchedPlate: "0LDB", match: "confusable" }] } });
    const narrowed = (await (await validate({ api_token: token, client: slug, plate: "OLD8", state: "ON" })).json()) as { data: Body };
    expect(narrowed.data).toMatchObject({ valid: true });
  });

  it("refuses bad requests with OPS-COM's codes, the token first, writing nothing", async () => {
    const { token, slug } = await newSite({ scopes: ["push", "lookup"] });
    const other = await newSite();
    const pushOnly = ((await (await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"] })).json()) as { token: string }).token;
    const before = { permits: await count("permits"), events: await count("permit_events") };
    const cases: [unknown, number, Body][] = [
      [{ client: slug, plate: "ABC" }, 401, { ErrorCode: 9001, field: "api_token" }],
      [{ api_token: "", client: slug, plate: "ABC" }, 401, { ErrorCode: 9001, field: "api_token" }],
      [{ api_token: "pe-unknown", client: slug, plate: "ABC" }, 401, { ErrorCode: 9002, field: "api_token" }],
      [{ api_token: "no such token!", plate: "***" }, 401, { ErrorCode: 9002, field: "api_token" }],
      [{ api_token: pushOnly, client: slug, plate: "ABC" }, 403, { ErrorCode: 9002, field: "api_token" }],
      [{ api_token: token, plate: "ABC" }, 400, { ErrorCode: 9000, field: "client" }],
      [{ api_token: token, client: other.slug, plate: "ABC" }, 403, { ErrorCode: 9002, field: "client" }],
      [{ api_token: token, client: slug }, 400, { ErrorCode: 9006, field: "plate" }],
      [{ api_token: token, client: slug, plate: "   " }, 400, { ErrorCode: 9006, field: "plate" }],
      [{ api_token: token, client: slug, plate: "A".repeat(26) }, 400, { ErrorCode: 9030, field: "plate" }],
      [{ api_token: token, client: slug, plate: "***" }, 400, { ErrorCode: 9033, field: "plate" }],
      [{ api_token: token, client: slug, plate: 123 }, 400, { ErrorCode: 9033, field: "plate" }],
      [{ api_token: token, client: slug, plate: "ABC", state: "O N" }, 400, { ErrorCode: 9033, field: "state" }],
      ["{not json", 400, { ErrorCode: 9003 }],
      ["[1]", 400, { ErrorCode: 9003 }],
    ];
    for (const [body, status, error] of cases) {
      const res = await validate(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await res.json(), JSON.stringify(body)).toMatchObject({ status: "error", ...error });
    }
    const wrongType = await validate("plate=ABC", "text/plain");
    expect(wrongType.status).toBe(415);
    expect({ permits: await count("permits"), events: await count("permit_events") }).toEqual(before);
  });
});

describe("reads near the caller: D1 sessions and bookmarks", () => {
  const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

  it("every answer of a public surface carries the bookmark of what it wrote or read", async () => {
    const { token, slug } = await newSite({ scopes: ["push", "update", "delete", "stats", "lookup"] });
    const pushedRes = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), startTime: wire(-60), endTime: wire(3600) });
    const afterPush = pushedRes.headers.get("x-d1-bookmark") as string;
    expect(afterPush).toMatch(BOOKMARK);
    const ref = ((await pushedRes.json()) as { reference_id: string }).reference_id;
    // Sent back, it makes the read at least as new as the write; the answer carries a bookmark no older.
    const read = await call("/api/v1/lookup?plate=PL8RDR", { headers: { authorization: `Bearer ${token}`, "x-d1-bookmark": afterPush } });
    expect(((await read.json()) as Lookup).permits.map((p) => p.reference_id)).toEqual([ref]);
    const afterRead = read.headers.get("x-d1-bookmark") as string;
    expect(afterRead >= afterPush).toBe(true);
    // An update (written by the permit's Durable Object) answers a bookmark that covers it.
    const updated = await post(
      "/api/OC-TOMA/v1/permits/update",
      { apiToken: token, referenceID: ref, endTime: wire(60) },
      { "x-d1-bookmark": afterRead },
    );
    const afterUpdate = updated.headers.get("x-d1-bookmark") as string;
    expect(afterUpdate > afterRead).toBe(true);
    const deleted = await post("/api/OC-TOMA/v1/permits/delete", { apiToken: token, referenceID: ref });
    const afterDelete = deleted.headers.get("x-d1-bookmark") as string;
    expect(afterDelete > afterUpdate).toBe(true);
    const gone = await call("/api/v1/lookup?plate=PL8RDR", { headers: { authorization: `Bearer ${token}`, "x-d1-bookmark": afterDelete } });
    expect(((await gone.json()) as Lookup).permits).toEqual([]);
    const stats = await post("/api/OC-TOMA/v1/permits/stats", { apiToken: token });
    expect(stats.headers.get("x-d1-bookmark")).toMatch(BOOKMARK);
    const zones = await call("/api/pbp/v2014-06/zones", { headers: { "x-apikey": token } });
    expect(zones.headers.get("x-d1-bookmark")).toMatch(BOOKMARK);
    // Errors after a read carry it too; the admin API reads the primary and sends none.
    const notFound = await post("/api/OC-TOMA/v1/permits/update", { apiToken: token, referenceID: "nope", Amount: "1.00" });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("x-d1-bookmark")).toMatch(BOOKMARK);
    expect((await adminCall("GET", `/sites/${slug}`)).headers.get("x-d1-bookmark")).toBeNull();
  });

  it("the sessions API too: start, extend, stop, status, list, zones and rights each carry it, each no older than the last", async () => {
    const { access } = await sessionSite();
    const auth = (bookmark: string) => ({ ...bearer(access), "x-d1-bookmark": bookmark });
    const started = await post("/api/v1/sessions", { zone_number: "104", license_plate: "BMK 1", duration: 30 }, bearer(access));
    expect(started.status).toBe(201);
    const { session_id: id } = (await started.json()) as { session_id: string };
    let last = started.headers.get("x-d1-bookmark") as string;
    expect(last).toMatch(BOOKMARK);
    const steps = [
      () => post(`/api/v1/sessions/${id}/extend`, { duration: 15 }, auth(last)),
      () => call(`/api/v1/sessions/${id}`, { headers: auth(last) }),
      () => post(`/api/v1/sessions/${id}/stop`, {}, auth(last)),
      () => call("/api/v1/sessions?license_plate=BMK1", { headers: auth(last) }),
      () => call("/api/v1/zones", { headers: auth(last) }),
      () => call("/api/v1/rights?license_plate=BMK1", { headers: auth(last) }),
    ];
    for (const step of steps) {
      const res = await step();
      expect(res.status, await res.clone().text()).toBe(200);
      const next = res.headers.get("x-d1-bookmark") as string;
      expect(next >= last, `${next} < ${last}`).toBe(true);
      last = next;
    }
    // The stop's answer was read after the stop: a read from its bookmark shows the session stopped.
    const status = (await (await call(`/api/v1/sessions/${id}`, { headers: auth(last) })).json()) as Body;
    expect(status.status).toBe("stopped");
  });

  it("read-your-writes: a session opened from a write's bookmark sees the write", async () => {
    const { token, slug } = await newSite();
    const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
    const res = await post("/api/OC-TOMA/v1/permits/push", {
      ...seedPush(token),
      LicencePlate: "RYW1",
      startTime: wire(-60),
      endTime: wire(3600),
    });
    const session = openSession(env.DB, res.headers.get("x-d1-bookmark"));
    const hits = await checkPlates(session, { siteId, plates: ["RYW1"], now: Math.floor(T0 / 1000), graceSeconds: 0, limit: 10 });
    expect(hits).toHaveLength(1);
    expect((session.getBookmark() as string) >= (res.headers.get("x-d1-bookmark") as string)).toBe(true);
  });

  it("a bookmark that is not one is refused, after the credential", async () => {
    const { token } = await newSite();
    const headers = { authorization: `Bearer ${token}`, "x-d1-bookmark": "not-a-bookmark" };
    const res = await call("/api/v1/lookup?plate=ABC", { headers });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ErrorCode: 9033, field: "x-d1-bookmark" });
    expect((await call("/api/v1/lookup?plate=ABC", { headers: { "x-d1-bookmark": "not-a-bookmark" } })).status).toBe(401);
  });

  it("browsers may send and read the bookmark, and send X-ApiKey", async () => {
    const res = await call("/api/v1/lookup", {
      method: "OPTIONS",
      headers: {
        origin: "https://officer.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "x-d1-bookmark,x-apikey",
      },
    });
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-d1-bookmark");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-apikey");
    const { token } = await newSite();
    const get = await call("/api/v1/lookup?plate=ABC", {
      headers: { origin: "https://officer.example", authorization: `Bearer ${token}` },
    });
    expect(get.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-d1-bookmark");
  });
});
