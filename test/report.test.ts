import { env } from "cloudflare:workers";
import { parse as parseCsv } from "csv-parse/sync";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import migration from "../migrations/0009_report_rate_tiers.sql?raw";
import { ParkMobileFake } from "../scripts/parkmobile-fake";
import { everyTransaction } from "../src/db/permits/report";
import { reportRange } from "../src/domain/report";
import { formatWireTime, nowSeconds } from "../src/domain/time";
import { admin } from "../src/routes/admin";
import { ADMIN, accessToken, adminCall, bearer, call, count, newClient, newSite, ocTomaOk, post, pushed, sessionSite } from "./helpers";

// The transactions report: one row per operation on a permit, read from the permits' history over an index, streamed
// as CSV or JSON.

type Row = Record<string, string>;

const t = (offsetSeconds: number) => formatWireTime(nowSeconds() + offsetSeconds);
/** Today and tomorrow (UTC): a range of dates holding everything a test just did, on a site in UTC. */
const today = () => formatWireTime(nowSeconds()).slice(0, 10);
const tomorrow = () => formatWireTime(nowSeconds() + 86_400).slice(0, 10);

function report(slug: string, query: Record<string, string>, accept?: string): Promise<Response> {
  return call(`/api/admin/v1/sites/${slug}/reports/transactions?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${ADMIN}`, ...(accept === undefined ? {} : { accept }) },
  });
}

/** The report as CSV, parsed by an RFC 4180 reader: its header and its rows keyed by column. */
async function csvReport(slug: string, query: Record<string, string> = { from: today(), to: tomorrow() }) {
  const res = await report(slug, query, "text/csv");
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
  const records = parseCsv(text, { bom: false }) as string[][];
  const [header = [], ...rows] = records;
  return { text, header, rows: rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""])) as Row) };
}

