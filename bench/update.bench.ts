import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { newSite, seedPush } from "../test/helpers";
import { appPost, baseline, benchTable, throughput, throughputRatio } from "./measure";

const PERMITS = 2_000;
const OPTIONS = { total: 2_000, concurrency: 32 };

/**
 * OC-TOMA Permit Update throughput against a bare one-row D1 update by
 * primary key, both through a service binding into their Worker. Each
 * update goes through the permit's Durable Object (serialized per
 * reference, a compare-and-set on its version, a history event); every
 * call of a round changes another permit (a new end each round), so
 * references run in parallel as they would from a fleet.
 */
it("OC-TOMA update vs a bare one-row D1 update", async () => {
  const { token } = await newSite();
  await benchTable();
  const references: string[] = [];
  await throughput(PERMITS, 32, async (i) => {
    const res = await appPost("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), permitNo: `U${i}`, LicencePlate: `U${i}` });
    expect(res.status).toBe(200);
    references[i] = ((await res.json()) as { reference_id: string }).reference_id;
  });
  const ids = Array.from({ length: PERMITS }, (_, i) => `bench-update-${i}`);
  await env.DB.prepare("INSERT INTO bench_rows (id, plate, at) SELECT value, 'U', 0 FROM json_each(?)").bind(JSON.stringify(ids)).run();

  const bare = (_round: number, i: number) => baseline("/update", { id: ids[i % PERMITS] });
  const update = async (round: number, i: number) => {
    // The seed's permit ends at 09:30; round r moves it to 10:00 + r minutes.
    const endTime = `2018-07-02T10:${String(round).padStart(2, "0")}:00`;
    const res = await appPost("/api/OC-TOMA/v1/permits/update", { apiToken: token, referenceID: references[i % PERMITS], endTime });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  await throughputRatio("update through the Durable Object", OPTIONS, bare, update);
  expect(await env.DB.prepare("SELECT count(*) AS n FROM permit_events WHERE action = 'update'").first("n")).toBe(300 + 3 * 2_000);
});
