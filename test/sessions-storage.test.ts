import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { pushPermit } from "../src/db/permits/push";
import { extendSession, listSessions, readSession, stopSession } from "../src/db/permits/sessions";
import type { NewPermit } from "../src/domain/permit";
import { count, newSite } from "./helpers";

// Session storage called directly against D1: the exclusive start inside the push batch, stop and extend as
// compare-and-set versions, and the branches a request hits only by luck (another writer between read and write).

type Row = Record<string, unknown>;

const OWNER = "oauth:oc_test";
const NOW = 1_900_000_000;

async function site() {
  const { slug } = await newSite({ zones: ["Lot 4", "Lot 5"] });
  const { id: siteId } = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>()) as { id: number };
  const zone = async (name: string) =>
    (await env.DB.prepare("SELECT id FROM lot_zones WHERE site_id = ? AND name = ?").bind(siteId, name).first<{ id: number }>())
      ?.id as number;
  await env.DB.prepare("UPDATE lot_zones SET rate_cents = 250, rate_currency = 'CAD', max_minutes = 120 WHERE id = ?")
    .bind(await zone("Lot 4"))
    .run();
  return { siteId, lot4: await zone("Lot 4"), lot5: await zone("Lot 5") };
}

const session = (siteId: number, over: Partial<NewPermit> = {}): NewPermit => ({
  siteId,
  type: "temp",
  source: "ParkOnce",
  plate: "ABC 123",
  plateNorm: "ABC123",
  zoneName: "104",
  amountCents: 100,
  currency: "CAD",
  startAt: NOW,
  endAt: NOW + 3600,
  permitNo: null,
  ticketNumber: null,
  promoCode: null,
  owner: OWNER,
  receiptEmail: "driver@example.com",
  ...over,
});

