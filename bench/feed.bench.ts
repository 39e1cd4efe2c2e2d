import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { newSite } from "../test/helpers";
import { app, baseline, report, timeRatio } from "./measure";

const ACTIVE = 10_000;
/** A day of changes: two extensions of every permit of the zone, and changes in other zones of the site. */
const DAY_IN_ZONE = 2 * ACTIVE;
const DAY_ELSEWHERE = 30_000;
/** A minute of changes in the zone, what a patroller polling every minute asks for. */
const MINUTE = 50;

/**
 * The Pay-by-Plate feed of a zone holding 10,000 active permits, with a day
 * of changes in the change log: a full pull, a delta after a minute of
 * changes, and a delta over the whole day, each through the Worker (token
 * check, one batch, JSON), against a plain indexed read of the same rows
 * (one statement, its rows as JSON) by the baseline Worker, both through
 * their service binding.
 */
it("the feed of a zone with 10,000 active permits and a day of changes", async () => {
  const { token, slug } = await newSite({ zones: ["Feed", "Other"], scopes: ["lookup"] });
  const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
  const zone = async (name: string) =>
    (await env.DB.prepare("SELECT id FROM lot_zones WHERE site_id = ? AND name = ?").bind(siteId, name).first<{ id: number }>())
      ?.id as number;
  const [feedZone, otherZone] = [await zone("Feed"), await zone("Other")];
  const now = Math.floor(Date.now() / 1000);
  const seed = async (zoneId: number, prefix: string, n: number) =>
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO permits (id, site_id, type, source, plate, plate_norm, plate_state, zone_name, lot_zone_id, start_at, end_at, version, created_at, updated_at)
       SELECT ?2 || i, ?3, 'temp', 'push', 'F ' || i, 'F' || i, 'ON', 'Feed', ?4, ?5 - 3600, ?5 + 7200 + i % 3600, 1, ?5, ?5 FROM n`,
    )
      .bind(n, prefix, siteId, zoneId, now)
      .run();
  await seed(feedZone, "feed-", ACTIVE);
  await seed(otherZone, "other-", ACTIVE);

  const pull = async (continuation?: string) => {
    const query = continuation ? `?continuationToken=${encodeURIComponent(continuation)}` : "";
    const res = await app(`/api/pbp/v2014-06/zones/${feedZone}/permits${query}`, { headers: { "x-apikey": token } });
    expect(res.status).toBe(200);
    return (await res.json()) as { ContinuationToken: string; Permits: unknown[] };
  };
  const dayAgo = (await pull()).ContinuationToken;
  // A day of writes (each logged by the feed's triggers): extensions in the zone and elsewhere.
  for (let round = 1; round <= DAY_IN_ZONE / ACTIVE; round++) {
    await env.DB.prepare("UPDATE permits SET end_at = end_at + 60, version = version + 1 WHERE site_id = ? AND lot_zone_id = ?")
      .bind(siteId, feedZone)
      .run();
  }
  for (let round = 1; round <= DAY_ELSEWHERE / ACTIVE; round++) {
    await env.DB.prepare("UPDATE permits SET end_at = end_at + 60, version = version + 1 WHERE site_id = ? AND lot_zone_id = ?")
      .bind(siteId, otherZone)
      .run();
  }
  const minuteAgo = (await pull()).ContinuationToken;
  const changed = Array.from({ length: MINUTE }, (_, i) => `feed-${i * 97 + 1}`);
  await env.DB.prepare("UPDATE permits SET end_at = end_at + 60 WHERE id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(changed))
    .run();
  const logged = (await env.DB.prepare("SELECT count(*) AS n FROM permit_changes").first<{ n: number }>())?.n;

  expect((await pull()).Permits).toHaveLength(ACTIVE);
  expect((await pull(minuteAgo)).Permits).toHaveLength(MINUTE);
  expect((await pull(dayAgo)).Permits).toHaveLength(ACTIVE);

  const plainList = () =>
    baseline("/read", {
      sql: "SELECT id, plate_norm, plate_state, start_at, end_at FROM permits WHERE site_id = ? AND lot_zone_id = ? AND end_at > ? AND start_at <= ? AND deleted_at IS NULL",
      params: [siteId, feedZone, now - 900, now],
    });
  const plainRows = (ids: string[]) => () =>
    baseline("/read", {
      sql: "SELECT id, plate_norm, plate_state, start_at, end_at FROM permits WHERE id IN (SELECT value FROM json_each(?))",
      params: [JSON.stringify(ids)],
    });
  const everyId = Array.from({ length: ACTIVE }, (_, i) => `feed-${i + 1}`);

  report("change log rows (a day in this zone and others)", String(logged));
  await timeRatio(`full pull, ${ACTIVE.toLocaleString("en")} permits, vs a plain indexed read`, { runs: 10 }, plainList, () => pull());
  await timeRatio(`delta after a minute (${MINUTE} changes) vs a plain read of the rows`, { runs: 50 }, plainRows(changed), () =>
    pull(minuteAgo),
  );
  await timeRatio(
    `delta over the day (${ACTIVE.toLocaleString("en")} changed) vs a plain read of the rows`,
    { runs: 10 },
    plainRows(everyId),
    () => pull(dayAgo),
  );
});