async function jsonReport(slug: string, query: Record<string, string> = { from: today(), to: tomorrow() }) {
  const res = await report(slug, query, "application/json");
  const body = (await res.json()) as { site: string; from: string; to: string; transactions: Record<string, unknown>[] };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function siteIdOf(slug: string): Promise<number> {
  return (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
}

describe("a report over a range with every kind of operation", () => {
  const realFetch = globalThis.fetch;
  let fake: ParkMobileFake;
  beforeEach(() => {
    fake = new ParkMobileFake({ username: "u", password: "p", apiKey: "k" });
    vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) =>
      new URL(input instanceof Request ? input.url : String(input)).host === "pm.test" ? fake.fetch(input, init) : realFetch(input, init),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("has one row per operation, as CSV and as the same JSON", async () => {
    const s = await sessionSite();
    expect((await adminCall("POST", `/sites/${s.slug}/zones`, { name: "4410" })).status).toBe(201);
    // A push, its update and its deletion (taking its amount back).
    const ref = await pushed(s.token, {
      zone: "Lot 01",
      Amount: "14.50",
      CurrencyID: "CAD",
      permitNo: "R-1",
      LicencePlate: "PL8 RDR",
      startTime: t(-60),
      endTime: t(3600),
    });
    await ocTomaOk("update", { apiToken: s.token, referenceID: ref, Amount: "16.00" });
    await ocTomaOk("delete", { apiToken: s.token, referenceID: ref });
    // A session: its start, an extension and the stop.
    const started = await post("/api/v1/sessions", { zone_number: "104", license_plate: "SES 1", duration: 60 }, bearer(s.access));
    const session = ((await started.json()) as { session_id: string }).session_id;
    expect((await post(`/api/v1/sessions/${session}/extend`, { duration: 30 }, bearer(s.access))).status).toBe(200);
    expect((await post(`/api/v1/sessions/${session}/stop`, {}, bearer(s.access))).status).toBe(200);
    // The ParkMobile import: a right, then its extension.
    const settings = { username: "u", password: "p", apiKey: "k", baseUrl: "https://pm.test" };
    expect((await adminCall("PUT", `/sites/${s.slug}/parkmobile`, settings)).status).toBe(200);
    fake.addZone("4410");
    const right = fake.addRight("4410", { plate: "PM 1", start: nowSeconds() - 60, minutes: 60, amount: 3 });
    expect((await adminCall("POST", `/sites/${s.slug}/tasks/parkmobile/run`)).status).toBe(200);
    fake.extend(right.parkingRightId, 30, nowSeconds(), 1.5);
    expect((await adminCall("POST", `/sites/${s.slug}/tasks/parkmobile/run`)).status).toBe(200);
    // A standard permit an admin adds, then ends.
    const added = await adminCall("POST", `/sites/${s.slug}/permits`, {
      permits: [{ plate: "STD 1", zone: "Lot 4", startTime: t(-60), endTime: t(86_400), permitNo: "S-1" }],
    });
    const standard = ((await added.json()) as { references: string[] }).references[0] as string;
    expect((await adminCall("DELETE", `/sites/${s.slug}/permits/${standard}`)).status).toBe(200);

    const { header, rows, text } = await csvReport(s.slug);
    expect(header).toEqual([
      "time_utc",
      "time_local",
      "time_zone",
      "operation",
      "reference",
      "version",
      "type",
      "source",
      "plate",
      "zone",
      "amount",
      "amount_minor",
      "currency",
      "actor",
      "permit_no",
      "ticket_number",
    ]);
    expect(text.split("\r\n").at(-1)).toBe("");
    const pick = (r: Row) => [
      r.operation,
      r.reference,
      r.version,
      r.source,
      r.plate,
      r.zone,
      r.amount,
      r.amount_minor,
      r.currency,
      r.actor,
    ];
    const token = `token:${s.tokenId}`;
    const client = `oauth:${s.client.clientId}`;
    const pm = rows.filter((r) => r.source === "ParkMobile");
    const byPermit = (a: unknown[], b: unknown[]) => `${a[1]} ${a[2]}`.localeCompare(`${b[1]} ${b[2]}`);
    expect(rows.map(pick).sort(byPermit)).toEqual(
      [
        ["create", ref, "1", "push", "PL8 RDR", "Lot 01", "14.50", "1450", "CAD", token],
        ["update", ref, "2", "push", "PL8 RDR", "Lot 01", "1.50", "150", "CAD", token],
        ["delete", ref, "3", "push", "PL8 RDR", "Lot 01", "-16.00", "-1600", "CAD", token],
        ["session-start", session, "1", "ParkOnce", "SES 1", "Lot 4", "2.50", "250", "CAD", client],
        ["session-extend", session, "2", "ParkOnce", "SES 1", "Lot 4", "1.25", "125", "CAD", client],
        ["session-stop", session, "3", "ParkOnce", "SES 1", "Lot 4", "", "", "CAD", client],
        ["import", pm[0]?.reference, "1", "ParkMobile", "PM 1", "4410", "3.00", "300", "CAD", "job:parkmobile"],
        ["import", pm[0]?.reference, "2", "ParkMobile", "PM 1", "4410", "1.50", "150", "CAD", "job:parkmobile"],
        ["create", standard, "1", "admin", "STD 1", "Lot 4", "", "", "", "admin"],
        ["delete", standard, "2", "admin", "STD 1", "Lot 4", "", "", "", "admin"],
      ].sort(byPermit),
    );
    expect(rows.find((r) => r.reference === ref)).toMatchObject({ type: "temp", permit_no: "R-1", ticket_number: "" });
    // Lot 4 keeps America/Toronto's clock (UTC-5 or -4); the others the site's, UTC.
    for (const r of rows) {
      const offset = (Date.parse(`${r.time_utc}Z`) - Date.parse(`${r.time_local}Z`)) / 3_600_000;
      if (r.zone === "Lot 4") expect([r.time_zone, offset >= 4 && offset <= 5]).toEqual(["America/Toronto", true]);
      else expect([r.time_zone, r.time_local]).toEqual(["UTC", r.time_utc]);
    }
    // Oldest first, by time, then reference and version.
    const keys = rows.map((r) => `${r.time_utc} ${r.reference} ${(r.version ?? "").padStart(4, "0")}`);
    expect(keys).toEqual([...keys].sort());

    const json = await jsonReport(s.slug);
    // Dates cover whole days, the last included.
    const dayAfter = formatWireTime(nowSeconds() + 2 * 86_400).slice(0, 10);
    expect(json).toMatchObject({ site: s.slug, from: `${today()}T00:00:00`, to: `${dayAfter}T00:00:00` });
    // The same rows: numbers as numbers, empty cells as null.
    expect(json.transactions).toEqual(
      rows.map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [
            k,
            v === "" && k !== "plate" ? null : k === "version" || k === "amount_minor" ? Number(v) : v,
          ]),
        ),
      ),
    );
  });
});

