import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { deleteArchived } from "../src/db/retention";
import worker from "../src/index";
import { ArchiveWriter, archiveLines } from "../src/retention/archive";
import { runRetention } from "../src/retention/run";
import { adminCall, call, count, newSite, ocTomaOk, post, seedPush } from "./helpers";

// Retention: plates anonymized after N days, whole months archived to R2 after M months and deleted from D1 in
// bounded batches, housekeeping of the feed log, idempotency keys and run logs; safe to kill at any point.

type Body = Record<string, unknown>;
type Run = { id: number; task: string; outcome: string; message: string | null; counts: Record<string, number | string[]> };
type Line = { permit: Body & { id: string; version: number }; lotZone: string | null; history: Body[] };

const T0 = Date.UTC(2031, 4, 12, 12, 0, 0);
const epoch = (iso: string) => Date.parse(`${iso}Z`) / 1000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(T0));
});
afterEach(() => vi.useRealTimers());

async function site(zones = ["Lot 4"]) {
  const s = await newSite({ zones });
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(s.slug).first<{ id: number }>())?.id as number;
  const zoneId = (await env.DB.prepare("SELECT id FROM lot_zones WHERE site_id = ?").bind(siteId).first<{ id: number }>())?.id as number;
  return { ...s, siteId, zoneId };
}

/** Pushes a permit through OC-TOMA with the given start and end (UTC, Y-m-d\TH:i:s). */
async function pushed(token: string, plate: string, start: string, end: string) {
  const res = await post("/api/OC-TOMA/v1/permits/push", {
    ...seedPush(token),
    permitNo: crypto.randomUUID(),
    LicencePlate: plate,
    startTime: start,
    endTime: end,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reference_id: string }).reference_id;
}

/** `n` permits of the site ending in the hour after `end`, each with a creation event, written straight to D1. */
async function bulk(siteId: number, zoneId: number, n: number, end: string, prefix: string) {
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO permits (id, site_id, type, source, plate, plate_norm, zone_name, lot_zone_id, amount_cents, currency, start_at, end_at,
                          version, created_at, updated_at)
     SELECT ?2 || i, ?3, 'temp', 'push', 'B ' || i, 'B' || i, 'Lot 4', ?4, 100 + i, 'CAD', ?5 - 3600, ?5 + i % 3600, 1, ?5 - 3600, ?5 - 3600 FROM n`,
  )
    .bind(n, prefix, siteId, zoneId, epoch(end))
    .run();
  await env.DB.prepare(
    `INSERT INTO permit_events (permit_id, site_id, version, action, changes, actor, at)
     SELECT id, site_id, 1, 'create', json_object('plate', json_array(NULL, plate), 'plateNorm', json_array(NULL, plate_norm), 'amountCents', json_array(NULL, amount_cents)), 'test', created_at
     FROM permits WHERE id LIKE ?1 || '%'`,
  )
    .bind(prefix)
    .run();
}

async function runByHand(slug: string): Promise<Run> {
  const res = await adminCall("POST", `/sites/${slug}/tasks/retention/run`);
  const json = (await res.json()) as Run;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** The lines of a site's archive of one month, downloaded through the admin API. */
async function archived(slug: string, month: string): Promise<Line[]> {
  const res = await adminCall("GET", `/sites/${slug}/archives/${month}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/gzip");
  const lines: Line[] = [];
  for await (const line of archiveLines(res.body as ReadableStream<Uint8Array>)) lines.push(JSON.parse(line) as Line);
  return lines;
}

const ids = (lines: Line[]) => lines.map((l) => l.permit.id).sort();

