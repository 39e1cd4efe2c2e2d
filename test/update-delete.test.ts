import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminCall, count, newSite, ocTomaOk, post, pushed } from "./helpers";

const OC = "/api/OC-TOMA/v1/permits";
type Body = Record<string, unknown>;

async function fails(path: string, body: Body, code: number, status: number, field?: string) {
  const before = { permits: await count("permits", "version > 1 OR deleted_at IS NOT NULL"), events: await count("permit_events") };
  const res = await post(`${OC}/${path}`, body);
  const json = (await res.json()) as Body;
  expect(json, JSON.stringify(json)).toMatchObject({ status: "error", ErrorCode: code, ...(field ? { field } : {}) });
  expect(res.status).toBe(status);
  expect({ permits: await count("permits", "version > 1 OR deleted_at IS NOT NULL"), events: await count("permit_events") }).toEqual(
    before,
  );
}

const row = (id: string) => env.DB.prepare("SELECT * FROM permits WHERE id = ?").bind(id).first<Body>();
const history = async (id: string) =>
  (await env.DB.prepare("SELECT * FROM permit_events WHERE permit_id = ? ORDER BY version").bind(id).all<Body>()).results;

describe("update: seed 001's example", () => {
  it("answers the seed's body with the same reference and the new version", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    // The seed's update body, verbatim but for the token and reference.
    const json = await ocTomaOk("update", {
      apiToken: token,
      referenceID: reference,
      plate: "PL8RDR",
      Amount: "14.50",
      currency: "CAD",
      endTime: "2018-07-02T09:30:00",
    });
    // Every value equals the stored one: nothing changes, nothing is written, the version stays.
    expect(json).toEqual({ status: "success", reference_id: reference, InternalReferenceID: reference, version: 1 });
    const changed = await ocTomaOk("update", {
      apiToken: token,
      referenceID: reference,
      plate: "NEW 123",
      Amount: "20.00",
      endTime: "2018-07-02T10:30:00",
    });
    expect(changed.version).toBe(2);
    expect(await row(reference)).toMatchObject({
      plate: "NEW 123",
      plate_norm: "NEW123",
      amount_cents: 2000,
      currency: "CAD",
      end_at: Date.UTC(2018, 6, 2, 10, 30) / 1000,
      version: 2,
    });
    const events = await history(reference);
    expect(events.map((e) => e.action)).toEqual(["create", "update"]);
    expect(JSON.parse(events[1]?.changes as string)).toEqual({
      plate: ["PL8RDR", "NEW 123"],
      plateNorm: ["PL8RDR", "NEW123"],
      amountCents: [1450, 2000],
      endAt: [1530523800, 1530527400],
    });
    expect(events[1]?.actor).toMatch(/^token:tk_/);
  });

  it.each(["referenceID", "referenceid", "reference_id"])("reads the reference as %s", async (name) => {
    const { token } = await newSite();
    const reference = await pushed(token);
    expect((await ocTomaOk("update", { apiToken: token, [name]: reference, currency: "USD" })).version).toBe(2);
  });

  it("reads plate/LicencePlate, amount/Amount, currency/CurrencyID, endTime/EndDateUtc", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    await ocTomaOk("update", {
      apiToken: token,
      referenceID: reference,
      LicencePlate: "ZZZ1",
      amount: 3,
      CurrencyID: "USD",
      EndDateUtc: "2018-07-02T11:00:00Z",
    });
    expect(await row(reference)).toMatchObject({
      plate: "ZZZ1",
      amount_cents: 300,
      currency: "USD",
      end_at: Date.UTC(2018, 6, 2, 11) / 1000,
    });
  });
});

describe("update: errors", () => {
  it("a missing reference is 9008; an unknown, foreign or deleted one 9009 (404)", async () => {
    const { token } = await newSite();
    const other = await newSite();
    const theirs = await pushed(other.token);
    await fails("update", { apiToken: token, plate: "X1" }, 9008, 400, "referenceID");
    await fails("update", { apiToken: token, referenceID: "1a9b5375-cb75-4c71-9939-eeae550b09ac", plate: "X1" }, 9009, 404, "referenceID");
    await fails("update", { apiToken: token, referenceID: theirs, plate: "X1" }, 9009, 404, "referenceID");
    const mine = await pushed(token);
    await ocTomaOk("delete", { apiToken: token, referenceID: mine });
    await fails("update", { apiToken: token, referenceID: mine, plate: "X1" }, 9009, 404, "referenceID");
  });

  it("applies the push's limits and codes", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    const base = { apiToken: token, referenceID: reference };
    await fails("update", { ...base, plate: "A".repeat(26) }, 9030, 400, "plate");
    await fails("update", { ...base, Amount: "14.5" }, 9033, 400, "Amount");
    await fails("update", { ...base, currency: "EUR" }, 9033, 400, "currency");
    await fails("update", { ...base, endTime: "2026-02-30T10:00:00" }, 9005, 400, "endTime");
    await fails("update", { ...base, plate: "A1", LicencePlate: "B2" }, 9033, 400, "LicencePlate");
    await fails("update", { ...base, referenceID: "not a reference!" }, 9033, 400, "referenceID");
    await fails("update", { ...base, referenceID: "r".repeat(51) }, 9030, 400, "referenceID");
  });

  it("the new end must be after the record's start (9005)", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    await fails("update", { apiToken: token, referenceID: reference, EndDateUtc: "2018-07-02T09:00:00" }, 9005, 400, "EndDateUtc");
  });

  it("needs the update scope; delete needs the delete scope", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    const { slug } = await newSite();
    const res = await adminCall("POST", `/sites/${slug}/tokens`, { scopes: ["push"] });
    const pushOnly = ((await res.json()) as { token: string }).token;
    await fails("update", { apiToken: pushOnly, referenceID: reference, plate: "X1" }, 9002, 403, "apiToken");
    await fails("delete", { apiToken: pushOnly, referenceID: reference }, 9002, 403, "apiToken");
  });
});

