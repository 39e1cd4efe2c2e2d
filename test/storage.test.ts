import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sentDigest, syncSourceRecords } from "../src/db/permits/bulk";
import { IDEMPOTENCY_WINDOW_SECONDS, pushPermit } from "../src/db/permits/push";
import { checkPlates, countActive, everyPermit } from "../src/db/permits/reads";
import { everyTransaction } from "../src/db/permits/report";
import { updatePermit } from "../src/db/permits/versions";
import { touchToken } from "../src/db/tokens";
import type { NewPermit, SourceRecord } from "../src/domain/permit";
import { nowSeconds } from "../src/domain/time";
import { count, newSite, queryPlans } from "./helpers";

// The permit storage functions called directly against D1, beside the HTTP tests that reach them through the Worker:
// the branches a request can only hit by luck (a replay racing a first write, a compare-and-set lost to another writer).

type Row = Record<string, unknown>;

/** Each test site's first lot zone, by site id. */
const firstZone = new Map<number, number>();

async function site(zones = ["Lot 4"]) {
  const { slug, tokenId } = await newSite({ zones });
  const row = await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>();
  const siteId = row?.id as number;
  const zone = await env.DB.prepare("SELECT id FROM lot_zones WHERE site_id = ? AND name = ?")
    .bind(siteId, zones[0])
    .first<{ id: number }>();
  if (zone) firstZone.set(siteId, zone.id);
  return { siteId, tokenId };
}

const permit = (siteId: number, over: Partial<NewPermit> = {}): NewPermit => ({
  siteId,
  type: "temp",
  source: "push",
  plate: "ABC 123",
  plateNorm: "ABC123",
  zoneName: "Lot 4",
  amountCents: 1450,
  currency: "CAD",
  startAt: 1_800_000_000,
  endAt: 1_800_003_600,
  permitNo: "R-1",
  ticketNumber: null,
  promoCode: null,
  ...over,
});

const events = async (id: string) =>
  (await env.DB.prepare("SELECT * FROM permit_events WHERE permit_id = ? ORDER BY version").bind(id).all<Row>()).results;

