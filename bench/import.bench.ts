import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { ParkMobileFake } from "../scripts/parkmobile-fake";
import { runParkMobileImport } from "../src/parkmobile/import";
import { adminCall, newSite } from "../test/helpers";
import { benchTable, median, report } from "./measure";

/**
 * One "Fetch ParkMobile Stats" run importing 10,000 rights across 20 zones
 * (the fake answers in-process, so this times our side: mapping and D1), then
 * the same run again with nothing changed (comparing every zone, as after a
 * change to one of the site's stored ParkMobile permits, and skipping every
 * zone, as a run after one that compared equal does), against the time of a plain
 * 10,000-row insert into a three-column table as the baseline. Both are
 * called from the bench's own Worker (the import is a scheduled job, not a
 * request), each against the same database.
 */
it("a ParkMobile import of 10,000 rights across 20 zones", async () => {
  const credentials = { username: "u", password: "p", apiKey: "k" };
  const fake = new ParkMobileFake(credentials);
  const codes = Array.from({ length: 20 }, (_, i) => String(6000 + i));
  const site = await newSite({ zones: codes });
  await adminCall("PUT", `/sites/${site.slug}/parkmobile`, { ...credentials, baseUrl: "https://pm.bench" });
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(site.slug).first<{ id: number }>())?.id as number;
  const now = Math.floor(Date.now() / 1000);
  for (const code of codes) {
    fake.addZone(code);
    for (let i = 0; i < 500; i++) fake.addRight(code, { plate: `B${code}N${i}`, start: now - 3600 + i, minutes: 120 });
  }
  await benchTable();
  // The baseline: one statement inserting 10,000 rows into a three-column table.
  const bareInsert = async () => {
    const rows = JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ id: crypto.randomUUID(), plate: `P${i}` })));
    const started = performance.now();
    await env.DB.prepare(
      "INSERT INTO bench_rows (id, plate, at) SELECT json_extract(value, '$.id'), json_extract(value, '$.plate'), 0 FROM json_each(?)",
    )
      .bind(rows)
      .run();
    return performance.now() - started;
  };
  const bare: number[] = [await bareInsert()];

  const started = performance.now();
  const first = await runParkMobileImport(env, siteId, "manual", fake.fetch);
  const firstMs = performance.now() - started;
  expect(first?.counts).toMatchObject({ created: 10_000 });
  bare.push(await bareInsert());
  // Nothing changed at ParkMobile. A run compares every zone when one of the site's stored ParkMobile permits changed
  // since the zone last compared equal (counted as any such change counts itself), and skips the zone otherwise.
  const run = async (counted: boolean) => {
    if (counted) await env.DB.prepare("UPDATE sites SET parkmobile_edits = parkmobile_edits + 1 WHERE id = ?").bind(siteId).run();
    const at = performance.now();
    const rerun = await runParkMobileImport(env, siteId, "manual", fake.fetch);
    const ms = performance.now() - at;
    expect(rerun?.counts).toMatchObject({ unchanged: 10_000 });
    return ms;
  };
  const compared: number[] = [];
  const skipped: number[] = [];
  for (let round = 0; round < 3; round++) {
    compared.push(await run(true));
    skipped.push(await run(false));
    bare.push(await bareInsert());
  }
  const base = median(bare);
  const ratio = (ms: number) => `${ms.toFixed(0)} (${(ms / base).toFixed(1)}x)`;
  report("10,000-row bare insert, the baseline (median ms)", base.toFixed(0));
  report("import run creating 10,000 permits in 20 zones (ms)", ratio(firstMs));
  report("the same run again, nothing changed, every zone compared (median of 3, ms)", ratio(median(compared)));
  report("the same run again, nothing changed since it compared equal (median of 3, ms)", ratio(median(skipped)));
});
