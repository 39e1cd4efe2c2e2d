import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  accessToken,
  adminCall,
  bearer,
  call,
  consolePage,
  consoleSignIn,
  count,
  newClient,
  newSite,
  post,
  pushed,
  seedPush,
  sessionSite,
} from "./helpers";

// The sessions API as an aggregator (seed 003, ParkOnce) drives it: zones, start, status, list, extend, stop, rights;
// and sessions as the rest of the system sees them: temporary permits in lookups, stats, Pay Station Status, history.

type Body = Record<string, unknown>;
type Session = Body & { session_id: string; transactions: Body[] };

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const epoch = (t: unknown) => Date.parse(t as string) / 1000;

async function start(access: string, body: Body, headers: Record<string, string> = {}) {
  const res = await post("/api/v1/sessions", body, { ...bearer(access), ...headers });
  return { res, json: (await res.json()) as Session };
}

async function started(access: string, body: Body = {}): Promise<Session> {
  const { res, json } = await start(access, { zone_number: "104", license_plate: "ABC 123", duration: 60, ...body });
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

const written = async () => ({
  permits: await count("permits"),
  events: await count("permit_events"),
  keys: await count("idempotency_keys"),
});

/** A request that must fail with `code` naming `field`, writing nothing. */
async function refuses(request: () => Promise<Response>, status: number, code: number, field?: string) {
  const before = await written();
  const res = await request();
  const json = (await res.json()) as Body;
  expect(json, JSON.stringify(json)).toMatchObject({ status: "error", ErrorCode: code, ...(field ? { field } : {}) });
  expect(res.status).toBe(status);
  expect(await written()).toEqual(before);
  return json;
}

/** Moves a session's times back, as if it had started `minutes` earlier: the clock passing without waiting. */
async function age(id: string, minutes: number) {
  await env.DB.prepare("UPDATE permits SET start_at = start_at - ?1, end_at = end_at - ?1 WHERE id = ?2")
    .bind(minutes * 60, id)
    .run();
}

describe("GET /api/v1/zones", () => {
  it("lists the zones with number, rate, maximum, time zone, capacity and occupancy now", async () => {
    const s = await sessionSite();
    await pushed(s.token, { zone: "Lot 4", startTime: "2020-01-01T00:00:00", endTime: "2099-01-01T00:00:00" });
    await started(s.access);
    const res = await call("/api/v1/zones", { headers: bearer(s.access) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      zones: [
        {
          zone_number: "Lot 01",
          name: "Lot 01",
          rate_per_hour: null,
          currency: null,
          max_duration: 10080,
          time_zone: null,
          capacity: null,
          occupancy: 0,
        },
        {
          zone_number: "Lot 02",
          name: "Lot 02",
          rate_per_hour: null,
          currency: null,
          max_duration: 10080,
          time_zone: null,
          capacity: null,
          occupancy: 0,
        },
        {
          zone_number: "104",
          name: "Lot 4",
          rate_per_hour: "2.50",
          currency: "CAD",
          max_duration: 240,
          time_zone: "America/Toronto",
          capacity: 120,
          occupancy: 2,
        },
      ],
    });
  });

  it("shows an admin's change at once where it was made (the site's cache entry is dropped)", async () => {
    const s = await sessionSite();
    await call("/api/v1/zones", { headers: bearer(s.access) });
    await adminCall("PATCH", `/sites/${s.slug}/zones/Lot%2001`, { number: "101", ratePerHour: "3.00" });
    const zones = ((await (await call("/api/v1/zones", { headers: bearer(s.access) })).json()) as { zones: Body[] }).zones;
    expect(zones[0]).toMatchObject({ zone_number: "101", rate_per_hour: "3.00", currency: "CAD" });
  });
});

describe("a session's life: start, status, extend, stop", () => {
  it("starts now for `duration` minutes, priced at the zone's rate rounded up to the cent", async () => {
    const s = await sessionSite();
    const before = Math.floor(Date.now() / 1000);
    const { res, json } = await start(s.access, {
      zone_number: "104",
      license_plate: "abc-123",
      duration: 25,
      license_plate_state: "ON",
      space_number: "17",
      receipt_email: "driver@example.com",
    });
    expect(res.status).toBe(201);
    expect(json).toEqual({
      session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: "active",
      zone_number: "104",
      zone: "Lot 4",
      license_plate: "abc-123",
      license_plate_state: "ON",
      space_number: "17",
      start_time: expect.stringMatching(RFC3339),
      end_time: expect.stringMatching(RFC3339),
      duration: 25,
      // 25 minutes at 2.50 an hour is 1.0416…: rounded up.
      amount: "1.05",
      currency: "CAD",
      receipt_email: "driver@example.com",
      transactions: [{ type: "start", at: json.start_time, end_time: json.end_time, duration: 25, amount: "1.05" }],
    });
    expect(epoch(json.start_time)).toBeGreaterThanOrEqual(before);
    expect(epoch(json.end_time) - epoch(json.start_time)).toBe(25 * 60);
    // A temporary permit, its source the client's label, its owner the client.
    const row = await env.DB.prepare("SELECT * FROM permits WHERE id = ?").bind(json.session_id).first<Body>();
    expect(row).toMatchObject({
      type: "temp",
      source: "ParkOnce",
      owner: `oauth:${s.client.clientId}`,
      plate_norm: "ABC123",
      zone_name: "104",
      amount_cents: 105,
      plate_state: "ON",
      space_number: "17",
      receipt_email: "driver@example.com",
      stopped_at: null,
      version: 1,
    });
    expect(row?.lot_zone_id).toEqual(expect.any(Number));
  });

  it("reads its status, extends it, stops it, and keeps each step as a transaction", async () => {
    const s = await sessionSite();
    const session = await started(s.access, { duration: 30 });
    const id = session.session_id;
    const got = await call(`/api/v1/sessions/${id}`, { headers: bearer(s.access) });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(session);

    const extended = await post(`/api/v1/sessions/${id}/extend`, { duration: 30 }, bearer(s.access));
    expect(extended.status).toBe(200);
    const afterExtend = (await extended.json()) as Session;
    expect(epoch(afterExtend.end_time) - epoch(session.end_time)).toBe(30 * 60);
    expect(afterExtend).toMatchObject({ status: "active", duration: 60, amount: "2.50" });
    expect(afterExtend.transactions.at(-1)).toEqual({
      type: "extend",
      at: expect.stringMatching(RFC3339),
      end_time: afterExtend.end_time,
      duration: 30,
      amount: "1.25",
    });

    const stoppedAt = Math.floor(Date.now() / 1000);
    const stop = await post(`/api/v1/sessions/${id}/stop`, {}, bearer(s.access));
    expect(stop.status).toBe(200);
    const stopped = (await stop.json()) as Session;
    expect(stopped.status).toBe("stopped");
    expect(epoch(stopped.end_time)).toBeGreaterThanOrEqual(stoppedAt);
    expect(epoch(stopped.end_time)).toBeLessThan(epoch(afterExtend.end_time));
    expect(stopped.transactions.map((t) => t.type)).toEqual(["start", "extend", "stop"]);
    expect(stopped.transactions[2]).toMatchObject({ end_time: stopped.end_time, duration: null, amount: null });

    // Stopping again answers the same session and writes nothing.
    const before = await written();
    const again = await post(`/api/v1/sessions/${id}/stop`, {}, bearer(s.access));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(stopped);
    expect(await written()).toEqual(before);

    // A stopped session cannot be extended.
    const refused = await refuses(() => post(`/api/v1/sessions/${id}/extend`, { duration: 10 }, bearer(s.access)), 409, 9005, "id");
    expect(refused.ErrorMessage).toMatch(/was stopped/);
  });

  it("is expired once its end has passed: stop and extend are refused with 409 (9005)", async () => {
    const s = await sessionSite();
    const { session_id: id } = await started(s.access, { duration: 30 });
    await age(id, 31);
    expect(((await (await call(`/api/v1/sessions/${id}`, { headers: bearer(s.access) })).json()) as Body).status).toBe("expired");
    const stop = await refuses(() => post(`/api/v1/sessions/${id}/stop`, {}, bearer(s.access)), 409, 9005, "id");
    expect(stop.ErrorMessage).toMatch(/has expired/);
    await refuses(() => post(`/api/v1/sessions/${id}/extend`, { duration: 10 }, bearer(s.access)), 409, 9005, "id");
  });

  it("extends within the zone's maximum session, counted from the start", async () => {
    const s = await sessionSite();
    const { session_id: id } = await started(s.access, { duration: 200 });
    const tooLong = await refuses(() => post(`/api/v1/sessions/${id}/extend`, { duration: 41 }, bearer(s.access)), 400, 9033, "duration");
    expect(tooLong.ErrorMessage).toMatch(/240 minutes/);
    expect((await post(`/api/v1/sessions/${id}/extend`, { duration: 40 }, bearer(s.access))).status).toBe(200);
  });

  it("an extension's amount: what the client sent, in the session's currency; or the rate's price", async () => {
    const s = await sessionSite();
    const { session_id: id } = await started(s.access, { duration: 60, amount: "3.00" });
    const paid = (await (
      await post(`/api/v1/sessions/${id}/extend`, { duration: 15, amount: "0.99" }, bearer(s.access))
    ).json()) as Session;
    expect(paid).toMatchObject({ amount: "3.99", currency: "CAD" });
    expect(paid.transactions.at(-1)).toMatchObject({ type: "extend", amount: "0.99" });
    await refuses(
      () => post(`/api/v1/sessions/${id}/extend`, { duration: 15, amount: "1.00", currency: "USD" }, bearer(s.access)),
      400,
      9033,
      "currency",
    );
    await refuses(
      () => post(`/api/v1/sessions/${id}/extend`, { duration: 15, amount: "1.00", currency: "EUR" }, bearer(s.access)),
      400,
      9033,
      "currency",
    );
    const priced = (await (await post(`/api/v1/sessions/${id}/extend`, { duration: 12 }, bearer(s.access))).json()) as Session;
    expect(priced.amount).toBe("4.49");
  });

  it("a zone without a number is found by its name; a zone with one only by its number", async () => {
    const s = await sessionSite();
    expect(await started(s.access, { zone_number: "Lot 01" })).toMatchObject({
      zone_number: "Lot 01",
      zone: "Lot 01",
      amount: null,
      currency: null,
    });
    expect(await started(s.access, { zone_number: 104, license_plate: "NUM 1" })).toMatchObject({ zone_number: "104" });
    await refuses(
      () => post("/api/v1/sessions", { zone_number: "Lot 4", license_plate: "X1", duration: 5 }, bearer(s.access)),
      400,
      9033,
      "zone_number",
    );
  });

  it("a session of a numbered zone removed and added again joins it again, as it was found: by the number", async () => {
    const s = await sessionSite();
    const session = await started(s.access, { license_plate: "BACK 1" });
    const zone = (await (await adminCall("GET", `/sites/${s.slug}/zones`)).json()) as { zones: Body[] };
    const lot4 = zone.zones.find((z) => z.name === "Lot 4") as Body;
    expect(await (await adminCall("DELETE", `/sites/${s.slug}/zones/Lot%204`)).json()).toMatchObject({ disconnected: 1 });
    const { name: _, id: __, createdAt: ___, ...metadata } = lot4;
    const readded = (await (await adminCall("POST", `/sites/${s.slug}/zones`, { name: "Lot 4", ...metadata })).json()) as Body;
    expect(readded).toMatchObject({ number: "104", reconnected: 1 });
    expect(await started(s.access, { license_plate: "BACK 2" })).toMatchObject({ zone: "Lot 4" });
    const read = (await (await call(`/api/v1/sessions/${session.session_id}`, { headers: bearer(s.access) })).json()) as Body;
    expect(read).toMatchObject({ zone: "Lot 4", zone_number: "104" });
  });

  it("migration 0012 reconnects sessions left disconnected by a numbered zone removed and added again", async () => {
    const s = await sessionSite();
    const session = await started(s.access, { license_plate: "OLD 1" });
    const push = (await (await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(s.token), zone: "104" })).json()) as Body;
    // As the zone's records were left before adding a zone reconnected them by its number.
    await env.DB.prepare("UPDATE permits SET lot_zone_id = NULL WHERE id = ?").bind(session.session_id).run();
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0012_"));
    const backfill = migration?.queries.find((q) => q.includes("UPDATE `permits`"));
    await env.DB.prepare(backfill as string).run();
    const lotZoneOf = (id: unknown) =>
      env.DB.prepare("SELECT lot_zone_id AS id FROM permits WHERE id = ?").bind(id).first<{ id: number | null }>();
    expect((await lotZoneOf(session.session_id))?.id).toEqual(expect.any(Number));
    // A push named its zone by name: "104" is no zone's name, so it stays disconnected.
    expect(await lotZoneOf(push.reference_id)).toEqual({ id: null });
  });

  it("a zone change or add refused for its number reconnects nothing", async () => {
    const s = await sessionSite();
    const session = await started(s.access, { license_plate: "KEEP 1" });
    // A session disconnected while "Lot 4" still holds number 104 (as a zone removed mid-write can leave one).
    await env.DB.prepare("UPDATE permits SET lot_zone_id = NULL WHERE id = ?").bind(session.session_id).run();
    const lotZone = () =>
      env.DB.prepare("SELECT lot_zone_id AS id FROM permits WHERE id = ?").bind(session.session_id).first<{ id: number | null }>();
    expect((await adminCall("PATCH", `/sites/${s.slug}/zones/Lot%2001`, { number: "104" })).status).toBe(409);
    expect(await lotZone()).toEqual({ id: null });
    expect((await adminCall("POST", `/sites/${s.slug}/zones`, { name: "Lot 01", number: "104" })).status).toBe(409);
    expect((await adminCall("POST", `/sites/${s.slug}/zones`, { name: "Lot 02", number: "104" })).status).toBe(409);
    expect(await lotZone()).toEqual({ id: null });
  });

  it("an amount sent is kept as charged (the push's money rules), in the currency sent or the zone's", async () => {
    const s = await sessionSite();
    expect(await started(s.access, { amount: "5.00" })).toMatchObject({ amount: "5.00", currency: "CAD" });
    expect(await started(s.access, { amount: 7.5, currency: "usd", license_plate: "USD 1" })).toMatchObject({
      amount: "7.50",
      currency: "USD",
    });
  });

  it("works with an API token too (Authorization: Bearer or X-Api-Key), its label the source", async () => {
    const s = await sessionSite();
    const res = await adminCall("POST", `/sites/${s.slug}/tokens`, { scopes: ["sessions"], label: "Kiosk app" });
    const { token, id: tokenId } = (await res.json()) as { token: string; id: string };
    const viaKey = await post("/api/v1/sessions", { zone_number: "104", license_plate: "KEY 1", duration: 10 }, { "x-api-key": token });
    expect(viaKey.status).toBe(201);
    const { session_id } = (await viaKey.json()) as Session;
    expect(await env.DB.prepare("SELECT source, owner FROM permits WHERE id = ?").bind(session_id).first()).toEqual({
      source: "Kiosk app",
      owner: `token:${tokenId}`,
    });
    expect((await call(`/api/v1/sessions/${session_id}`, { headers: bearer(token) })).status).toBe(200);
  });
});

