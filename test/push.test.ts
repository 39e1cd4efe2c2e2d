import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../src/auth/secrets";
import { cacheKeys, clearMemo } from "../src/cache";
import { adminCall, call, count, eventually, newSite, post, seedPush } from "./helpers";

const PUSH = "/api/OC-TOMA/v1/permits/push";

type Body = Record<string, unknown>;

async function pushOk(body: unknown, headers: Record<string, string> = {}) {
  const res = await post(PUSH, body, headers);
  const json = (await res.json()) as Body;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return { res, json, reference: json.reference_id as string };
}

async function stored(reference: string) {
  return env.DB.prepare("SELECT * FROM permits WHERE id = ?").bind(reference).first<Record<string, unknown>>();
}

/** Sends a bad push and proves the error's code, status and field, and that nothing was written. */
async function expectError(body: unknown, code: number, status: number, field?: string, headers: Record<string, string> = {}) {
  const before = { permits: await count("permits"), events: await count("permit_events"), keys: await count("idempotency_keys") };
  const res = await post(PUSH, body, headers);
  const json = (await res.json()) as Body;
  expect(json, JSON.stringify(json)).toMatchObject({ status: "error", ErrorCode: code });
  expect(res.status).toBe(status);
  if (field !== undefined) expect(json.field).toBe(field);
  expect(typeof json.ErrorMessage).toBe("string");
  expect({ permits: await count("permits"), events: await count("permit_events"), keys: await count("idempotency_keys") }).toEqual(before);
  return json;
}

describe("push: the seeds' examples, verbatim", () => {
  it("seed 001 (with promoCode) answers the seed's success body and stores every value", async () => {
    const { token } = await newSite();
    const { json, reference } = await pushOk(seedPush(token));
    expect(json).toEqual({ status: "success", reference_id: reference, InternalReferenceID: reference, disconnected: false });
    expect(reference).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await stored(reference)).toMatchObject({
      type: "temp",
      source: "push",
      plate: "PL8RDR",
      plate_norm: "PL8RDR",
      zone_name: "Lot 4",
      amount_cents: 1450,
      currency: "CAD",
      start_at: Date.UTC(2018, 6, 2, 9) / 1000,
      end_at: Date.UTC(2018, 6, 2, 9, 30) / 1000,
      permit_no: "L4-1138",
      promo_code: "DISCOUNT20",
      version: 1,
      deleted_at: null,
    });
    expect((await stored(reference))?.lot_zone_id).toEqual(expect.any(Number));
    const event = await env.DB.prepare("SELECT * FROM permit_events WHERE permit_id = ?").bind(reference).first<Body>();
    expect(event).toMatchObject({ version: 1, action: "create" });
    expect(JSON.parse(event?.changes as string)).toMatchObject({ plate: [null, "PL8RDR"], amountCents: [null, 1450] });
  });

  it("seed 004 (the older .com page, no promoCode) is accepted as is", async () => {
    const { token } = await newSite();
    const { promoCode: _, ...body } = seedPush(token);
    const { reference } = await pushOk(body);
    expect(await stored(reference)).toMatchObject({ promo_code: null, permit_no: "L4-1138" });
  });
});