/** A D1 binding that runs `before()` once, just before the first batch it is given: another writer, at the worst moment. */
function interleaved(before: () => Promise<unknown>): D1Database {
  let done = false;
  return new Proxy(env.DB, {
    get(target, key) {
      if (key === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (!done) {
            done = true;
            await before();
          }
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const written = async () => ({
  permits: await count("permits"),
  events: await count("permit_events"),
  keys: await count("idempotency_keys"),
});
const events = async (id: string) =>
  (await env.DB.prepare("SELECT * FROM permit_events WHERE permit_id = ? ORDER BY version").bind(id).all<Row>()).results;

describe("pushPermit, exclusive (a session start)", () => {
  it("stores the session in the lot zone given, with its owner; the history never holds the e-mail", async () => {
    const { siteId, lot4 } = await site();
    const outcome = await pushPermit(env.DB, session(siteId), { actor: OWNER, now: NOW, lotZoneId: lot4, exclusive: true });
    expect(outcome).toMatchObject({ ok: true, created: true, disconnected: false });
    const id = (outcome as { reference: string }).reference;
    const row = await env.DB.prepare("SELECT * FROM permits WHERE id = ?").bind(id).first<Row>();
    expect(row).toMatchObject({ lot_zone_id: lot4, zone_name: "104", owner: OWNER, receipt_email: "driver@example.com" });
    const [created] = await events(id);
    expect(JSON.parse(created?.changes as string)).toMatchObject({ owner: [null, OWNER], zoneName: [null, "104"] });
    expect(created?.changes).not.toContain("driver@example.com");
  });

  it("refuses, writing nothing, while the owner's session of the plate runs in that zone", async () => {
    const { siteId, lot4 } = await site();
    const ctx = { actor: OWNER, now: NOW, lotZoneId: lot4, exclusive: true };
    const first = (await pushPermit(env.DB, session(siteId), ctx)) as { reference: string };
    const before = await written();
    expect(await pushPermit(env.DB, session(siteId), ctx)).toEqual({ ok: false, reason: "already-active", reference: first.reference });
    expect(await pushPermit(env.DB, session(siteId), { ...ctx, idempotency: { key: "k", requestHash: "h" } })).toEqual({
      ok: false,
      reason: "already-active",
      reference: first.reference,
    });
    // The key's claim was released with the refusal.
    expect(await written()).toEqual(before);
  });

  it("does not refuse for another owner, another zone, a stopped or an ended session", async () => {
    const { siteId, lot4, lot5 } = await site();
    const ctx = { actor: OWNER, now: NOW, lotZoneId: lot4, exclusive: true };
    const stopped = (await pushPermit(env.DB, session(siteId), ctx)) as { reference: string };
    await env.DB.prepare("UPDATE permits SET stopped_at = ?1, end_at = ?1 WHERE id = ?2").bind(NOW, stopped.reference).run();
    const ended = (await pushPermit(env.DB, session(siteId, { startAt: NOW - 7200, endAt: NOW }), ctx)) as { created: boolean };
    expect(ended.created).toBe(true);
    for (const [p, c] of [
      [session(siteId), ctx],
      [session(siteId, { owner: "oauth:oc_other" }), ctx],
      [session(siteId), { ...ctx, lotZoneId: lot5 }],
    ] as const) {
      expect(await pushPermit(env.DB, p, c)).toMatchObject({ ok: true, created: true });
    }
  });

  it("another start landing between the check and the write: refused inside the batch, its key not spent", async () => {
    const { siteId, lot4 } = await site();
    const ctx = { actor: OWNER, now: NOW, lotZoneId: lot4, exclusive: true };
    let theirs = "";
    const racing = interleaved(async () => {
      theirs = ((await pushPermit(env.DB, session(siteId), ctx)) as { reference: string }).reference;
    });
    const before = await count("idempotency_keys");
    const outcome = await pushPermit(racing, session(siteId), { ...ctx, idempotency: { key: "race", requestHash: "h" } });
    expect(outcome).toEqual({ ok: false, reason: "already-active", reference: theirs });
    expect(await count("permits", "owner = ? AND site_id = ?", OWNER, siteId)).toBe(1);
    expect(await count("idempotency_keys")).toBe(before);
  });

  it("a replayed key answers its session without a second one", async () => {
    const { siteId, lot4 } = await site();
    const ctx = { actor: OWNER, now: NOW, lotZoneId: lot4, exclusive: true, idempotency: { key: "same", requestHash: "h" } };
    const first = await pushPermit(env.DB, session(siteId), ctx);
    expect(await pushPermit(env.DB, session(siteId), ctx)).toEqual({ ...first, created: false, write: undefined });
  });

  it("a lot zone removed since it was resolved leaves the session disconnected, under the zone it was asked for", async () => {
    const { siteId, lot5 } = await site();
    await env.DB.prepare("DELETE FROM lot_zones WHERE id = ?").bind(lot5).run();
    const outcome = await pushPermit(env.DB, session(siteId), { actor: OWNER, now: NOW, lotZoneId: lot5 });
    expect(outcome).toMatchObject({ ok: true, created: true, disconnected: true });
  });
});

describe("a session start costs one D1 round trip", () => {
  /** A D1 binding that counts what reaches the database: batches and single statements. */
  function counted() {
    const calls: string[] = [];
    const db = new Proxy(env.DB, {
      get(target, key) {
        if (key === "batch") {
          return (statements: D1PreparedStatement[]) => {
            calls.push("batch");
            return target.batch(statements);
          };
        }
        if (key === "exec") {
          return (query: string) => {
            calls.push("exec");
            return target.exec(query);
          };
        }
        if (key === "prepare") {
          return (query: string) => {
            const statement = target.prepare(query);
            return new Proxy(statement, {
              get(s, k) {
                const value = Reflect.get(s, k);
                if (k === "bind") return (...args: unknown[]) => counting(value.apply(s, args) as D1PreparedStatement);
                return typeof value === "function" ? value.bind(s) : value;
              },
            });
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    /** A bound statement whose run/all/first/raw count as a query of their own (inside a batch they are not called). */
    function counting(statement: D1PreparedStatement): D1PreparedStatement {
      return new Proxy(statement, {
        get(s, k) {
          const value = Reflect.get(s, k);
          if (typeof value !== "function") return value;
          if (k === "run" || k === "all" || k === "first" || k === "raw") {
            return (...args: unknown[]) => {
              calls.push(String(k));
              return value.apply(s, args);
            };
          }
          return value.bind(s);
        },
      });
    }
    return { db, calls };
  }

  it("with or without an Idempotency-Key, and when refused for a running session", async () => {
    const { siteId, lot4 } = await site();
    const ctx = { actor: OWNER, now: NOW, lotZoneId: lot4, exclusive: true };
    for (const run of [
      (db: D1Database) => pushPermit(db, session(siteId), ctx),
      (db: D1Database) => pushPermit(db, session(siteId), ctx),
      (db: D1Database) =>
        pushPermit(db, session(siteId, { plate: "K 1", plateNorm: "K1" }), { ...ctx, idempotency: { key: "one", requestHash: "h" } }),
    ]) {
      const { db, calls } = counted();
      expect((await run(db)).ok !== undefined).toBe(true);
      expect(calls).toEqual(["batch"]);
    }
  });
});

describe("stopSession and extendSession", () => {
  async function running(over: Partial<NewPermit> = {}) {
    const { siteId, lot4 } = await site();
    const outcome = await pushPermit(env.DB, session(siteId, over), { actor: OWNER, now: NOW, lotZoneId: lot4, exclusive: true });
    return { siteId, id: (outcome as { reference: string }).reference };
  }
  const who = (siteId: number, id: string) => ({ siteId, owner: OWNER, reference: id, actor: OWNER });

  it("stop: the end becomes now, once; an ended session is expired", async () => {
    const { siteId, id } = await running();
    expect(await stopSession(env.DB, who(siteId, id), NOW + 60)).toMatchObject({ ok: true, version: 2, changed: true });
    expect(await stopSession(env.DB, who(siteId, id), NOW + 120)).toEqual({ ok: true, version: 2, changed: false });
    expect(await env.DB.prepare("SELECT end_at, stopped_at FROM permits WHERE id = ?").bind(id).first()).toEqual({
      end_at: NOW + 60,
      stopped_at: NOW + 60,
    });
    const other = await running({ plate: "X 1", plateNorm: "X1" });
    expect(await stopSession(env.DB, who(other.siteId, other.id), NOW + 3600)).toEqual({ ok: false, reason: "expired" });
  });

  it("another owner, another site, a deleted session: not found", async () => {
    const { siteId, id } = await running();
    expect(await stopSession(env.DB, { ...who(siteId, id), owner: "oauth:oc_other" }, NOW)).toEqual({ ok: false, reason: "not-found" });
    expect(await extendSession(env.DB, { ...who(siteId + 1000, id), minutes: 5, defaultCurrency: "CAD" }, NOW)).toEqual({
      ok: false,
      reason: "not-found",
    });
    expect(await readSession(env.DB, { siteId, owner: "oauth:oc_other" }, id)).toBeNull();
    await env.DB.prepare("UPDATE permits SET deleted_at = ? WHERE id = ?").bind(NOW, id).run();
    expect(await readSession(env.DB, { siteId, owner: OWNER }, id)).toBeNull();
  });

  it("extend: within the zone's maximum, priced at its rate, or at what the client sent in the session's currency", async () => {
    const { siteId, id } = await running();
    const base = { ...who(siteId, id), defaultCurrency: "CAD" };
    expect(await extendSession(env.DB, { ...base, minutes: 61 }, NOW)).toEqual({ ok: false, reason: "too-long", maxMinutes: 120 });
    expect(await extendSession(env.DB, { ...base, minutes: 25 }, NOW)).toMatchObject({ ok: true, version: 2, changed: true });
    expect(await extendSession(env.DB, { ...base, minutes: 5, amountCents: 99, currency: "USD" }, NOW)).toEqual({
      ok: false,
      reason: "currency-mismatch",
    });
    expect(await extendSession(env.DB, { ...base, minutes: 5, amountCents: 99_999_999 }, NOW)).toEqual({
      ok: false,
      reason: "amount-too-large",
    });
    expect(await extendSession(env.DB, { ...base, minutes: 5, amountCents: 99 }, NOW)).toMatchObject({
      ok: true,
      version: 3,
      changed: true,
    });
    // 100 + 25 minutes at 2.50 (1.05, rounded up) + 0.99.
    expect(await env.DB.prepare("SELECT amount_cents, end_at FROM permits WHERE id = ?").bind(id).first()).toEqual({
      amount_cents: 100 + 105 + 99,
      end_at: NOW + 3600 + 30 * 60,
    });
    await stopSession(env.DB, who(siteId, id), NOW + 1);
    expect(await extendSession(env.DB, { ...base, minutes: 5 }, NOW + 2)).toEqual({ ok: false, reason: "stopped" });
  });

  it("another writer moving the version between the read and the write: retried, nothing lost", async () => {
    const { siteId, id } = await running();
    const racing = interleaved(() => extendSession(env.DB, { ...who(siteId, id), minutes: 10, defaultCurrency: "CAD" }, NOW));
    expect(await stopSession(racing, who(siteId, id), NOW + 60)).toMatchObject({ ok: true, version: 3, changed: true });
    const history = await events(id);
    expect(history.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(JSON.parse(history[1]?.changes as string)).toEqual({ endAt: [NOW + 3600, NOW + 4200], amountCents: [100, 142] });
    expect(JSON.parse(history[2]?.changes as string)).toEqual({ endAt: [NOW + 4200, NOW + 60], stoppedAt: [null, NOW + 60] });
  });
});

describe("listSessions", () => {
  it("orders by start, then id, both descending, and continues after a cursor without skipping ties", async () => {
    const { siteId, lot4, lot5 } = await site();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const outcome = await pushPermit(env.DB, session(siteId, { plate: `T ${i}`, plateNorm: `T${i}` }), {
        actor: OWNER,
        now: NOW,
        lotZoneId: i % 2 ? lot4 : lot5,
      });
      ids.push((outcome as { reference: string }).reference);
    }
    const sorted = [...ids].sort().reverse();
    const who = { siteId, owner: OWNER };
    const first = await listSessions(env.DB, who, { limit: 3, now: NOW });
    expect(first.rows.map((r) => r.id)).toEqual(sorted.slice(0, 3));
    expect(first.hasMore).toBe(true);
    const last = first.rows.at(-1) as { startAt: number; id: string };
    const second = await listSessions(env.DB, who, { limit: 3, now: NOW, after: { startAt: last.startAt, id: last.id } });
    expect(second.rows.map((r) => r.id)).toEqual(sorted.slice(3));
    expect(second.hasMore).toBe(false);
  });
});