describe("starting a session: every bad input is refused, naming the field, writing nothing", () => {
  const good = { zone_number: "104", license_plate: "ABC 123", duration: 60 };
  const cases: [string, Body, number, number, string][] = [
    ["zone unknown", { zone_number: "999" }, 400, 9033, "zone_number"],
    ["zone missing", { zone_number: undefined }, 400, 9031, "zone_number"],
    ["zone blank", { zone_number: " " }, 400, 9032, "zone_number"],
    ["zone of the wrong type", { zone_number: true }, 400, 9033, "zone_number"],
    ["zone a negative number", { zone_number: -4 }, 400, 9032, "zone_number"],
    ["plate missing", { license_plate: undefined }, 400, 9031, "license_plate"],
    ["plate too long", { license_plate: "A".repeat(26) }, 400, 9030, "license_plate"],
    ["plate without letters or digits", { license_plate: "-- --" }, 400, 9033, "license_plate"],
    ["plate not a string", { license_plate: 123 }, 400, 9033, "license_plate"],
    ["duration missing", { duration: undefined }, 400, 9031, "duration"],
    ["duration not whole minutes", { duration: 1.5 }, 400, 9033, "duration"],
    ["duration a string", { duration: "60" }, 400, 9033, "duration"],
    ["duration zero", { duration: 0 }, 400, 9032, "duration"],
    ["duration negative", { duration: -5 }, 400, 9032, "duration"],
    ["duration past a week", { duration: 10081 }, 400, 9030, "duration"],
    ["duration past the zone's maximum", { duration: 241 }, 400, 9033, "duration"],
    ["plate state malformed", { license_plate_state: "O/N" }, 400, 9033, "license_plate_state"],
    ["plate state too long", { license_plate_state: "X".repeat(11) }, 400, 9030, "license_plate_state"],
    ["space number too long", { space_number: "9".repeat(21) }, 400, 9030, "space_number"],
    ["e-mail malformed", { receipt_email: "driver@example" }, 400, 9033, "receipt_email"],
    ["e-mail with a space", { receipt_email: "dri ver@example.com" }, 400, 9033, "receipt_email"],
    ["amount with one decimal", { amount: "14.5" }, 400, 9033, "amount"],
    ["amount zero", { amount: "0.00" }, 400, 9033, "amount"],
    ["amount too large", { amount: "1000000.00" }, 400, 9033, "amount"],
    ["currency the site does not take", { amount: "1.00", currency: "EUR" }, 400, 9033, "currency"],
    ["currency other than the rate's, without an amount", { currency: "USD" }, 400, 9033, "currency"],
  ];
  it.each(cases)("%s", async (_, change, status, code, field) => {
    const s = await sessionSite();
    await refuses(() => post("/api/v1/sessions", { ...good, ...change }, bearer(s.access)), status, code, field);
  });

  it("a body that is not JSON, not an object, of the wrong type or too large is 9003", async () => {
    const s = await sessionSite();
    const send = (body: BodyInit, type = "application/json") =>
      call("/api/v1/sessions", { method: "POST", headers: { ...bearer(s.access), "content-type": type }, body });
    await refuses(() => send("{not json"), 400, 9003);
    await refuses(() => send("[1]"), 400, 9003);
    await refuses(() => send(JSON.stringify(good), "text/plain"), 415, 9003);
    await refuses(() => send(JSON.stringify({ ...good, pad: "x".repeat(40_000) })), 413, 9003);
    await refuses(() => send(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), 400, 9003);
  });

  it("the credential is checked before the body", async () => {
    await refuses(() => post("/api/v1/sessions", { zone_number: "nope" }), 401, 9001, "Authorization");
    await refuses(() => post("/api/v1/sessions", "{not json", bearer("at-unknown")), 401, 9002, "Authorization");
  });

  it("needs the sessions scope", async () => {
    const s = await sessionSite();
    const lookupOnly = await accessToken(s.client, "lookup");
    const res = await post("/api/v1/sessions", good, bearer(lookupOnly));
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toMatch(/insufficient_scope/);
  });
});