describe("push: every name of every attribute", () => {
  const base = (token: string): Body => ({
    apiToken: token,
    plate: "ABC123",
    startTime: "2026-03-02T09:00:00",
    endTime: "2026-03-02T11:00:00",
  });

  it.each([
    ["plate", "ab-c 12", "plate", "ab-c 12"],
    ["LicencePlate", "XYZ789", "plate", "XYZ789"],
    ["LicensePlate", "XYZ790", "plate", "XYZ790"],
    ["Amount", "6.50", "amount_cents", 650],
    ["amount", "0.01", "amount_cents", 1],
    ["CurrencyID", "USD", "currency", "USD"],
    ["currency", "USD", "currency", "USD"],
    ["permitNo", "P-1", "permit_no", "P-1"],
    ["TicketNumber", "T-1", "ticket_number", "T-1"],
    ["zone", "Lot 01", "zone_name", "Lot 01"],
    ["ParkingZoneName", "Lot 02", "zone_name", "Lot 02"],
    ["promoCode", "HOTSPOT-7", "promo_code", "HOTSPOT-7"],
  ])("%s is read", async (name, value, column, expected) => {
    const { token } = await newSite();
    const body = base(token);
    if (name === "plate" || name === "LicencePlate" || name === "LicensePlate") delete body.plate;
    const { reference } = await pushOk({ ...body, [name]: value });
    expect((await stored(reference))?.[column]).toBe(expected);
  });

  it.each([
    ["startTime", "StartDateUtc", "start_at"],
    ["endTime", "EndDateUtc", "end_at"],
  ])("%s and %s are one attribute", async (first, second, column) => {
    const { token } = await newSite();
    const body = base(token);
    const value = first === "startTime" ? "2026-03-02T08:00:00" : "2026-03-02T12:00:00";
    delete body[first];
    const { reference } = await pushOk({ ...body, [second]: value });
    expect((await stored(reference))?.[column]).toBe(Date.parse(`${value}Z`) / 1000);
  });

  it("normalizes plates for matching and keeps the raw value", async () => {
    const { token } = await newSite();
    const { reference } = await pushOk({ ...base(token), plate: " ab-c 123 " });
    expect(await stored(reference)).toMatchObject({ plate: " ab-c 123 ", plate_norm: "ABC123" });
  });

  it("ignores unknown fields", async () => {
    const { token } = await newSite();
    await pushOk({ ...base(token), vendor: "Flowbird", meta: { a: [1, 2] }, extra: null });
  });

  it("accepts aliases that agree, including an amount written two ways", async () => {
    const { token } = await newSite();
    const { reference } = await pushOk({ ...base(token), LicencePlate: "ABC123", Amount: "14.50", amount: 14.5 });
    expect((await stored(reference))?.amount_cents).toBe(1450);
  });

  it("treats null and blank strings as absent", async () => {
    const { token } = await newSite();
    const { reference } = await pushOk({ ...base(token), zone: "", promoCode: null, permitNo: "   " });
    expect(await stored(reference)).toMatchObject({ zone_name: null, promo_code: null, permit_no: null });
  });

  it("defaults the currency to the site's first when only an amount is sent; accepts a Z suffix", async () => {
    const { token } = await newSite({ currencies: ["USD", "CAD"] });
    const { reference } = await pushOk({ ...base(token), amount: 3, startTime: "2026-03-02T09:00:00Z" });
    expect(await stored(reference)).toMatchObject({ amount_cents: 300, currency: "USD", start_at: Date.UTC(2026, 2, 2, 9) / 1000 });
  });
});