describe("money", () => {
  it("a change of currency is two rows: the old amount taken back, the new one charged", async () => {
    const { slug, token } = await newSite();
    const ref = await pushed(token, { Amount: "10.00", CurrencyID: "CAD", startTime: t(-60), endTime: t(600) });
    await ocTomaOk("update", { apiToken: token, referenceID: ref, Amount: "8.00", currency: "USD" });
    const { rows } = await csvReport(slug);
    expect(rows.map((r) => [r.operation, r.version, r.amount, r.currency])).toEqual([
      ["create", "1", "10.00", "CAD"],
      ["update", "2", "-10.00", "CAD"],
      ["update", "2", "8.00", "USD"],
    ]);
    const usd = await csvReport(slug, { from: today(), to: tomorrow(), currency: "usd" });
    expect(usd.rows.map((r) => [r.operation, r.amount, r.currency])).toEqual([["update", "8.00", "USD"]]);
  });

  it("a row shows the plate and amount the operation left, not a later change's", async () => {
    const { slug, token } = await newSite();
    const ref = await pushed(token, { LicencePlate: "OLD 1", Amount: "5.00", startTime: t(-60), endTime: t(600) });
    await ocTomaOk("update", { apiToken: token, referenceID: ref, plate: "NEW 1" });
    await ocTomaOk("delete", { apiToken: token, referenceID: ref });
    const { rows } = await csvReport(slug);
    expect(rows.map((r) => [r.operation, r.plate, r.amount])).toEqual([
      ["create", "OLD 1", "5.00"],
      ["update", "NEW 1", ""],
      ["delete", "NEW 1", "-5.00"],
    ]);
  });

  it("twenty concurrent updates of one permit are twenty rows, each version once, summing to its amount", async () => {
    const { slug, token } = await newSite();
    const ref = await pushed(token, { Amount: "1.00", startTime: t(-60), endTime: t(600) });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post("/api/OC-TOMA/v1/permits/update", { apiToken: token, referenceID: ref, Amount: `${2 + i}.00` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const { rows } = await csvReport(slug);
    expect(rows.map((r) => Number(r.version))).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    const final = (await env.DB.prepare("SELECT amount_cents AS a FROM permits WHERE id = ?").bind(ref).first<{ a: number }>())?.a;
    expect(rows.reduce((sum, r) => sum + Number(r.amount_minor || 0), 0)).toBe(final);
  });
});

describe("CSV is safe to open in a spreadsheet", () => {
  it("text a spreadsheet would run is prefixed with an apostrophe; amounts, negative ones too, are left as numbers", async () => {
    const s = await sessionSite();
    const evil = await newClient(s.slug, { label: '=HYPERLINK("http://x.test","pay")', scopes: ["sessions"] });
    const res = await post("/api/OC-TOMA/v1/permits/push", {
      apiToken: s.token,
      LicencePlate: "CSV 1",
      zone: "@SUM(A1:A9)",
      Amount: "2.00",
      permitNo: "-2+3",
      startTime: t(-60),
      endTime: t(600),
    });
    const ref = ((await res.json()) as { reference_id: string }).reference_id;
    await ocTomaOk("delete", { apiToken: s.token, referenceID: ref });
    const token = await accessToken(evil);
    expect((await post("/api/v1/sessions", { zone_number: "104", license_plate: "CSV 2", duration: 5 }, bearer(token))).status).toBe(201);
    const { rows, text } = await csvReport(s.slug);
    expect(rows.map((r) => [r.operation, r.zone, r.permit_no, r.amount, r.source]).sort()).toEqual([
      ["create", "'@SUM(A1:A9)", "'-2+3", "2.00", "push"],
      ["delete", "'@SUM(A1:A9)", "'-2+3", "-2.00", "push"],
      ["session-start", "Lot 4", "", "0.21", `'=HYPERLINK("http://x.test","pay")`],
    ]);
    expect(text).toContain(',"\'=HYPERLINK(""http://x.test"",""pay"")",');
    expect(text).toContain(",-2.00,-200,");
  });
});

describe("the range", () => {
  it("dates are whole days in the site's time zone, both included; times are UTC, the end excluded", async () => {
    expect(reportRange("2026-03-01", "2026-03-31", "UTC")).toEqual({ from: Date.UTC(2026, 2, 1) / 1000, to: Date.UTC(2026, 3, 1) / 1000 });
    // Toronto moves to summer time on 2026-03-08: that day is 23 hours long.
    expect(reportRange("2026-03-08", "2026-03-08", "America/Toronto")).toEqual({
      from: Date.UTC(2026, 2, 8, 5) / 1000,
      to: Date.UTC(2026, 2, 9, 4) / 1000,
    });
    // Santiago skips midnight when its summer time begins (2026-09-06 starts at 01:00 -03).
    expect(reportRange("2026-09-06", "2026-09-06", "America/Santiago").from).toBe(Date.UTC(2026, 8, 6, 4) / 1000);
    // October in Europe holds the hour the clocks go back: 31 days and an hour, and still a month of 31 days.
    expect(reportRange("2026-10-01", "2026-10-31", "Europe/London")).toEqual({
      from: Date.UTC(2026, 8, 30, 23) / 1000,
      to: Date.UTC(2026, 10, 1) / 1000,
    });
    expect(() => reportRange("2026-10-01", "2026-11-01", "Europe/Berlin")).toThrow(/at most 31 days/);
    expect(reportRange("2026-03-01T10:00:00", "2026-03-01T11:00:00Z", "America/Toronto")).toEqual({
      from: Date.UTC(2026, 2, 1, 10) / 1000,
      to: Date.UTC(2026, 2, 1, 11) / 1000,
    });
  });

  it("an event at `to` (a time) is out; one at `from` is in", async () => {
    const { slug, token } = await newSite();
    const ref = await pushed(token, { startTime: t(-60), endTime: t(600) });
    const at = (await env.DB.prepare("SELECT at FROM permit_events WHERE permit_id = ?").bind(ref).first<{ at: number }>())?.at as number;
    expect((await csvReport(slug, { from: formatWireTime(at), to: formatWireTime(at + 1) })).rows).toHaveLength(1);
    expect((await csvReport(slug, { from: formatWireTime(at - 1), to: formatWireTime(at) })).rows).toHaveLength(0);
  });

  const refused: [string, Record<string, string>, number, number, string, RegExp][] = [
    ["no from", { to: "2026-03-01" }, 400, 9031, "from", /^from is required\.$/],
    ["no to", { from: "2026-03-01" }, 400, 9031, "to", /^to is required\.$/],
    ["a day that does not exist", { from: "2026-02-30", to: "2026-03-01" }, 400, 9033, "from", /^from must be a date/],
    ["a time that does not exist", { from: "2026-03-01", to: "2026-03-01T24:00:00" }, 400, 9033, "to", /^to must be a date/],
    ["another format", { from: "01/03/2026", to: "2026-03-02" }, 400, 9033, "from", /or a UTC time/],
    ["from after to", { from: "2026-03-02", to: "2026-03-01" }, 400, 9033, "to", /^to must be after from\.$/],
    ["an empty range", { from: "2026-03-01T00:00:00", to: "2026-03-01T00:00:00" }, 400, 9033, "to", /after from/],
    ["32 days", { from: "2026-03-01", to: "2026-04-01" }, 400, 9030, "to", /at most 31 days/],
    ["31 days and a second", { from: "2026-03-01T00:00:00", to: "2026-04-01T00:00:01" }, 400, 9030, "to", /at most 31 days/],
    ["a bound too long", { from: "2026-03-01".repeat(4), to: "2026-03-02" }, 400, 9030, "from", /at most 30 characters/],
  ];
  for (const [name, query, status, code, field, message] of refused) {
    it(`refuses ${name} with ${code}, naming ${field}`, async () => {
      const { slug } = await newSite();
      const res = await report(slug, query);
      const body = (await res.json()) as { ErrorCode: number; field: string; ErrorMessage: string };
      expect([res.status, body.ErrorCode, body.field]).toEqual([status, code, field]);
      expect(body.ErrorMessage).toMatch(message);
    });
  }

  it("takes a whole month of 31 days", async () => {
    const { slug } = await newSite();
    expect((await report(slug, { from: "2026-03-01", to: "2026-03-31" })).status).toBe(200);
    expect((await report(slug, { from: "2026-03-01T00:00:00", to: "2026-04-01T00:00:00" })).status).toBe(200);
  });
});

describe("the filters", () => {
  it("zone (by name or number, or a disconnected name), source and currency narrow the rows", async () => {
    const s = await sessionSite();
    await pushed(s.token, { zone: "Lot 01", Amount: "1.00", CurrencyID: "USD", startTime: t(-60), endTime: t(600) });
    await pushed(s.token, { zone: "Nowhere", Amount: "2.00", permitNo: "D-1", startTime: t(-60), endTime: t(600) });
    expect((await post("/api/v1/sessions", { zone_number: "104", license_plate: "F 1", duration: 10 }, bearer(s.access))).status).toBe(201);
    const rows = async (q: Record<string, string>) =>
      (await csvReport(s.slug, { from: today(), to: tomorrow(), ...q })).rows.map((r) => [r.zone, r.source, r.currency]);
    expect(await rows({ zone: "104" })).toEqual([["Lot 4", "ParkOnce", "CAD"]]);
    expect(await rows({ zone: "Lot 4" })).toEqual([["Lot 4", "ParkOnce", "CAD"]]);
    expect(await rows({ zone: "Nowhere" })).toEqual([["Nowhere", "push", "CAD"]]);
    expect(await rows({ source: "ParkOnce" })).toEqual([["Lot 4", "ParkOnce", "CAD"]]);
    expect(await rows({ source: "push", currency: "USD" })).toEqual([["Lot 01", "push", "USD"]]);
  });

  it("a session started with an API token is found by the token's source", async () => {
    const s = await sessionSite();
    expect((await post("/api/v1/sessions", { zone_number: "104", license_plate: "K 1", duration: 10 }, bearer(s.token))).status).toBe(201);
    const { rows } = await csvReport(s.slug, { from: today(), to: tomorrow(), source: s.tokenId });
    expect(rows.map((r) => [r.operation, r.source])).toEqual([["session-start", s.tokenId]]);
  });

  it("refuses another site's zone, an unknown source or currency, each with 9033 naming it", async () => {
    const mine = await newSite({ zones: ["Lot 4"] });
    await newSite({ zones: ["Theirs"] });
    for (const [query, field] of [
      [{ zone: "Theirs" }, "zone"],
      [{ source: "Someone" }, "source"],
      [{ currency: "EUR" }, "currency"],
      [{ currency: "cad!" }, "currency"],
    ] as const) {
      const res = await report(mine.slug, { from: "2026-03-01", to: "2026-03-02", ...query });
      expect([res.status, await res.json()]).toEqual([400, expect.objectContaining({ ErrorCode: 9033, field })]);
    }
  });
});

describe("the format follows Accept", () => {
  const cases: [string | undefined, number, string | null][] = [
    [undefined, 200, "text/csv; charset=utf-8"],
    ["*/*", 200, "text/csv; charset=utf-8"],
    ["text/*", 200, "text/csv; charset=utf-8"],
    ["application/json", 200, "application/json; charset=utf-8"],
    ["application/*", 200, "application/json; charset=utf-8"],
    ["text/csv;q=0.5, application/json", 200, "application/json; charset=utf-8"],
    ["text/csv;q=0, */*", 200, "application/json; charset=utf-8"],
    ["TEXT/CSV", 200, "text/csv; charset=utf-8"],
    ["application/xml", 406, null],
    ["text/html, application/xhtml+xml", 406, null],
    ["application/json;q=0", 406, null],
    ["nonsense", 406, null],
  ];
  for (const [accept, status, type] of cases) {
    it(`Accept: ${accept ?? "(none)"} → ${status} ${type ?? ""}`, async () => {
      const { slug } = await newSite();
      const res = await report(slug, { from: "2026-03-01", to: "2026-03-02" }, accept);
      expect(res.status).toBe(status);
      if (type) expect(res.headers.get("content-type")).toBe(type);
      else
        expect(await res.json()).toMatchObject({
          ErrorCode: 9033,
          field: "Accept",
          ErrorMessage: "Accept must allow text/csv or application/json.",
        });
      if (status === 200) {
        expect(res.headers.get("vary")).toBe("Accept");
        await res.body?.cancel();
      }
    });
  }

  it("an empty report is the header row alone, or an empty list", async () => {
    const { slug } = await newSite();
    expect((await csvReport(slug, { from: "2026-03-01", to: "2026-03-02" })).text).toBe(
      "time_utc,time_local,time_zone,operation,reference,version,type,source,plate,zone,amount,amount_minor,currency,actor,permit_no,ticket_number\r\n",
    );
    expect((await jsonReport(slug, { from: "2026-03-01", to: "2026-03-02" })).transactions).toEqual([]);
  });
});

describe("who may read it", () => {
  it("the admin secret, or an admin-scope token of the site; another site's token sees no such site", async () => {
    const { slug } = await newSite();
    const other = await newSite({ scopes: ["admin"] });
    const mine = await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["admin"] });
    const token = ((await mine.json()) as { token: string }).token;
    const path = `/sites/${slug}/reports/transactions?from=2026-03-01&to=2026-03-02`;
    expect((await adminCall("GET", path, undefined, token)).status).toBe(200);
    const res = await adminCall("GET", path, undefined, other.token);
    expect([res.status, await res.json()]).toEqual([404, expect.objectContaining({ ErrorCode: 9009, field: "site" })]);
    expect((await call(`/api/admin/v1${path}`)).status).toBe(401);
  });
});

