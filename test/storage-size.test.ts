import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import scaling from "../docs/scaling.md?raw";
import { syncSourceRecords } from "../src/db/permits/bulk";
import type { SourceRecord } from "../src/domain/permit";
import { newSite } from "./helpers";

// docs/scaling.md plans capacity from bytes per permit and per history event. Those figures are measured here, on the
// real schema (every index, the feed's triggers), by D1's own account of the database's size (`meta.size_after`),
// through the write path that makes them (the ParkMobile sync, one of the bulk paths). This test fails when the
// schema's cost moves more than 15% away from what the document says, so the plan cannot silently go stale.

const N = 20_000;

/** The database size D1 reports after a statement. */
async function size(): Promise<number> {
  const result = await env.DB.prepare("SELECT 1").run();
  return result.meta.size_after as number;
}

/** The figure docs/scaling.md gives for a row of its "measured" table, by the row's label. */
function documented(label: string): number {
  const row = scaling.split("\n").find((line) => line.startsWith(`| ${label} |`));
  const value = Number(row?.split("|")[2]?.trim().replace(/,/g, ""));
  if (!Number.isFinite(value)) throw new Error(`docs/scaling.md has no measured row "${label}"`);
  return value;
}

it("bytes per permit and per history event, as docs/scaling.md says", async () => {
  const { slug } = await newSite({ zones: ["4410"] });
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
  const lotZoneId = (await env.DB.prepare("SELECT id FROM lot_zones WHERE site_id = ?").bind(siteId).first<{ id: number }>())?.id as number;
  const now = Math.floor(Date.now() / 1000);
  const records = (endAt: number, amount: number): SourceRecord[] =>
    Array.from({ length: N }, (_, i) => ({
      externalId: String(700_000_000 + i),
      plate: `CFK ${String(1000 + (i % 9000))}`,
      plateNorm: `CFK${String(1000 + (i % 9000))}`,
      plateState: "ON",
      startAt: now - 3600 + (i % 600),
      endAt: endAt + (i % 600),
      amountCents: amount,
      modifiedAt: now - 3600 + (i % 600),
    }));
  const sync = (list: SourceRecord[]) =>
    syncSourceRecords(env.DB, {
      siteId,
      source: "ParkMobile",
      zoneName: "4410",
      lotZoneId,
      currency: "CAD",
      records: list,
      actor: "job:parkmobile",
      now,
    });

  // A permit, its creation event and its feed change-log row.
  let before = await size();
  expect(await sync(records(now + 3600, 650))).toMatchObject({ created: N });
  const created = ((await size()) - before) / N;

  // A later history event (an extension: end and amount changed), its change-log row, and the index entries moved.
  before = await size();
  const extended = records(now + 7200, 975).map((r) => ({ ...r, modifiedAt: (r.modifiedAt as number) + 60 }));
  expect(await sync(extended)).toMatchObject({ updated: N });
  const update = ((await size()) - before) / N;

  // A creation event alone: copies of the ones written, as new versions.
  before = await size();
  await env.DB.prepare(
    "INSERT INTO permit_events (permit_id, site_id, version, action, changes, actor, at) SELECT permit_id, site_id, 99, action, changes, actor, at FROM permit_events e WHERE version = 1 AND permit_id IN (SELECT id FROM permits WHERE site_id = ?)",
  )
    .bind(siteId)
    .run();
  const createEvent = ((await size()) - before) / N;

  // A change-log row alone.
  before = await size();
  await env.DB.prepare("INSERT INTO permit_changes (lot_zone_id, permit_id, at) SELECT lot_zone_id, id, ? FROM permits WHERE site_id = ?")
    .bind(now, siteId)
    .run();
  const logRow = ((await size()) - before) / N;

  // A run log row of the import (every 3 minutes per site that imports), with typical counts.
  before = await size();
  const counts = JSON.stringify({
    zonesMatched: 2,
    zonesSkipped: 1,
    skippedZones: ["9999"],
    rightsFetched: 16,
    created: 1,
    updated: 2,
    unchanged: 13,
    rejected: 0,
  });
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO task_runs (site_id, task, number, trigger, started_at, heartbeat_at, finished_at, outcome, message, counts, rejections)
       SELECT ?2, 'parkmobile', i, 'cron', ?3 + i * 180, ?3 + i * 180, ?3 + i * 180 + 2, 'succeeded', NULL, ?4, '[]' FROM n`,
  )
    .bind(N, siteId, now, counts)
    .run();
  const runRow = ((await size()) - before) / N;

  const measured = {
    "a permit (row and its indexes)": created - createEvent - logRow,
    "its creation event": createEvent,
    "a later history event (an extension, with the index entries it moves)": update - logRow,
    "a feed change-log row (kept 25 hours)": logRow,
    "an import run's log row": runRow,
  };
  for (const [label, bytes] of Object.entries(measured)) {
    const doc = documented(label);
    expect(Math.abs(bytes - doc) / doc, `${label}: measured ${Math.round(bytes)} bytes, documented ${doc}`).toBeLessThan(0.15);
  }
}, 120_000);