describe("push: limits and their OPS-COM codes", () => {
  const ok = (token: string): Body => ({ ...seedPush(token) });

  it("a zone that names no lot zone still stores the record, flagged disconnected", async () => {
    const { token } = await newSite();
    const { json, reference } = await pushOk({ ...ok(token), zone: "Lot 99" });
    expect(json.disconnected).toBe(true);
    expect(await stored(reference)).toMatchObject({ zone_name: "Lot 99", lot_zone_id: null });
  });

  it.each([
    ["plate", "A".repeat(25), 200],
    ["permitNo", "P".repeat(50), 200],
    ["TicketNumber", "T".repeat(50), 200],
    ["zone", "Z".repeat(200), 200],
    ["promoCode", "C".repeat(50), 200],
    ["Amount", "999999.99", 200],
    ["Amount", "0.01", 200],
  ])("%s at its limit is accepted", async (field, value) => {
    const { token } = await newSite();
    const body = ok(token);
    delete body.LicencePlate;
    body.plate = "PL8RDR";
    await pushOk({ ...body, [field]: value });
  });

  it.each([
    ["plate", "A".repeat(26)],
    ["LicencePlate", "A".repeat(26)],
    ["permitNo", "P".repeat(51)],
    ["TicketNumber", "T".repeat(51)],
    ["zone", "Z".repeat(201)],
    ["ParkingZoneName", "Z".repeat(201)],
    ["promoCode", "C".repeat(51)],
    ["CurrencyID", "C".repeat(11)],
    ["Amount", "1000000.00"],
  ])("%s past its limit is 9030", async (field, value) => {
    const { token } = await newSite();
    const body = ok(token);
    delete body.LicencePlate;
    await expectError({ plate: "PL8RDR", ...body, [field]: value }, 9030, 400, field);
  });

  it("counts characters, not bytes: 25 accented letters are a valid plate", async () => {
    const { token } = await newSite();
    await pushOk({ ...ok(token), LicencePlate: "É".repeat(25) });
  });

  it.each([["14.5"], ["14"], [".50"], ["0.00"], ["-1.00"], ["1e3"], ["14,50"], [14.555], [0], [1_000_000], [true], [{}]])(
    "Amount %j is 9033",
    async (amount) => {
      const { token } = await newSite();
      await expectError({ ...ok(token), Amount: amount }, 9033, 400, "Amount");
    },
  );

  it("a currency the site does not accept is 9033", async () => {
    const { token } = await newSite();
    const json = await expectError({ ...ok(token), CurrencyID: "EUR" }, 9033, 400, "CurrencyID");
    expect(json.ErrorMessage).toContain("CAD, USD");
  });

  it("two aliases that disagree are 9033, naming the later one in the seed's list", async () => {
    const { token } = await newSite();
    await expectError({ ...ok(token), plate: "OTHER1" }, 9033, 400, "LicencePlate");
    await expectError({ ...ok(token), amount: "14.51" }, 9033, 400, "amount");
    await expectError({ ...ok(token), EndDateUtc: "2018-07-02T10:00:00" }, 9033, 400, "EndDateUtc");
    await expectError({ ...ok(token), ParkingZoneName: "Lot 01" }, 9033, 400, "ParkingZoneName");
  });

  it("missing plate is 9006, missing start 9031, missing end 9004", async () => {
    const { token } = await newSite();
    const { LicencePlate: _p, ...noPlate } = ok(token);
    await expectError(noPlate, 9006, 400, "plate");
    await expectError({ ...ok(token), LicencePlate: null }, 9006, 400, "plate");
    const { startTime: _s, ...noStart } = ok(token);
    await expectError(noStart, 9031, 400, "startTime");
    const { endTime: _e, ...noEnd } = ok(token);
    await expectError(noEnd, 9004, 400, "endTime");
  });

  it.each([
    ["2026-02-30T10:00:00"],
    ["2026-13-01T10:00:00"],
    ["2026-03-02T24:00:00"],
    ["2026-03-02T10:60:00"],
    ["2026-03-02 10:00:00"],
    ["2026-03-02T10:00"],
    ["2026-03-02T10:00:00.000Z"],
    ["2026-03-02T10:00:00+02:00"],
    ["02/03/2026"],
    [1772445600],
  ])("start %j is 9007 and the same end is 9005", async (value) => {
    const { token } = await newSite();
    await expectError({ ...ok(token), startTime: value }, 9007, 400, "startTime");
    await expectError({ ...ok(token), endTime: value }, 9005, 400, "endTime");
  });

  it("an end not after the start is 9005", async () => {
    const { token } = await newSite();
    await expectError({ ...ok(token), endTime: "2018-07-02T09:00:00" }, 9005, 400, "endTime");
    await expectError({ ...ok(token), endTime: "2018-07-02T08:00:00" }, 9005, 400, "endTime");
    await expectError({ ...ok(token), startTime: undefined, StartDateUtc: "2018-07-02T10:00:00" }, 9005, 400, "endTime");
  });

  it.each([
    ["LicencePlate", 12345],
    ["LicencePlate", "***"],
    ["LicencePlate", ["PL8RDR"]],
    ["zone", { name: "Lot 4" }],
    ["permitNo", 1138],
    ["promoCode", false],
  ])("%s of the wrong type or shape (%j) is 9033", async (field, value) => {
    const { token } = await newSite();
    const json = await expectError({ ...ok(token), [field]: value }, 9033, 400, field);
    expect(json.ErrorMessage).toContain(field);
  });
});

