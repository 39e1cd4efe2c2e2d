import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { newSite } from "../test/helpers";
import { app, appPost, report, timeRatio } from "./measure";

const ROWS = 1_000_000;
const ZONES = 20;

/**
 * Stats over a site holding a million permit rows (a year of history: most
 * expired, some deleted, a few thousand active, some disconnected), against
 * a plate lookup on the same site as the baseline: one indexed point query
 * through the same Worker. Both through its service binding.
 */
it("stats over a million permits", async () => {
  const zones = Array.from({ length: ZONES }, (_, i) => `Lot ${String(i + 1).padStart(2, "0")}`);
  const { token, slug } = await newSite({ zones, scopes: ["stats", "lookup"] });
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
  const zoneIds = (
    await env.DB.prepare("SELECT id FROM lot_zones WHERE site_id = ? ORDER BY id").bind(siteId).all<{ id: number }>()
  ).results.map((r) => r.id);
  const now = Math.floor(Date.now() / 1000);
  const seeded = performance.now();
  // Row i: ends somewhere in the past year, except every 250th, which is active now; every 97th is deleted; every 50th (offset 7) disconnected.
  for (let from = 0; from < ROWS; from += 100_000) {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + 99999)
       INSERT INTO permits (id, site_id, type, source, plate, plate_norm, zone_name, lot_zone_id, start_at, end_at,
                            version, created_at, updated_at, deleted_at)
       SELECT 'bench-' || i, ?2, CASE WHEN i % 10 = 0 THEN 'standard' ELSE 'temp' END, 'push', 'P' || i, 'P' || i, 'Lot',
              CASE WHEN i % 50 = 7 THEN NULL ELSE json_extract(?3, '$[' || (i % ${ZONES}) || ']') END,
              CASE WHEN i % 250 = 0 THEN ?4 - 3600 ELSE ?4 - 31536000 + (i * 31) % 31536000 - 7200 END,
              CASE WHEN i % 250 = 0 THEN ?4 + 3600 ELSE ?4 - 31536000 + (i * 31) % 31536000 END,
              1, ?4, ?4, CASE WHEN i % 97 = 0 THEN ?4 ELSE NULL END
       FROM n`,
    )
      .bind(from, siteId, JSON.stringify(zoneIds), now)
      .run();
  }
  report(`seeded ${ROWS.toLocaleString("en")} permit rows`, `${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const stats = async () => {
    const res = await appPost("/api/OC-TOMA/v1/permits/stats", { apiToken: token });
    expect(res.status).toBe(200);
    return (await res.json()) as { data: { total: string }[] };
  };
  const expected = (
    await env.DB.prepare(
      "SELECT count(*) AS n FROM permits WHERE site_id = ? AND lot_zone_id IS NOT NULL AND deleted_at IS NULL AND start_at <= ? AND end_at > ?",
    )
      .bind(siteId, now, now)
      .first<{ n: number }>()
  )?.n;
  const body = await stats();
  expect(body.data).toHaveLength(ZONES * 2);
  expect(body.data.reduce((sum, r) => sum + Number(r.total), 0)).toBe(expected);

  const lookup = async () => {
    const res = await app("/api/v1/lookup?plate=P1000", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  await timeRatio(
    `stats, all ${ZONES} lot zones, ${expected} active of ${ROWS.toLocaleString("en")} rows vs a plate lookup`,
    { runs: 50 },
    lookup,
    stats,
  );
});