describe("extending a session: every bad input is refused, naming the field, writing nothing", () => {
  const cases: [string, unknown, number, number, string][] = [
    ["duration missing", {}, 400, 9031, "duration"],
    ["duration not whole minutes", { duration: 2.5 }, 400, 9033, "duration"],
    ["duration zero", { duration: 0 }, 400, 9032, "duration"],
    ["duration a string", { duration: "5" }, 400, 9033, "duration"],
    ["amount malformed", { duration: 5, amount: "1.5" }, 400, 9033, "amount"],
    ["currency the site does not take", { duration: 5, amount: "1.00", currency: "EUR" }, 400, 9033, "currency"],
    ["a body that is not an object", [5], 400, 9003, ""],
  ];
  it.each(cases)("%s", async (_, body, status, code, field) => {
    const s = await sessionSite();
    const { session_id } = await started(s.access);
    await refuses(() => post(`/api/v1/sessions/${session_id}/extend`, body, bearer(s.access)), status, code, field || undefined);
  });
});

describe("one running session per plate, zone and client", () => {
  it("a second start of the plate (however spelled) in the zone is 409 9022 naming the running session", async () => {
    const s = await sessionSite();
    const first = await started(s.access);
    const conflict = await refuses(
      () => post("/api/v1/sessions", { zone_number: "104", license_plate: "abc-123", duration: 30 }, bearer(s.access)),
      409,
      9022,
      "license_plate",
    );
    expect(conflict.session_id).toBe(first.session_id);
    // Another zone, or another client, is another session.
    await started(s.access, { zone_number: "Lot 01" });
    const other = await accessToken(await newClient(s.slug, { label: "Other app" }));
    await started(other);
    // Once stopped, the plate may start again.
    await post(`/api/v1/sessions/${first.session_id}/stop`, {}, bearer(s.access));
    await started(s.access);
  });

  it("ten starts racing: one session, nine 409s naming it", async () => {
    const s = await sessionSite();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => start(s.access, { zone_number: "104", license_plate: "RACE 1", duration: 30 })),
    );
    const created = answers.filter((a) => a.res.status === 201);
    expect(created).toHaveLength(1);
    const id = created[0]?.json.session_id;
    for (const a of answers.filter((a) => a.res.status !== 201)) {
      expect(a.res.status).toBe(409);
      expect(a.json).toMatchObject({ ErrorCode: 9022, session_id: id });
    }
    expect(await count("permits", "owner = ? AND plate_norm = 'RACE1'", `oauth:${s.client.clientId}`)).toBe(1);
  });
});