describe("storage", () => {
  it("every write path records the event's site, and an event without one is refused", async () => {
    const s = await sessionSite();
    const ref = await pushed(s.token, { startTime: t(-60), endTime: t(600) });
    await ocTomaOk("update", { apiToken: s.token, referenceID: ref, Amount: "3.00" });
    await ocTomaOk("delete", { apiToken: s.token, referenceID: ref });
    expect((await post("/api/v1/sessions", { zone_number: "104", license_plate: "W 1", duration: 10 }, bearer(s.access))).status).toBe(201);
    expect(
      (
        await adminCall("POST", `/sites/${s.slug}/permits`, {
          permits: [{ plate: "STD 9", zone: "Lot 4", startTime: t(-60), endTime: t(600) }],
        })
      ).status,
    ).toBe(201);
    expect(await count("permit_events e JOIN permits p ON p.id = e.permit_id", "e.site_id IS NOT p.site_id")).toBe(0);
    await expect(
      env.DB.prepare("INSERT INTO permit_events (permit_id, version, action, changes, actor, at) VALUES (?, 9, 'update', '{}', 'x', 1)")
        .bind(ref)
        .run(),
    ).rejects.toThrow(/permit_events.site_id is required/);
  });

  it("the migration gives events written before it their permit's site", async () => {
    const { slug, token } = await newSite();
    const ref = await pushed(token, { startTime: t(-60), endTime: t(600) });
    await env.DB.prepare("UPDATE permit_events SET site_id = NULL WHERE permit_id = ?").bind(ref).run();
    const backfill = migration.split("--> statement-breakpoint").find((s) => s.includes("UPDATE `permit_events`")) as string;
    await env.DB.prepare(backfill.replace(/^\s*--.*$/gm, "")).run();
    const row = await env.DB.prepare("SELECT site_id AS s FROM permit_events WHERE permit_id = ?").bind(ref).first<{ s: number }>();
    expect(row?.s).toBe(await siteIdOf(slug));
  });

  it("reads every event once, in order, in keyset batches, across ties of time and days without events", async () => {
    const { slug, token } = await newSite();
    const siteId = await siteIdOf(slug);
    const start = Date.UTC(2026, 2, 1) / 1000;
    // 13 permits whose events share 3 seconds, then 2 more two days later.
    for (let i = 0; i < 15; i++) await pushed(token, { permitNo: `K-${i}`, startTime: t(-60), endTime: t(600) });
    const ids = (await env.DB.prepare("SELECT id FROM permits WHERE site_id = ? ORDER BY id").bind(siteId).all<{ id: string }>()).results;
    for (const [i, { id }] of ids.entries()) {
      const at = i < 13 ? start + (i % 3) : start + 2 * 86_400 + i;
      await env.DB.prepare("UPDATE permit_events SET at = ? WHERE permit_id = ?").bind(at, id).run();
    }
    const seen: string[] = [];
    const batches: number[] = [];
    for await (const batch of everyTransaction(env.DB, { siteId, from: start, to: start + 31 * 86_400 }, 4)) {
      batches.push(batch.length);
      seen.push(...batch.map((e) => `${e.at}/${e.reference}`));
    }
    expect(seen).toHaveLength(15);
    expect(new Set(seen).size).toBe(15);
    expect(seen).toEqual([...seen].sort());
    expect(batches).toEqual([4, 4, 4, 1, 2]);
  });

  it("the report is streamed: reading its first part runs one query, not the month's", async () => {
    const { slug, token } = await newSite();
    for (let i = 0; i < 3; i++) await pushed(token, { permitNo: `S-${i}`, startTime: t(-60), endTime: t(600) });
    let queries = 0;
    const counting = new Proxy(env.DB, {
      get(target, key) {
        if (key === "prepare") {
          return (query: string) => {
            if (query.includes("FROM permit_events e")) queries++;
            return target.prepare(query);
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const to = formatWireTime(nowSeconds() + 29 * 86_400).slice(0, 10);
    const res = await admin.request(
      `/sites/${slug}/reports/transactions?from=${today()}&to=${to}`,
      { headers: { authorization: `Bearer ${ADMIN}` } },
      { ...env, DB: counting },
    );
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const header = new TextDecoder().decode((await reader.read()).value);
    expect(header).toMatch(/^time_utc,/);
    expect(queries).toBeLessThanOrEqual(1);
    expect(new TextDecoder().decode((await reader.read()).value).split("\r\n")).toHaveLength(4);
    // A day's statement at a time, pulled as the client reads: 30 days of range, two statements so far.
    expect(queries).toBeLessThanOrEqual(2);
    await reader.cancel();
  });
});