describe("delete", () => {
  it("answers the seed's body; deleting again answers success again", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    const first = await ocTomaOk("delete", { apiToken: token, referenceID: reference });
    expect(first).toEqual({ status: "success", reference_id: reference, InternalReferenceID: reference, version: 2 });
    expect((await row(reference))?.deleted_at).toEqual(expect.any(Number));
    expect(await ocTomaOk("delete", { apiToken: token, reference_id: reference })).toEqual(first);
    expect((await history(reference)).map((e) => e.action)).toEqual(["create", "delete"]);
  });

  it("an unknown or foreign reference is 9009; no reference 9008", async () => {
    const { token } = await newSite();
    const other = await newSite();
    await fails("delete", { apiToken: token, referenceID: await pushed(other.token) }, 9009, 404, "referenceID");
    await fails("delete", { apiToken: token }, 9008, 400, "referenceID");
  });

  it("a deleted permit frees its receipt: the same push creates a new record", async () => {
    const { token } = await newSite();
    const first = await pushed(token);
    await ocTomaOk("delete", { apiToken: token, referenceID: first });
    expect(await pushed(token)).not.toBe(first);
  });
});

describe("one reference at a time", () => {
  it("50 concurrent updates with different values: versions 2…51, the last one stored, all in the history", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        ocTomaOk("update", { apiToken: token, referenceID: reference, Amount: `${100 + i}.00`, plate: `RACE${i}` }).then((json) => ({
          i,
          version: json.version as number,
        })),
      ),
    );
    const versions = answers.map((a) => a.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    const winner = answers.find((a) => a.version === 51) as { i: number };
    expect(await row(reference)).toMatchObject({ version: 51, amount_cents: (100 + winner.i) * 100, plate: `RACE${winner.i}` });
    const events = await history(reference);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    // Each answer's version is the event that carries its values.
    for (const a of answers) {
      const changes = JSON.parse(events[a.version - 1]?.changes as string) as Record<string, [unknown, unknown]>;
      expect(changes.amountCents?.[1]).toBe((100 + a.i) * 100);
    }
  });

  it("concurrent updates and deletes racing on one reference: every call answered, one delete event, versions contiguous", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    const calls = Array.from({ length: 30 }, (_, i) =>
      i % 10 === 5
        ? post(`${OC}/delete`, { apiToken: token, referenceID: reference })
        : post(`${OC}/update`, { apiToken: token, referenceID: reference, Amount: `${200 + i}.00` }),
    );
    const statuses = await Promise.all(calls.map(async (p) => (await p).status));
    expect(statuses.every((s) => s === 200 || s === 404)).toBe(true);
    const events = await history(reference);
    expect(events.filter((e) => e.action === "delete")).toHaveLength(1);
    expect(events.at(-1)?.action).toBe("delete");
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    // Every update applied before the delete answered 200, every one after it 404; every delete answered 200.
    const applied = events.filter((e) => e.action === "update").length;
    const deletes = calls.filter((_, i) => i % 10 === 5).length;
    expect(statuses.filter((s) => s === 200)).toHaveLength(applied + deletes);
  });

  it("different references proceed independently", async () => {
    const { token } = await newSite();
    const refs = await Promise.all(Array.from({ length: 10 }, (_, i) => pushed(token, { permitNo: `IND-${i}` })));
    const answers = await Promise.all(refs.map((r) => ocTomaOk("update", { apiToken: token, referenceID: r, Amount: "1.00" })));
    expect(answers.every((a) => a.version === 2)).toBe(true);
  });

  it("the compare-and-set holds when another writer moved the version (a restarted or second object)", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    // Another writer bumps the version behind the object's back.
    await env.DB.prepare("UPDATE permits SET version = 7 WHERE id = ?").bind(reference).run();
    expect((await ocTomaOk("update", { apiToken: token, referenceID: reference, Amount: "9.99" })).version).toBe(8);
    const stub = env.PERMIT_SEQUENCER.get(env.PERMIT_SEQUENCER.idFromName(reference));
    const result = await runInDurableObject(stub, async (instance) => {
      // Two calls into the same instance while D1 is slow to answer still run one after the other.
      const site = (await env.DB.prepare("SELECT site_id FROM permits WHERE id = ?").bind(reference).first<{ site_id: number }>())
        ?.site_id as number;
      const common = { siteId: site, reference, writer: "vendor" as const, defaultCurrency: "CAD", actor: "test" };
      return Promise.all([
        instance.update({ ...common, change: { amountCents: 1 } }),
        instance.update({ ...common, change: { amountCents: 2 } }),
      ]);
    });
    // Each answer carries the D1 bookmark after its write, for the client's next read.
    expect(result).toEqual([
      { ok: true, version: 9, changed: true, bookmark: expect.any(String) },
      { ok: true, version: 10, changed: true, bookmark: expect.any(String) },
    ]);
  });
});