describe("Idempotency-Key on starts", () => {
  it("the same key and request answer the same session, replayed; another request under it is 9022", async () => {
    const s = await sessionSite();
    const body = { zone_number: "104", license_plate: "IDEM 1", duration: 30 };
    const first = await start(s.access, body, { "idempotency-key": "po-123" });
    expect(first.res.status).toBe(201);
    expect(first.res.headers.get("idempotent-replayed")).toBeNull();
    const before = await written();
    const replay = await start(s.access, body, { "idempotency-key": "po-123" });
    expect(replay.res.status).toBe(201);
    expect(replay.res.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toEqual(first.json);
    expect(await written()).toEqual(before);
    await refuses(
      () => post("/api/v1/sessions", { ...body, duration: 31 }, { ...bearer(s.access), "idempotency-key": "po-123" }),
      409,
      9022,
      "Idempotency-Key",
    );
    await refuses(
      () => post("/api/v1/sessions", body, { ...bearer(s.access), "idempotency-key": "bad key" }),
      400,
      9033,
      "Idempotency-Key",
    );
  });

  it("keys are each client's own", async () => {
    const s = await sessionSite();
    const other = await accessToken(await newClient(s.slug, { label: "Other app" }));
    const body = { zone_number: "104", license_plate: "IDEM 2", duration: 30 };
    const a = await start(s.access, body, { "idempotency-key": "shared" });
    const b = await start(other, body, { "idempotency-key": "shared" });
    expect([a.res.status, b.res.status]).toEqual([201, 201]);
    expect(a.json.session_id).not.toBe(b.json.session_id);
  });

  it("a key refused for a running session is not spent: the retry starts once that one stopped", async () => {
    const s = await sessionSite();
    const running = await started(s.access, { license_plate: "IDEM 3" });
    const body = { zone_number: "104", license_plate: "IDEM 3", duration: 30 };
    expect((await start(s.access, body, { "idempotency-key": "k-3" })).res.status).toBe(409);
    await post(`/api/v1/sessions/${running.session_id}/stop`, {}, bearer(s.access));
    const retry = await start(s.access, body, { "idempotency-key": "k-3" });
    expect(retry.res.status).toBe(201);
    expect(retry.res.headers.get("idempotent-replayed")).toBeNull();
  });
});

describe("stop and extend of one session go through its Durable Object", () => {
  it("20 extensions racing a stop: applied one by one, none after the stop, each in the history", async () => {
    const s = await sessionSite();
    const { session_id: id } = await started(s.access, { duration: 10 });
    const calls = Array.from({ length: 21 }, (_, i) =>
      i === 10
        ? post(`/api/v1/sessions/${id}/stop`, {}, bearer(s.access))
        : post(`/api/v1/sessions/${id}/extend`, { duration: 5 }, bearer(s.access)),
    );
    const answers = await Promise.all(calls.map(async (p) => ({ status: (await p).status, json: (await (await p).json()) as Session })));
    const stop = answers[10];
    expect(stop?.status).toBe(200);
    const extensions = answers.filter((_, i) => i !== 10);
    expect(extensions.every((a) => a.status === 200 || (a.status === 409 && a.json.ErrorCode === 9005))).toBe(true);
    const applied = extensions.filter((a) => a.status === 200).length;

    const events = (
      await env.DB.prepare("SELECT version, changes FROM permit_events WHERE permit_id = ? ORDER BY version")
        .bind(id)
        .all<{ version: number; changes: string }>()
    ).results;
    // Versions are contiguous; the stop is the last change; every applied extension is one event before it.
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    const kinds = events.slice(1).map((e) => ("stoppedAt" in JSON.parse(e.changes) ? "stop" : "extend"));
    expect(kinds.filter((k) => k === "stop")).toHaveLength(1);
    expect(kinds.at(-1)).toBe("stop");
    expect(kinds.filter((k) => k === "extend")).toHaveLength(applied);
    // Each extension moved the end 5 minutes from where the one before left it.
    const ends = events.map((e) => JSON.parse(e.changes).endAt as [number | null, number]);
    for (let i = 1; i <= applied; i++) expect((ends[i]?.[1] as number) - (ends[i]?.[0] as number)).toBe(300);
    const session = (await (await call(`/api/v1/sessions/${id}`, { headers: bearer(s.access) })).json()) as Session;
    expect(session.status).toBe("stopped");
    expect(session.transactions.map((t) => t.type)).toEqual(["start", ...Array(applied).fill("extend"), "stop"]);
    const row = await env.DB.prepare("SELECT amount_cents, version FROM permits WHERE id = ?")
      .bind(id)
      .first<{ amount_cents: number; version: number }>();
    expect(row?.version).toBe(events.length);
    // 10 minutes at 2.50 is 0.42 (rounded up); each 5-minute extension adds 0.21.
    expect(row?.amount_cents).toBe(42 + applied * 21);
  });
});

describe("whose session: another site's, another client's, or none is 404 (9009)", () => {
  it("for status, stop and extend, writing nothing", async () => {
    const s = await sessionSite();
    const mine = await started(s.access);
    const elsewhere = await sessionSite();
    const sameSiteOther = await accessToken(await newClient(s.slug, { label: "Other app" }));
    const pushRef = await pushed(s.token);
    for (const [access, id] of [
      [elsewhere.access, mine.session_id],
      [sameSiteOther, mine.session_id],
      [s.access, "1a9b5375-cb75-4c71-9939-eeae550b09ac"],
      [s.access, pushRef],
    ] as const) {
      await refuses(() => call(`/api/v1/sessions/${id}`, { headers: bearer(access) }), 404, 9009, "id");
      await refuses(() => post(`/api/v1/sessions/${id}/stop`, {}, bearer(access)), 404, 9009, "id");
      await refuses(() => post(`/api/v1/sessions/${id}/extend`, { duration: 5 }, bearer(access)), 404, 9009, "id");
    }
    await refuses(() => call(`/api/v1/sessions/${"x".repeat(51)}`, { headers: bearer(s.access) }), 400, 9030, "id");
  });

  it("a session deleted through OC-TOMA is gone", async () => {
    const s = await sessionSite();
    const { session_id } = await started(s.access);
    expect((await post("/api/OC-TOMA/v1/permits/delete", { apiToken: s.token, referenceID: session_id })).status).toBe(200);
    await refuses(() => call(`/api/v1/sessions/${session_id}`, { headers: bearer(s.access) }), 404, 9009);
  });
});

describe("GET /api/v1/sessions: the client's sessions, newest first", () => {
  it("pages with a cursor and filters by plate, status and start", async () => {
    const s = await sessionSite();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { session_id } = await started(s.access, { license_plate: `LIST ${i}` });
      await age(session_id, (5 - i) * 10); // LIST 0 started 50 minutes ago, LIST 4 10 minutes ago
      ids.push(session_id);
    }
    await post(`/api/v1/sessions/${ids[3]}/stop`, {}, bearer(s.access));
    await age(ids[0] as string, 60); // ended: expired
    // Another client's session is never listed.
    await started(await accessToken(await newClient(s.slug, { label: "Other" })), { license_plate: "LIST 9" });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`/api/v1/sessions?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { headers: bearer(s.access) });
      const page = (await res.json()) as { sessions: Session[]; next_cursor: string | null };
      expect(res.status).toBe(200);
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      for (const x of page.sessions) expect(x).not.toHaveProperty("transactions");
      seen.push(...page.sessions.map((x) => x.session_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    // A cursor that is not one a page gave: refused, naming it.
    for (const bad of ["x", btoa("12.not a session"), btoa("a.b")]) {
      const json = await refuses(
        () => call(`/api/v1/sessions?cursor=${encodeURIComponent(bad)}`, { headers: bearer(s.access) }),
        400,
        9033,
        "cursor",
      );
      expect(json.ErrorMessage).toBe("cursor must be the next_cursor of a previous page.");
    }

    const list = async (q: string) =>
      ((await (await call(`/api/v1/sessions?${q}`, { headers: bearer(s.access) })).json()) as { sessions: Session[] }).sessions.map(
        (x) => x.session_id,
      );
    expect(await list("status=stopped")).toEqual([ids[3]]);
    expect(await list("status=expired")).toEqual([ids[0]]);
    expect(await list("status=active")).toEqual([ids[4], ids[2], ids[1]]);
    expect(await list("license_plate=list-2")).toEqual([ids[2]]);
    const since = new Date(Date.now() - 25 * 60_000).toISOString().replace(/\.\d+Z$/, "+00:00");
    expect(await list(`since=${encodeURIComponent(since)}`)).toEqual([ids[4], ids[3]]);
  });

  it("refuses a bad filter or cursor", async () => {
    const s = await sessionSite();
    const bad = async (q: string, code: number, field: string) => {
      const res = await call(`/api/v1/sessions?${q}`, { headers: bearer(s.access) });
      expect(res.status, q).toBe(400);
      expect(await res.json()).toMatchObject({ ErrorCode: code, field });
    };
    await bad("status=paused", 9033, "status");
    await bad("since=2026-11-22T10:00:00", 9033, "since");
    await bad("since=2026-02-30T10:00:00Z", 9033, "since");
    await bad("cursor=nonsense", 9033, "cursor");
    await bad("limit=0", 9032, "limit");
    await bad("limit=101", 9030, "limit");
    await bad("license_plate=***", 9033, "license_plate");
  });
});

describe("GET /api/v1/rights: every right a plate holds now, whatever its source", () => {
  it("sessions, pushes and standard permits, matched normalized, optionally in one zone", async () => {
    const s = await sessionSite();
    const session = await started(s.access, {
      license_plate: "RIGHT 1",
      license_plate_state: "ON",
      space_number: "7",
      receipt_email: "d@example.com",
    });
    const push = await pushed(s.token, {
      LicencePlate: "right-1",
      zone: "Lot 01",
      permitNo: "R-1",
      startTime: "2020-01-01T00:00:00",
      endTime: "2099-01-01T00:00:00",
    });
    const std = await adminCall("POST", `/sites/${s.slug}/permits`, {
      permits: [{ plate: "Right1", zone: "Lot 4", startTime: "2020-01-01T00:00:00", endTime: "2099-01-01T00:00:00" }],
    });
    const standard = ((await std.json()) as { references: string[] }).references[0];
    // Not a right: a push that expired long ago. A session stopped a moment ago is shown within the grace period, flagged.
    await pushed(s.token, { LicencePlate: "RIGHT1", permitNo: "R-old", startTime: "2020-01-01T00:00:00", endTime: "2020-01-02T00:00:00" });
    const other = await started(s.access, { license_plate: "RIGHT 1", zone_number: "Lot 02" });
    await post(`/api/v1/sessions/${other.session_id}/stop`, {}, bearer(s.access));

    const res = await call("/api/v1/rights?license_plate=right%201", { headers: bearer(s.access) });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { rights: Body[] } & Body;
    expect(json).toMatchObject({
      license_plate: "right 1",
      normalized: "RIGHT1",
      zone_number: null,
      active: true,
      within_grace: false,
      grace_minutes: 15,
      checked_at: expect.stringMatching(RFC3339),
    });
    expect(new Set(json.rights.map((r) => r.right_id))).toEqual(new Set([session.session_id, push, standard, other.session_id]));
    expect(json.rights.find((r) => r.right_id === other.session_id)).toMatchObject({ kind: "session", expired_within_grace: true });
    expect(json.rights.find((r) => r.right_id === session.session_id)).toEqual({
      right_id: session.session_id,
      kind: "session",
      type: "temp",
      source: "ParkOnce",
      zone_number: "104",
      zone: "Lot 4",
      license_plate: "RIGHT 1",
      license_plate_state: "ON",
      space_number: "7",
      start_time: session.start_time,
      end_time: session.end_time,
      expired_within_grace: false,
    });
    expect(json.rights.find((r) => r.right_id === push)).toMatchObject({ kind: "permit", source: "push", zone_number: "Lot 01" });
    expect(json.rights.find((r) => r.right_id === standard)).toMatchObject({ kind: "permit", type: "standard", source: "admin" });
    expect(JSON.stringify(json)).not.toContain("d@example.com");

    const inZone = (await (await call("/api/v1/rights?license_plate=RIGHT1&zone_number=104", { headers: bearer(s.access) })).json()) as {
      rights: Body[];
    } & Body;
    expect(inZone.zone_number).toBe("104");
    expect(new Set(inZone.rights.map((r) => r.right_id))).toEqual(new Set([session.session_id, standard]));
  });

  it("refuses an unknown zone, a bad plate, and a credential without the lookup scope", async () => {
    const s = await sessionSite();
    const bad = async (q: string, code: number, field: string) => {
      const res = await call(`/api/v1/rights?${q}`, { headers: bearer(s.access) });
      expect(res.status, q).toBe(400);
      expect(await res.json()).toMatchObject({ ErrorCode: code, field });
    };
    await bad("license_plate=ABC1&zone_number=nope", 9033, "zone_number");
    await bad("license_plate=***", 9033, "license_plate");
    await bad("license_plate=", 9032, "license_plate");
    await bad("zone_number=104", 9031, "license_plate");
    await bad(`license_plate=${"A".repeat(26)}`, 9030, "license_plate");
    const sessionsOnly = await accessToken(s.client, "sessions");
    const res = await call("/api/v1/rights?license_plate=ABC1", { headers: bearer(sessionsOnly) });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toMatch(/error="insufficient_scope".*scope="lookup"/);
  });
});

describe("everyone else sees a session as a temporary permit", () => {
  it("the plate lookup, stats, Pay Station Status and the permit history; never the receipt e-mail", async () => {
    const s = await sessionSite();
    const session = await started(s.access, { license_plate: "SEEN 1", receipt_email: "private@example.com", space_number: "12" });
    const id = session.session_id;

    const lookup = (await (await call("/api/v1/lookup?plate=seen1", { headers: bearer(s.token) })).json()) as { permits: Body[] };
    expect(lookup.permits).toEqual([expect.objectContaining({ reference_id: id, type: "temp", source: "ParkOnce", zone: "Lot 4" })]);

    const stats = (await (await post("/api/OC-TOMA/v1/permits/stats", { apiToken: s.token, zones: "Lot 4" })).json()) as { data: Body[] };
    expect(stats.data).toContainEqual({ type: "temp", zone: "Lot 4", total: "1" });

    const search = (await (await adminCall("GET", `/sites/${s.slug}/permits?source=ParkOnce`)).json()) as { permits: Body[] };
    expect(search.permits).toEqual([expect.objectContaining({ reference_id: id, source: "ParkOnce", plate: "SEEN 1" })]);

    await post(`/api/v1/sessions/${id}/extend`, { duration: 10 }, bearer(s.access));
    await post(`/api/v1/sessions/${id}/stop`, {}, bearer(s.access));
    const permit = (await (await adminCall("GET", `/permits/${id}`)).json()) as { history: Body[] } & Body;
    expect(permit).toMatchObject({ source: "ParkOnce", spaceNumber: "12", stoppedAt: expect.any(String) });
    expect(permit.history.map((h) => [h.action, h.actor])).toEqual([
      ["create", `oauth:${s.client.clientId}`],
      ["update", `oauth:${s.client.clientId}`],
      ["update", `oauth:${s.client.clientId}`],
    ]);

    for (const seen of [lookup, stats, search, permit]) expect(JSON.stringify(seen)).not.toContain("private@example.com");
    const history = await env.DB.prepare("SELECT changes FROM permit_events WHERE permit_id = ?").bind(id).all();
    expect(JSON.stringify(history.results)).not.toContain("private@example.com");
    // Another client of the site lists none of it.
    const other = await accessToken(await newClient(s.slug, { label: "Other" }));
    const theirs = await (await call("/api/v1/sessions", { headers: bearer(other) })).text();
    expect(theirs).not.toContain("private@example.com");
    expect(theirs).not.toContain(id);
  });

  it("the console's Pay Station Status offers the client's label as a source", async () => {
    const s = await sessionSite();
    await started(s.access);
    const { session } = await consoleSignIn();
    const html = await (await consolePage(`/admin/sites/${s.slug}/paystation?source=ParkOnce`, session)).text();
    expect(html).toContain('<option value="ParkOnce" selected="">ParkOnce</option>');
    expect(html).toMatch(/<td[^>]*>ParkOnce<\/td>/);
  });
});

describe("a new site without zone metadata", () => {
  it("still runs sessions: no rate means no amount unless one is sent", async () => {
    const site = await newSite({ scopes: ["sessions"] });
    const access = await accessToken(await newClient(site.slug, { scopes: ["sessions"] }));
    expect(await started(access, { zone_number: "Lot 4" })).toMatchObject({ amount: null, currency: null, zone_number: "Lot 4" });
    expect(await started(access, { zone_number: "Lot 02", amount: "2.00" })).toMatchObject({ amount: "2.00", currency: "CAD" });
  });
});