describe("the policy", () => {
  it("has stated defaults, is set per site, and refuses values out of bounds writing nothing", async () => {
    const { slug } = await site();
    expect(await (await adminCall("GET", `/sites/${slug}/retention`)).json()).toEqual({
      anonymizeAfterDays: 90,
      archiveAfterMonths: 13,
      enabled: true,
      schedule: "0 3 * * *",
    });
    expect(await (await adminCall("PUT", `/sites/${slug}/retention`, { anonymizeAfterDays: 30 })).json()).toMatchObject({
      anonymizeAfterDays: 30,
      archiveAfterMonths: 13,
    });
    for (const [body, error] of [
      [{}, { ErrorCode: 9033 }],
      [{ anonymizeAfterDays: 0 }, { ErrorCode: 9032, field: "anonymizeAfterDays" }],
      [{ archiveAfterMonths: 121 }, { ErrorCode: 9030, field: "archiveAfterMonths" }],
      [{ archiveAfterMonths: 1.5 }, { ErrorCode: 9033, field: "archiveAfterMonths" }],
      [{ anonymizeAfterDays: "30" }, { ErrorCode: 9033, field: "anonymizeAfterDays" }],
    ] as const) {
      const res = await adminCall("PUT", `/sites/${slug}/retention`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject(error);
    }
    expect(await (await adminCall("GET", `/sites/${slug}/retention`)).json()).toMatchObject({ anonymizeAfterDays: 30 });
    expect((await adminCall("GET", "/sites/nope/retention")).status).toBe(404);
  });

  it("the grace period is set on the site, 0 to 1440 minutes", async () => {
    const { slug } = await site();
    expect(await (await adminCall("PATCH", `/sites/${slug}`, { graceMinutes: 0 })).json()).toMatchObject({ graceMinutes: 0 });
    expect(await (await adminCall("PATCH", `/sites/${slug}`, { graceMinutes: 1441 })).json()).toMatchObject({
      ErrorCode: 9030,
      field: "graceMinutes",
    });
    expect(await (await adminCall("PATCH", `/sites/${slug}`, { graceMinutes: -1 })).json()).toMatchObject({
      ErrorCode: 9032,
      field: "graceMinutes",
    });
    expect(await (await adminCall("GET", `/sites/${slug}`)).json()).toMatchObject({ graceMinutes: 0 });
  });
});

describe("a run", () => {
  const parkmobileEdits = async (siteId: number) =>
    (await env.DB.prepare("SELECT parkmobile_edits AS n FROM sites WHERE id = ?").bind(siteId).first<{ n: number }>())?.n;

  it("anonymizes plates of permits ended more than N days ago, keeping the record and its amounts", async () => {
    const { slug, token, siteId } = await site();
    const old = await pushed(token, "OLD 1", "2031-01-01T09:00:00", "2031-01-01T10:00:00"); // ~131 days ago
    const recent = await pushed(token, "NEW 1", "2031-04-01T09:00:00", "2031-04-01T10:00:00"); // ~41 days ago
    await ocTomaOk("update", { apiToken: token, referenceID: old, plate: "OLD 2" });
    // As a session would hold it: the driver's receipt e-mail goes with the plate.
    await env.DB.prepare("UPDATE permits SET receipt_email = 'driver@example.com' WHERE id IN (?, ?)").bind(old, recent).run();
    const run = await runByHand(slug);
    expect(run).toMatchObject({ task: "retention", outcome: "succeeded", counts: { anonymized: 1, archivedPermits: 0 } });
    const row = await env.DB.prepare("SELECT * FROM permits WHERE id = ?").bind(old).first<Body>();
    expect(row).toMatchObject({
      plate: "",
      plate_norm: "",
      receipt: null,
      receipt_email: null,
      anonymized_at: Math.floor(T0 / 1000),
      amount_cents: 1450,
      currency: "CAD",
      version: 2,
    });
    const events = (await env.DB.prepare("SELECT changes FROM permit_events WHERE permit_id = ?").bind(old).all<{ changes: string }>())
      .results;
    for (const e of events) expect(e.changes).not.toMatch(/OLD/);
    expect(JSON.parse(events[0]?.changes as string)).toMatchObject({ amountCents: [null, 1450] });
    expect(await env.DB.prepare("SELECT plate, receipt_email FROM permits WHERE id = ?").bind(recent).first()).toEqual({
      plate: "NEW 1",
      receipt_email: "driver@example.com",
    });
    // The admin view says so; a run again finds nothing to do.
    expect(await (await adminCall("GET", `/permits/${old}`)).json()).toMatchObject({ plate: "", anonymizedAt: "2031-05-12T12:00:00" });
    expect((await runByHand(slug)).counts).toMatchObject({ anonymized: 0 });
    expect(await count("permits", "site_id = ?", siteId)).toBe(2);
  });

  it("its changes to ParkMobile permits are counted as changes to the site's stored ParkMobile permits; to others, not", async () => {
    const { slug, token, siteId } = await site();
    const imported = await pushed(token, "PM 1", "2031-01-01T09:00:00", "2031-01-01T10:00:00");
    const other = await pushed(token, "PUSH 1", "2031-01-01T09:00:00", "2031-01-01T10:00:00");
    // As the ParkMobile import stores its rights (changing the source is not a change the count sees).
    await env.DB.prepare("UPDATE permits SET source = 'ParkMobile', external_id = '900001' WHERE id = ?").bind(imported).run();
    expect(await parkmobileEdits(siteId)).toBe(0);
    expect((await runByHand(slug)).counts).toMatchObject({ anonymized: 2 });
    expect(await parkmobileEdits(siteId)).toBe(1);
    expect(await deleteArchived(env.DB, [{ id: other, version: 1 }])).toEqual({ permits: 1, events: 1 });
    expect(await parkmobileEdits(siteId)).toBe(1);
    expect(await deleteArchived(env.DB, [{ id: imported, version: 1 }])).toEqual({ permits: 1, events: 1 });
    expect(await parkmobileEdits(siteId)).toBe(2);
  });

  it("archives whole months ended more than M months ago to R2, one object per month, then deletes them from D1", async () => {
    const { slug, siteId, zoneId, token } = await site();
    await bulk(siteId, zoneId, 1_200, "2029-12-10T08:00:00", "dec-");
    const march = await pushed(token, "MAR 1", "2030-03-31T22:00:00", "2030-03-31T23:59:59");
    const april = await pushed(token, "APR 1", "2030-04-01T00:00:00", "2030-04-01T01:00:00"); // April 2030 is not 13 months old yet
    const run = await runByHand(slug);
    expect(run).toMatchObject({
      outcome: "succeeded",
      counts: {
        archives: [`permits/${slug}/2029-12.ndjson.gz`, `permits/${slug}/2030-03.ndjson.gz`],
        archivedPermits: 1_201,
        archivedEvents: 1_201,
        deletedPermits: 1_201,
        deletedEvents: 1_201,
      },
    });
    const december = await archived(slug, "2029-12");
    expect(december).toHaveLength(1_200);
    expect(new Set(ids(december)).size).toBe(1_200);
    // Each line: the permit as stored (its columns by their API names), its lot zone's name, its whole history.
    expect(december[0]).toMatchObject({
      permit: { siteId, type: "temp", amountCents: expect.any(Number) },
      lotZone: "Lot 4",
    });
    expect(december[0]?.history).toEqual([expect.objectContaining({ version: 1, action: "create", actor: "test" })]);
    expect(ids(await archived(slug, "2030-03"))).toEqual([march]);
    expect(await count("permits", "site_id = ?", siteId)).toBe(1);
    expect(await env.DB.prepare("SELECT id FROM permits WHERE site_id = ?").bind(siteId).first()).toEqual({ id: april });
    expect(await count("permit_events", "permit_id LIKE 'dec-%'")).toBe(0);

    const list = (await (await adminCall("GET", `/sites/${slug}/archives`)).json()) as { archives: Body[] };
    expect(list.archives).toEqual([
      {
        month: "2029-12",
        key: `permits/${slug}/2029-12.ndjson.gz`,
        permits: 1_200,
        bytes: expect.any(Number),
        uploadedAt: expect.any(String),
      },
      { month: "2030-03", key: `permits/${slug}/2030-03.ndjson.gz`, permits: 1, bytes: expect.any(Number), uploadedAt: expect.any(String) },
    ]);
    expect((await adminCall("GET", `/sites/${slug}/archives/2030-04`)).status).toBe(404);
    expect(await (await adminCall("GET", `/sites/${slug}/archives/2030-4`)).json()).toMatchObject({ ErrorCode: 9033, field: "month" });
  });

  it("a late permit of an archived month joins that month's object, each permit once", async () => {
    const { slug, token } = await site();
    const first = await pushed(token, "EARLY 1", "2029-06-01T09:00:00", "2029-06-01T10:00:00");
    await runByHand(slug);
    const late = await pushed(token, "LATE 1", "2029-06-20T09:00:00", "2029-06-20T10:00:00");
    expect((await runByHand(slug)).counts).toMatchObject({ archivedPermits: 1, archives: [`permits/${slug}/2029-06.ndjson.gz`] });
    expect(ids(await archived(slug, "2029-06"))).toEqual([first, late].sort());
  });

  it("prunes the feed's change log and push idempotency keys past 25 hours, and run logs past the plate horizon but a task's newest", async () => {
    const { slug, siteId, zoneId } = await site();
    const now = Math.floor(T0 / 1000);
    await env.DB.prepare("INSERT INTO permit_changes (lot_zone_id, permit_id, at) VALUES (?1, 'a', ?2), (?1, 'b', ?3), (?1, 'c', ?4)")
      .bind(zoneId, now - 30 * 3600, now - 26 * 3600, now - 3600)
      .run();
    await env.DB.prepare(
      "INSERT INTO idempotency_keys (site_id, key, request_hash, permit_id, created_at) VALUES (?1, 'old', 'h', 'p', ?2), (?1, 'new', 'h', 'p', ?3)",
    )
      .bind(siteId, now - 26 * 3600, now - 3600)
      .run();
    await env.DB.prepare(
      "INSERT INTO task_runs (site_id, task, number, trigger, started_at, heartbeat_at, finished_at, outcome, counts, rejections) VALUES (?1, 'parkmobile', 1, 'cron', ?2, ?2, ?2, 'succeeded', '{}', '[]'), (?1, 'parkmobile', 2, 'cron', ?3, ?3, ?3, 'succeeded', '{}', '[]')",
    )
      .bind(siteId, now - 92 * 86400, now - 91 * 86400)
      .run();
    expect((await runByHand(slug)).counts).toMatchObject({ feedChangesPruned: 2, idempotencyKeysPruned: 1, taskRunsPruned: 1 });
    expect(await count("permit_changes", "lot_zone_id = ?", zoneId)).toBe(1);
    expect(await count("idempotency_keys", "site_id = ?", siteId)).toBe(1);
    // Both runs are past the horizon, but a task's newest run stays: its number is where the next run's goes on from.
    expect(await count("task_runs", "site_id = ? AND task = 'parkmobile' AND number = 2", siteId)).toBe(1);
    expect(await count("task_runs", "site_id = ? AND task = 'parkmobile'", siteId)).toBe(1);
  });

  it("runs daily by its Cron Trigger for every site that has not disabled it", async () => {
    const on = await site();
    const off = await site();
    expect(await (await adminCall("PATCH", `/sites/${off.slug}/tasks/retention`, { enabled: false })).json()).toMatchObject({
      enabled: false,
    });
    for (const s of [on, off]) await pushed(s.token, "AGED 1", "2029-01-01T09:00:00", "2029-01-01T10:00:00");
    await worker.scheduled(createScheduledController({ cron: "0 3 * * *" }), env);
    expect(await count("task_runs", "site_id = ? AND task = 'retention' AND trigger = 'cron' AND outcome = 'succeeded'", on.siteId)).toBe(
      1,
    );
    expect(await count("task_runs", "site_id = ? AND task = 'retention'", off.siteId)).toBe(0);
    expect(await count("permits", "site_id = ?", on.siteId)).toBe(0);
    expect(await count("permits", "site_id = ?", off.siteId)).toBe(1);
    // The import's schedule does not run it.
    await worker.scheduled(createScheduledController({ cron: "*/3 * * * *" }), env);
    expect(await count("task_runs", "site_id = ? AND task = 'retention'", on.siteId)).toBe(1);
  });
});

describe("killed halfway, run again", () => {
  // A failed run is logged for Workers Logs (console.error); here failing is the point: the log is checked, not printed.
  let logged: MockInstance<typeof console.error>;
  beforeEach(() => {
    logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
  });
  afterEach(() => logged.mockRestore());

  /** The D1 binding, failing the `nth` time a statement starting with `prefix` is prepared: a Worker that dies there. */
  function dyingAt(prefix: string, nth: number): D1Database {
    let seen = 0;
    return new Proxy(env.DB, {
      get(target, key) {
        if (key === "prepare") {
          return (query: string) => {
            if (query.trimStart().startsWith(prefix) && ++seen === nth) throw new Error("the Worker was stopped");
            return target.prepare(query);
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /** Every permit is either still in D1 or in the month's archive, never both after a finished run, and never twice. */
  async function assertWhole(slug: string, siteId: number, expected: string[]) {
    const lines = await archived(slug, "2029-12");
    expect(new Set(ids(lines)).size).toBe(lines.length);
    expect(ids(lines)).toEqual([...expected].sort());
    expect(await count("permits", "site_id = ?", siteId)).toBe(0);
    expect(await count("permit_events", "permit_id LIKE 'k%'")).toBe(0);
    for (const line of lines) expect(line.history).toHaveLength(1);
  }

  const allIds = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

  it("between two delete batches, and as an abandoned run: nothing lost, nothing archived twice", async () => {
    const { slug, siteId, zoneId } = await site();
    await bulk(siteId, zoneId, 1_200, "2029-12-10T08:00:00", "k1-");
    // The object is written; the second batch of deletes never happens.
    const killed = await runRetention({ ...env, DB: dyingAt("DELETE FROM permit_events", 2) }, siteId, "manual");
    expect(killed).toMatchObject({
      outcome: "failed",
      message: expect.stringContaining("the Worker was stopped"),
      counts: { deletedPermits: 500 },
    });
    expect(await count("permits", "site_id = ?", siteId)).toBe(700);
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('"task":"retention"'));
    // A Worker that dies leaves its run "running": the next run closes it as abandoned once it is 10 minutes silent.
    await env.DB.prepare("UPDATE task_runs SET outcome = 'running', finished_at = NULL, heartbeat_at = ? WHERE id = ?")
      .bind(Math.floor(T0 / 1000) - 900, killed?.id)
      .run();
    const again = await runByHand(slug);
    expect(again).toMatchObject({ outcome: "succeeded", counts: { archivedPermits: 700, deletedPermits: 700 } });
    await assertWhole(slug, siteId, allIds("k1-", 1_200));
    const runs = (await (await adminCall("GET", `/sites/${slug}/tasks/retention/runs`)).json()) as { runs: Run[] };
    expect(runs.runs.map((r) => r.outcome)).toEqual(["succeeded", "failed"]);
    expect(runs.runs[1]?.message).toContain("Abandoned");
  });

  it("while reading what to archive, before the object is written: nothing is deleted, the next run does it all", async () => {
    const { slug, siteId, zoneId } = await site();
    await bulk(siteId, zoneId, 1_200, "2029-12-10T08:00:00", "k2-");
    const killed = await runRetention({ ...env, DB: dyingAt('select "permits"', 2) }, siteId, "manual");
    expect(killed).toMatchObject({ outcome: "failed", counts: { archivedPermits: 0, deletedPermits: 0 } });
    expect(await count("permits", "site_id = ?", siteId)).toBe(1_200);
    expect((await adminCall("GET", `/sites/${slug}/archives/2029-12`)).status).toBe(404);
    expect(await runByHand(slug)).toMatchObject({ outcome: "succeeded", counts: { archivedPermits: 1_200 } });
    await assertWhole(slug, siteId, allIds("k2-", 1_200));
  });

  it("when R2 refuses the object: nothing is deleted, the next run does it all", async () => {
    const { slug, siteId, zoneId } = await site();
    await bulk(siteId, zoneId, 600, "2029-12-10T08:00:00", "k3-");
    const refusing = new Proxy(env.ARCHIVE, {
      get(target, key) {
        if (key === "put") return async () => Promise.reject(new Error("R2 is unavailable"));
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    expect(await runRetention({ ...env, ARCHIVE: refusing }, siteId, "manual")).toMatchObject({
      outcome: "failed",
      message: expect.stringContaining("R2 is unavailable"),
    });
    expect(await count("permits", "site_id = ?", siteId)).toBe(600);
    expect(await runByHand(slug)).toMatchObject({ outcome: "succeeded", counts: { archivedPermits: 600 } });
    await assertWhole(slug, siteId, allIds("k3-", 600));
  });

  it("a permit changed after it was archived is kept, and the next run archives its new version in its place", async () => {
    const { slug, siteId, zoneId, token } = await site();
    await bulk(siteId, zoneId, 3, "2029-12-10T08:00:00", "k4-");
    // Between the object's write and the deletes, another writer changes k4-2.
    let changed = false;
    const racing = new Proxy(env.DB, {
      get(target, key) {
        if (key === "prepare") {
          return (query: string) => {
            if (!changed && query.startsWith("DELETE FROM permit_events")) {
              changed = true;
              return {
                bind: (...params: unknown[]) => ({
                  __racing: true,
                  statement: target.prepare(query).bind(...params),
                }),
              };
            }
            return target.prepare(query);
          };
        }
        if (key === "batch") {
          return async (statements: (D1PreparedStatement | { __racing: true; statement: D1PreparedStatement })[]) => {
            if (statements.some((s) => "__racing" in s)) {
              await ocTomaOk("update", { apiToken: token, referenceID: "k4-2", Amount: "9.99" });
            }
            return target.batch(statements.map((s) => ("__racing" in s ? s.statement : s)));
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    expect(await runRetention({ ...env, DB: racing }, siteId, "manual")).toMatchObject({
      outcome: "succeeded",
      counts: { deletedPermits: 2 },
    });
    expect(await count("permits", "site_id = ?", siteId)).toBe(1);
    await runByHand(slug);
    const lines = await archived(slug, "2029-12");
    expect(ids(lines)).toEqual(["k4-1", "k4-2", "k4-3"]);
    expect(lines.find((l) => l.permit.id === "k4-2")?.permit).toMatchObject({ version: 2, amountCents: 999 });
    expect(lines.find((l) => l.permit.id === "k4-2")?.history).toHaveLength(2);
  });
});

describe("archive objects", () => {
  it("a month larger than one part is uploaded in equal parts and reads back whole", async () => {
    const random = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(600))));
    const writer = new ArchiveWriter(
      env.ARCHIVE,
      "test/parts.ndjson.gz",
      { site: "t", month: "2031-01", permits: "12000" },
      5 * 1024 * 1024,
    );
    const written: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      const line = JSON.stringify({ permit: { id: `p${i}`, version: 1, noise: random() }, lotZone: null, history: [] });
      written.push(line);
      await writer.write(line);
    }
    const { bytes } = await writer.finish();
    expect(bytes).toBeGreaterThan(5 * 1024 * 1024);
    const object = await env.ARCHIVE.get("test/parts.ndjson.gz");
    expect(object?.size).toBe(bytes);
    expect(object?.customMetadata).toEqual({ site: "t", month: "2031-01", permits: "12000" });
    const read: string[] = [];
    for await (const line of archiveLines(object?.body as ReadableStream<Uint8Array>)) read.push(line);
    expect(read).toEqual(written);
  });

  it("the archive API needs an admin and names the site", async () => {
    const { slug } = await site();
    expect((await call(`/api/admin/v1/sites/${slug}/archives`)).status).toBe(401);
    expect(await (await adminCall("GET", `/sites/${slug}/archives`)).json()).toEqual({ archives: [] });
    expect((await adminCall("GET", "/sites/nope/archives")).status).toBe(404);
  });
});