/** A D1 binding that runs `before(call)` before each batch it is given (`call` counts from 0): another writer, at the worst moment. */
function beforeEachBatch(before: (call: number) => Promise<unknown>): D1Database {
  let calls = 0;
  return new Proxy(env.DB, {
    get(target, key) {
      if (key === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await before(calls++);
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A D1 binding that runs `before()` once, just before the first batch it is given. */
const interleaved = (before: () => Promise<unknown>) => beforeEachBatch(async (call) => (call === 0 ? before() : undefined));

describe("pushPermit", () => {
  it("stores the permit, matched to its lot zone, with a creation event holding every value", async () => {
    const { siteId } = await site();
    const outcome = await pushPermit(env.DB, permit(siteId), { actor: "test", now: 100 });
    expect(outcome).toMatchObject({ ok: true, created: true, disconnected: false });
    const reference = (outcome as { reference: string }).reference;
    const [event] = await events(reference);
    expect(event).toMatchObject({ version: 1, action: "create", actor: "test", at: 100 });
    expect(JSON.parse(event?.changes as string)).toEqual({
      type: [null, "temp"],
      source: [null, "push"],
      plate: [null, "ABC 123"],
      plateNorm: [null, "ABC123"],
      zoneName: [null, "Lot 4"],
      amountCents: [null, 1450],
      currency: [null, "CAD"],
      startAt: [null, 1_800_000_000],
      endAt: [null, 1_800_003_600],
      permitNo: [null, "R-1"],
    });
  });

  it("flags a zone that names no lot zone as disconnected", async () => {
    const { siteId } = await site();
    const outcome = await pushPermit(env.DB, permit(siteId, { zoneName: "Lot 99" }), { actor: "t", now: 1 });
    expect(outcome).toMatchObject({ ok: true, created: true, disconnected: true });
  });

  it("a replay without a key answers the live record with the same receipt, writing nothing", async () => {
    const { siteId } = await site();
    const ctx = { actor: "t", now: 1 };
    const first = await pushPermit(env.DB, permit(siteId), ctx);
    const before = { permits: await count("permits"), events: await count("permit_events") };
    const again = await pushPermit(env.DB, permit(siteId, { amountCents: 9999 }), ctx);
    expect(again).toEqual({ ...first, created: false, write: undefined });
    expect({ permits: await count("permits"), events: await count("permit_events") }).toEqual(before);
  });

  it("a key replays its first answer; the same key with another request is a conflict that writes nothing", async () => {
    const { siteId } = await site();
    const ctx = { actor: "t", now: 1_000_000 };
    const first = await pushPermit(env.DB, permit(siteId), { ...ctx, idempotency: { key: "k1", requestHash: "h1" } });
    const replay = await pushPermit(env.DB, permit(siteId), { ...ctx, idempotency: { key: "k1", requestHash: "h1" } });
    expect(replay).toEqual({ ...first, created: false, write: undefined });
    const before = { permits: await count("permits"), events: await count("permit_events") };
    const other = permit(siteId, { permitNo: "R-2" });
    expect(await pushPermit(env.DB, other, { ...ctx, idempotency: { key: "k1", requestHash: "h2" } })).toEqual({
      ok: false,
      reason: "idempotency-conflict",
    });
    expect({ permits: await count("permits"), events: await count("permit_events") }).toEqual(before);
  });

  it("a key older than the window is taken over by a new request", async () => {
    const { siteId } = await site();
    const then = 1_000_000;
    await pushPermit(env.DB, permit(siteId), {
      actor: "t",
      now: then,
      idempotency: { key: "k", requestHash: "h1" },
    });
    const later = then + IDEMPOTENCY_WINDOW_SECONDS;
    const outcome = await pushPermit(env.DB, permit(siteId, { permitNo: "R-2" }), {
      actor: "t",
      now: later,
      idempotency: { key: "k", requestHash: "h2" },
    });
    expect(outcome).toMatchObject({ ok: true, created: true });
  });

  it("a new key for a known receipt answers the known record and keeps answering it", async () => {
    const { siteId } = await site();
    const ctx = { actor: "t", now: 1 };
    const first = await pushPermit(env.DB, permit(siteId), ctx);
    const keyed = await pushPermit(env.DB, permit(siteId), { ...ctx, idempotency: { key: "late", requestHash: "h" } });
    expect(keyed).toEqual({ ...first, created: false, write: undefined });
    const key = await env.DB.prepare("SELECT permit_id FROM idempotency_keys WHERE site_id = ? AND key = 'late'").bind(siteId).first<Row>();
    expect(key?.permit_id).toBe((first as { reference: string }).reference);
  });
});

describe("touchToken", () => {
  it("records a token's use at most once a minute", async () => {
    const { tokenId } = await site();
    const lastUsed = async () =>
      (await env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE id = ?").bind(tokenId).first<Row>())?.last_used_at;
    for (const [now, expected] of [
      [1000, 1000],
      [1030, 1000],
      [1061, 1061],
    ]) {
      await touchToken(env.DB, tokenId, now as number).run();
      expect(await lastUsed()).toBe(expected);
    }
  });
});

describe("updatePermit: the compare-and-set", () => {
  it("retries when another writer moved the version between its read and its write, and lands as the next version", async () => {
    const { siteId } = await site();
    const pushed = (await pushPermit(env.DB, permit(siteId), { actor: "t", now: 1 })) as { reference: string };
    const bump = () => env.DB.prepare("UPDATE permits SET version = version + 1 WHERE id = ?").bind(pushed.reference).run();
    const request = {
      siteId,
      reference: pushed.reference,
      writer: "vendor" as const,
      change: { amountCents: 1 },
      defaultCurrency: "CAD",
      actor: "t",
    };
    expect(await updatePermit(interleaved(bump), request, 2)).toMatchObject({ ok: true, version: 3, changed: true });
    // The lost attempt wrote no event: only the create (1) and the update that won (3).
    expect((await events(pushed.reference)).map((e) => e.version)).toEqual([1, 3]);
  });

  it("gives up, writing nothing, when it loses every attempt", async () => {
    const { siteId } = await site();
    const pushed = (await pushPermit(env.DB, permit(siteId), { actor: "t", now: 1 })) as { reference: string };
    const alwaysLosing = beforeEachBatch(() =>
      env.DB.prepare("UPDATE permits SET version = version + 1 WHERE id = ?").bind(pushed.reference).run(),
    );
    const request = {
      siteId,
      reference: pushed.reference,
      writer: "vendor" as const,
      change: { amountCents: 1 },
      defaultCurrency: "CAD",
      actor: "t",
    };
    await expect(updatePermit(alwaysLosing, request, 2)).rejects.toThrow(/compare-and-set lost 5 times/);
    expect(await events(pushed.reference)).toHaveLength(1);
  });

  it("answers not-found for another site's permit and end-not-after-start for an end before the start", async () => {
    const { siteId } = await site();
    const other = await site();
    const pushed = (await pushPermit(env.DB, permit(siteId), { actor: "t", now: 1 })) as { reference: string };
    const base = { reference: pushed.reference, writer: "vendor" as const, defaultCurrency: "CAD", actor: "t" };
    expect(await updatePermit(env.DB, { ...base, siteId: other.siteId, change: { amountCents: 1 } }, 2)).toEqual({
      ok: false,
      reason: "not-found",
    });
    expect(await updatePermit(env.DB, { ...base, siteId, change: { endAt: 1_800_000_000 } }, 2)).toEqual({
      ok: false,
      reason: "end-not-after-start",
    });
  });
});

describe("syncSourceRecords", () => {
  const record = (over: Partial<SourceRecord> = {}): SourceRecord => ({
    externalId: "700000001",
    plate: "PM 1",
    plateNorm: "PM1",
    plateState: null,
    startAt: 1_800_000_000,
    endAt: 1_800_003_600,
    amountCents: 300,
    modifiedAt: 1_800_000_000,
    ...over,
  });
  const input = (siteId: number, records: SourceRecord[], now = 10) => ({
    siteId,
    source: "ParkMobile",
    zoneName: "4410",
    lotZoneId: firstZone.get(siteId) as number,
    currency: "CAD",
    records,
    actor: "job:test",
    now,
  });
  const stored = (siteId: number, externalId: string) =>
    env.DB.prepare("SELECT * FROM permits WHERE site_id = ? AND external_id = ?").bind(siteId, externalId).first<Row>();

  it("inserts unknown records in their lot zone; the same records again write nothing", async () => {
    const { siteId } = await site(["4410"]);
    const records = [record(), record({ externalId: "700000002", plate: "PM 2", plateNorm: "PM2" })];
    expect(await syncSourceRecords(env.DB, input(siteId, records))).toEqual({ created: 2, updated: 0, unchanged: 0, equal: false });
    expect(await stored(siteId, "700000001")).toMatchObject({ source: "ParkMobile", lot_zone_id: expect.any(Number), version: 1 });
    const before = await count("permit_events");
    expect(await syncSourceRecords(env.DB, input(siteId, records, 20))).toEqual({ created: 0, updated: 0, unchanged: 2, equal: true });
    expect(await count("permit_events")).toBe(before);
  });

  it("a changed record becomes the next version with its changes in the history", async () => {
    const { siteId } = await site(["4410"]);
    await syncSourceRecords(env.DB, input(siteId, [record()]));
    const extended = record({ endAt: 1_800_005_400, amountCents: 450, modifiedAt: 1_800_001_000 });
    expect(await syncSourceRecords(env.DB, input(siteId, [extended], 20))).toEqual({ created: 0, updated: 1, unchanged: 0, equal: false });
    const row = await stored(siteId, "700000001");
    expect(row).toMatchObject({ version: 2, end_at: 1_800_005_400, amount_cents: 450, source_modified_at: 1_800_001_000 });
    const [, update] = await events(row?.id as string);
    expect(update).toMatchObject({ version: 2, action: "update", actor: "job:test", at: 20 });
    expect(JSON.parse(update?.changes as string)).toEqual({
      endAt: [1_800_003_600, 1_800_005_400],
      amountCents: [300, 450],
      sourceModifiedAt: [1_800_000_000, 1_800_001_000],
    });
  });

  it("a stale answer (modified before what is stored) never rolls a record back", async () => {
    const { siteId } = await site(["4410"]);
    await syncSourceRecords(env.DB, input(siteId, [record({ endAt: 1_800_005_400, modifiedAt: 1_800_001_000 })]));
    const stale = record({ endAt: 1_800_003_600, modifiedAt: 1_800_000_500 });
    expect(await syncSourceRecords(env.DB, input(siteId, [stale], 20))).toEqual({ created: 0, updated: 0, unchanged: 1, equal: true });
    expect(await stored(siteId, "700000001")).toMatchObject({ version: 1, end_at: 1_800_005_400 });
  });

  it("every stored column the comparison reads is one the count of ParkMobile changes watches", async () => {
    const trigger = await env.DB.prepare(
      "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'permits_parkmobile_update'",
    ).first<{
      sql: string;
    }>();
    const watched = /AFTER UPDATE OF (.*) ON/
      .exec(trigger?.sql ?? "")?.[1]
      ?.replace(/`/g, "")
      .split(/,\s*/);
    // The comparison's stored side: the columns syncSourceRecords reads and compares, and deleted_at, which it obeys.
    const compared = ["plate", "plate_norm", "plate_state", "start_at", "end_at", "amount_cents", "source_modified_at", "deleted_at"];
    expect(watched?.sort()).toEqual(compared.sort());
  });

  it("a zone's digest: the same for the same records in any order; another for any compared value or the zone", async () => {
    const zone = { zoneName: "4410", lotZoneId: 7, currency: "CAD" };
    const two = [record(), record({ externalId: "700000002", plate: "PM 2", plateNorm: "PM2" })];
    const digest = await sentDigest(zone, two);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await sentDigest(zone, [...two].reverse())).toBe(digest);
    const changed: Partial<SourceRecord>[] = [
      { externalId: "700000009" },
      { plate: "PM 9" },
      { plateNorm: "PM9" },
      { plateState: "ON" },
      { startAt: 1_800_000_001 },
      { endAt: 1_800_003_601 },
      { amountCents: 301 },
      { amountCents: null },
      { modifiedAt: 1_800_000_001 },
      { modifiedAt: null },
    ];
    for (const over of changed)
      expect(await sentDigest(zone, [record(over), two[1] as SourceRecord]), JSON.stringify(over)).not.toBe(digest);
    for (const other of [{ zoneName: "4411" }, { lotZoneId: 8 }, { currency: "USD" }]) {
      expect(await sentDigest({ ...zone, ...other }, two), JSON.stringify(other)).not.toBe(digest);
    }
    expect(await sentDigest(zone, two.slice(0, 1))).not.toBe(digest);
  });

  it("a replay racing the first run: the unique source id absorbs it, counted unchanged, one permit and one event", async () => {
    const { siteId } = await site(["4410"]);
    const records = [record()];
    // Another run writes the same records after this one has read, before it writes.
    const racing = interleaved(() => syncSourceRecords(env.DB, input(siteId, records)));
    expect(await syncSourceRecords(racing, input(siteId, records, 20))).toEqual({ created: 0, updated: 0, unchanged: 1, equal: false });
    expect(await count("permits", "site_id = ? AND external_id = '700000001'", siteId)).toBe(1);
    expect(await events((await stored(siteId, "700000001"))?.id as string)).toHaveLength(1);
  });

  it("an update that loses its compare-and-set is counted unchanged and writes no event; the next run applies it", async () => {
    const { siteId } = await site(["4410"]);
    await syncSourceRecords(env.DB, input(siteId, [record()]));
    const id = (await stored(siteId, "700000001"))?.id as string;
    const extended = record({ endAt: 1_800_005_400, modifiedAt: 1_800_001_000 });
    const racing = interleaved(() => env.DB.prepare("UPDATE permits SET version = version + 1 WHERE id = ?").bind(id).run());
    expect(await syncSourceRecords(racing, input(siteId, [extended], 20))).toEqual({ created: 0, updated: 0, unchanged: 1, equal: false });
    expect(await events(id)).toHaveLength(1);
    expect(await syncSourceRecords(env.DB, input(siteId, [extended], 30))).toEqual({ created: 0, updated: 1, unchanged: 0, equal: false });
    expect(await stored(siteId, "700000001")).toMatchObject({ version: 3, end_at: 1_800_005_400 });
  });

  it("compares inside its read: one seek of the source-id index per record, and no write when nothing changed", async () => {
    const { siteId } = await site(["4410"]);
    const records = [record(), record({ externalId: "700000002", plate: "PM 2", plateNorm: "PM2" })];
    await syncSourceRecords(env.DB, input(siteId, records));
    let counts: unknown;
    const plans = await queryPlans(async (d1) => {
      counts = await syncSourceRecords(d1, input(siteId, records, 20));
    });
    expect(counts).toEqual({ created: 0, updated: 0, unchanged: 2, equal: true });
    expect(plans).toHaveLength(1);
    expect(plans[0]?.plan).toMatch(/SEARCH p USING INDEX permits_external \(site_id=\? AND source=\? AND external_id=\?\)/);
  });

  it("never revives a deleted record", async () => {
    const { siteId } = await site(["4410"]);
    await syncSourceRecords(env.DB, input(siteId, [record()]));
    await env.DB.prepare("UPDATE permits SET deleted_at = 15 WHERE site_id = ? AND external_id = '700000001'").bind(siteId).run();
    const extended = record({ endAt: 1_800_005_400, modifiedAt: 1_800_001_000 });
    expect(await syncSourceRecords(env.DB, input(siteId, [extended], 20))).toEqual({ created: 0, updated: 0, unchanged: 1, equal: true });
  });
});

describe("reads use their indexes", () => {
  /** The plans of the statements a read sends. */
  const statementPlans = async (read: (d1: D1Database) => Promise<unknown>) => (await queryPlans(read)).map((p) => p.plan);

  /** The plan of the one statement a read sends. */
  async function plansOf(read: (d1: D1Database) => Promise<unknown>): Promise<string> {
    const plans = await statementPlans(read);
    expect(plans).toHaveLength(1);
    return plans[0] as string;
  }

  const check = (siteId: number, over: Partial<Parameters<typeof checkPlates>[1]> = {}) => ({
    siteId,
    plates: ["ABC123"],
    now: nowSeconds(),
    graceSeconds: 900,
    limit: 100,
    ...over,
  });

  it("the plate check seeks permits_plate_active", async () => {
    const { siteId } = await site();
    expect(await plansOf((d1) => checkPlates(d1, check(siteId)))).toMatch(
      /SEARCH p USING INDEX permits_plate_active \(site_id=\? AND plate_norm=\? AND end_at>\?\)/,
    );
  });

  it("the confusable plate check seeks permits_plate_folded, with zones and a state too", async () => {
    const { siteId } = await site();
    const plan = await plansOf((d1) =>
      checkPlates(d1, check(siteId, { confusables: true, lotZoneIds: [1, 2], plateState: "ON", plates: ["0BC123", "ABC"] })),
    );
    expect(plan).toMatch(/SEARCH p USING INDEX permits_plate_folded \(site_id=\? AND plate_folded=\? AND end_at>\?\)/);
    expect(plan).not.toMatch(/SCAN p\b/);
  });

  it("the stats count reads only the covering index permits_zone_live", async () => {
    const { siteId } = await site();
    expect(await plansOf((d1) => countActive(d1, siteId, [1, 2], nowSeconds()))).toMatch(
      /USING COVERING INDEX permits_zone_live \(site_id=\? AND lot_zone_id=\? AND end_at>\?\)/,
    );
  });

  it("an export's later batches seek past the last row read on permits_site_start, not from the start", async () => {
    const { siteId } = await site();
    await manyPermits(siteId, 3, 7);
    const plans = await statementPlans(async (d1) => {
      for await (const _ of everyPermit(d1, siteId, { type: "temp" }, 2));
    });
    expect(plans).toHaveLength(2);
    expect(plans[1]).toMatch(/SEARCH permits USING INDEX permits_site_start \(site_id=\? AND type=\? AND start_at<\?\)/);
  });

  it("the transactions report seeks permit_events_site_at past the last row read, and each event's earlier values by its key", async () => {
    const { siteId } = await site();
    await manyPermits(siteId, 3, 3);
    await env.DB.prepare(
      `INSERT INTO permit_events (permit_id, site_id, version, action, changes, actor, at)
       SELECT id, site_id, 1, 'create', '{"amountCents":[null,100]}', 'test', start_at FROM permits WHERE site_id = ?`,
    )
      .bind(siteId)
      .run();
    const plans = await statementPlans(async (d1) => {
      // Events at 1000 to 1002: the first day's slice is two batches (the second past the last row read), then an empty day.
      for await (const _ of everyTransaction(d1, { siteId, from: 0, to: 2 * 86_400, source: "push" }, 2));
    });
    expect(plans).toHaveLength(3);
    expect(plans[0]).toMatch(/SEARCH e USING INDEX permit_events_site_at \(site_id=\? AND at>\? AND at<\?\)/);
    expect(plans[1]).toMatch(
      /SEARCH e USING INDEX permit_events_site_at \(site_id=\? AND \(at,permit_id,version\)>\(\?,\?,\?\) AND at<\?\)/,
    );
    for (const plan of plans) {
      expect(plan).toMatch(/SEARCH p USING INDEX sqlite_autoindex_permits_1 \(id=\?\)/);
      expect(plan).toMatch(/SEARCH h USING INDEX sqlite_autoindex_permit_events_1 \(permit_id=\? AND version<\?\)/);
      expect(plan).not.toMatch(/SCAN|TEMP B-TREE/);
    }
  });
});

/** Inserts `n` temporary permits of a site whose starts repeat every `distinct` rows (so many share a start). */
async function manyPermits(siteId: number, n: number, distinct: number) {
  await env.DB.prepare(
    `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ?2 - 1)
     INSERT INTO permits (id, site_id, type, source, plate, plate_norm, start_at, end_at, version, created_at, updated_at)
     SELECT printf('k%d-%05d', ?1, (i * 7919) % ?2), ?1, 'temp', 'push', 'K' || i, 'K' || i, 1000 + i % ?3, 5000, 1, 1, 1 FROM k`,
  )
    .bind(siteId, n, distinct)
    .run();
}

describe("exports", () => {
  it("every permit once, in order, when starts tie across batch boundaries", async () => {
    const { siteId } = await site();
    await manyPermits(siteId, 1201, 7);
    const seen: { id: string; startAt: number }[] = [];
    for await (const batch of everyPermit(env.DB, siteId, { type: "temp" }, 500)) seen.push(...batch);
    expect(seen).toHaveLength(1201);
    expect(new Set(seen.map((p) => p.id)).size).toBe(1201);
    const ordered = [...seen].sort((a, b) => b.startAt - a.startAt || (a.id < b.id ? -1 : 1));
    expect(seen.map((p) => p.id)).toEqual(ordered.map((p) => p.id));
  });
});