describe("push: authentication", () => {
  it("no apiToken is 9001 (401)", async () => {
    const { token } = await newSite();
    const { apiToken: _, ...body } = seedPush(token);
    await expectError(body, 9001, 401, "apiToken");
  });

  it("authenticates before validating: a bad body with no token still says 9001", async () => {
    await expectError({ LicencePlate: "A".repeat(99) }, 9001, 401, "apiToken");
  });

  it.each([["pe-unknown-token-0000000000000000000000000"], ["not a token!"], [42]])("token %j is 9002 (401)", async (apiToken) => {
    await newSite();
    await expectError({ ...seedPush("x"), apiToken }, 9002, 401, "apiToken");
  });

  it("a token longer than 50 characters is 9030", async () => {
    await expectError({ ...seedPush("x"), apiToken: "a".repeat(51) }, 9030, 400, "apiToken");
  });

  it("a token without the push scope is 9002 (403)", async () => {
    const { token } = await newSite({ scopes: ["stats", "lookup"] });
    await expectError(seedPush(token), 9002, 403, "apiToken");
  });

  it("a revoked token is refused at once, and a rotated token's old secret too", async () => {
    const { token, tokenId } = await newSite();
    await pushOk(seedPush(token)); // warms the caches
    expect(await env.CACHE.get(await kvTokenKey(token))).not.toBeNull();
    expect((await adminCall("DELETE", `/tokens/${tokenId}`)).status).toBe(200);
    expect(await env.CACHE.get(await kvTokenKey(token))).toBeNull();
    await expectError({ ...seedPush(token), permitNo: "after-revoke" }, 9002, 401, "apiToken");

    const other = await newSite();
    await pushOk(seedPush(other.token));
    const rotated = (await (await adminCall("POST", `/tokens/${other.tokenId}/rotate`)).json()) as { token: string };
    await expectError({ ...seedPush(other.token), permitNo: "old-secret" }, 9002, 401, "apiToken");
    await pushOk({ ...seedPush(rotated.token), permitNo: "new-secret" });
  });

  it("records when a token was last used", async () => {
    const { token, tokenId } = await newSite();
    await pushOk(seedPush(token));
    const row = await eventually(
      () => env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE id = ?").bind(tokenId).first<{ last_used_at: number | null }>(),
      (r) => r?.last_used_at != null,
    );
    expect(row?.last_used_at).toBeGreaterThan(Date.now() / 1000 - 60);
  });
});

async function kvTokenKey(token: string) {
  return cacheKeys.token(await sha256Hex(token));
}

describe("push: bodies that cannot be parsed are 9003", () => {
  it("not JSON (400), not an object (400)", async () => {
    await expectError("{not json", 9003, 400);
    await expectError("", 9003, 400);
    await expectError([seedPush("x")], 9003, 400);
    await expectError("null", 9003, 400);
    await expectError('"string"', 9003, 400);
  });

  it("the wrong Content-Type is 415", async () => {
    const { token } = await newSite();
    const before = await count("permits");
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const res = await call(PUSH, { method: "POST", headers: { "content-type": type }, body: JSON.stringify(seedPush(token)) });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ ErrorCode: 9003 });
    }
    const res = await call(PUSH, { method: "POST", body: JSON.stringify(seedPush(token)) });
    expect(res.status).toBe(415);
    expect(await count("permits")).toBe(before);
  });

  it("accepts application/json with a charset", async () => {
    const { token } = await newSite();
    const res = await call(PUSH, {
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: JSON.stringify(seedPush(token)),
    });
    expect(res.status).toBe(200);
  });

  it("a 10 MB body is 413, sent whole or streamed without a length", async () => {
    const { token } = await newSite();
    const big = JSON.stringify({ ...seedPush(token), padding: "x".repeat(10 * 1024 * 1024) });
    await expectError(big, 9003, 413);
    const before = await count("permits");
    const stream = new Blob([big]).stream();
    const res = await call(PUSH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ ErrorCode: 9003 });
    expect(await count("permits")).toBe(before);
  });
});

