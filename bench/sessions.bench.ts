import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { bearer, sessionSite } from "../test/helpers";
import { appPost, baseline, benchTable, throughputRatio } from "./measure";

const OPTIONS = { total: 2_000, concurrency: 32 };

/**
 * Session start (POST /api/v1/sessions with an OAuth access token: the
 * running-session check and the insert in one batch) against a bare one-row
 * D1 insert; then session extension (through the session's Durable Object,
 * a compare-and-set on its version, priced at the zone's rate) against a
 * bare one-row D1 update. All through a service binding into their Worker.
 */
it("session start and extension vs a bare insert and a bare update", async () => {
  const site = await sessionSite();
  await benchTable();
  const sessions: string[] = [];
  const bareInsert = (round: number, i: number) => baseline("/insert", { id: `bench-session-${round}-${i}`, plate: "S" });
  const start = async (round: number, i: number) => {
    const res = await appPost(
      "/api/v1/sessions",
      { zone_number: "104", license_plate: `S${round}-${i}`, duration: 60 },
      bearer(site.access),
    );
    expect(res.status).toBe(201);
    sessions.push(((await res.json()) as { session_id: string }).session_id);
  };
  await throughputRatio("session start", OPTIONS, bareInsert, start);

  const rows = (await env.DB.prepare("SELECT id FROM bench_rows WHERE id LIKE 'bench-session-%'").all<{ id: string }>()).results;
  const bareUpdate = (_round: number, i: number) => baseline("/update", { id: rows[i % rows.length]?.id });
  const extend = async (_round: number, i: number) => {
    const res = await appPost(`/api/v1/sessions/${sessions[i % sessions.length]}/extend`, { duration: 1 }, bearer(site.access));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  await throughputRatio("session extension through the Durable Object", OPTIONS, bareUpdate, extend);
});