describe("push: retries are safe", () => {
  it("an Idempotency-Key replays the first answer for the same request", async () => {
    const { token } = await newSite();
    const first = await pushOk(seedPush(token), { "idempotency-key": "k-1" });
    expect(first.res.headers.get("idempotent-replayed")).toBeNull();
    const again = await pushOk(seedPush(token), { "idempotency-key": "k-1" });
    expect(again.json).toEqual(first.json);
    expect(again.res.headers.get("idempotent-replayed")).toBe("true");
    expect(await count("permits", "id = ?", first.reference)).toBe(1);
  });

  it("the same key with another request is 9022 (409) and writes nothing", async () => {
    const { token } = await newSite();
    await pushOk(seedPush(token), { "idempotency-key": "k-2" });
    await expectError({ ...seedPush(token), endTime: "2018-07-02T10:00:00" }, 9022, 409, "Idempotency-Key", { "idempotency-key": "k-2" });
  });

  it("keys are per site: two sites may use the same key", async () => {
    const a = await newSite();
    const b = await newSite();
    const ra = await pushOk(seedPush(a.token), { "idempotency-key": "shared" });
    const rb = await pushOk(seedPush(b.token), { "idempotency-key": "shared" });
    expect(ra.reference).not.toBe(rb.reference);
  });

  it("a malformed Idempotency-Key is 9033", async () => {
    const { token } = await newSite();
    await expectError(seedPush(token), 9033, 400, "Idempotency-Key", { "idempotency-key": "x".repeat(256) });
  });

  it("a retry storm of one push (25 at once, same key) stores one permit", async () => {
    const { token } = await newSite();
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => pushOk({ ...seedPush(token), permitNo: "storm" }, { "idempotency-key": "storm" })),
    );
    expect(new Set(answers.map((a) => a.reference)).size).toBe(1);
    expect(await count("permits", "permit_no = 'storm'")).toBe(1);
    expect(await count("permit_events", "permit_id = ?", answers[0]?.reference)).toBe(1);
  });

  it("without a key, the same receipt, plate and start return the live record's reference", async () => {
    const { token } = await newSite();
    const first = await pushOk(seedPush(token));
    const retry = await pushOk({ ...seedPush(token), LicencePlate: "pl8-rdr" });
    expect(retry.reference).toBe(first.reference);
    expect(retry.res.headers.get("idempotent-replayed")).toBe("true");
    const storm = await Promise.all(Array.from({ length: 20 }, () => pushOk(seedPush(token))));
    expect(new Set(storm.map((a) => a.reference))).toEqual(new Set([first.reference]));
    // A different plate, start or receipt is a different purchase.
    const other = await pushOk({ ...seedPush(token), LicencePlate: "OTHER1" });
    expect(other.reference).not.toBe(first.reference);
    const byTicket = await pushOk({ ...seedPush(token), permitNo: undefined, TicketNumber: "T-9" });
    expect((await pushOk({ ...seedPush(token), permitNo: undefined, TicketNumber: "T-9" })).reference).toBe(byTicket.reference);
  });

  it("a key and a receipt together: a new key for a known receipt answers the known record", async () => {
    const { token } = await newSite();
    const first = await pushOk(seedPush(token));
    const keyed = await pushOk(seedPush(token), { "idempotency-key": "late-key" });
    expect(keyed.reference).toBe(first.reference);
    expect((await pushOk(seedPush(token), { "idempotency-key": "late-key" })).reference).toBe(first.reference);
  });

  it("pushes without a receipt are never merged", async () => {
    const { token } = await newSite();
    const { permitNo: _, ...body } = seedPush(token);
    const a = await pushOk(body);
    const b = await pushOk(body);
    expect(a.reference).not.toBe(b.reference);
  });
});

describe("push: concurrency", () => {
  it("50 concurrent pushes all succeed and all are stored", async () => {
    const { token, slug } = await newSite();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pushOk({ ...seedPush(token), permitNo: `C-${i}`, LicencePlate: `CONC${i}` })),
    );
    expect(new Set(answers.map((a) => a.reference)).size).toBe(50);
    expect(await count("permits p JOIN sites s ON s.id = p.site_id", "s.slug = ?", slug)).toBe(50);
  });
});

describe("push: browsers", () => {
  it("answers a CORS preflight for the seeds' XMLHttpRequest", async () => {
    const res = await call(PUSH, {
      method: "OPTIONS",
      headers: {
        origin: "https://paystation.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,accept",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
  });

  it("an actual cross-origin push carries the CORS header", async () => {
    const { token } = await newSite();
    const res = await post(PUSH, seedPush(token), { origin: "https://paystation.example" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("push: caching", () => {
  it("with warm caches a push writes nothing to KV", async () => {
    const { token } = await newSite();
    await pushOk(seedPush(token));
    const put = vi.spyOn(env.CACHE, "put");
    try {
      await pushOk({ ...seedPush(token), permitNo: "warm" });
      expect(put).not.toHaveBeenCalled();
    } finally {
      put.mockRestore();
    }
  });

  it("a cold push fills the token and site entries once", async () => {
    const { token } = await newSite();
    clearMemo();
    const put = vi.spyOn(env.CACHE, "put");
    try {
      await pushOk(seedPush(token));
      expect(put.mock.calls.map((c) => String(c[0]).split(":")[0]).sort()).toEqual(["site", "token"]);
    } finally {
      put.mockRestore();
    }
  });
});
