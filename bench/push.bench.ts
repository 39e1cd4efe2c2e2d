import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { newSite, seedPush } from "../test/helpers";
import { appPost, baseline, benchTable, throughputRatio } from "./measure";

const OPTIONS = { total: 2_000, concurrency: 32 };

/**
 * Push throughput against a bare one-row D1 insert, side by side in one run.
 * Both are HTTP requests through a service binding into a Worker on the same
 * runtime and database: the push into this Worker as built for deployment
 * (routing, body parsing, cached token check, rate limit, validation, one D1
 * batch writing the permit and its history event); the baseline into
 * bench/baseline-worker.js, which inserts one row into a three-column table.
 */
it("push vs a bare one-row D1 insert", async () => {
  const { token } = await newSite();
  await benchTable();
  const bare = (round: number, i: number) => baseline("/insert", { plate: `B${round}-${i}` });
  const push = async (round: number, i: number) => {
    const res = await appPost("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), permitNo: `R${round}-${i}`, LicencePlate: `P${i}` });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  await throughputRatio("push", OPTIONS, bare, push);
  expect(await env.DB.prepare("SELECT count(*) AS n FROM permit_events").first("n")).toBeGreaterThanOrEqual(6_000);
});

/**
 * The same with an `Idempotency-Key` on every push (a new key each): the
 * batch also claims the key and reads back its record.
 */
it("push with an Idempotency-Key vs a bare one-row D1 insert", async () => {
  const { token } = await newSite();
  await benchTable();
  const bare = (round: number, i: number) => baseline("/insert", { plate: `K${round}-${i}` });
  const push = async (round: number, i: number) => {
    const res = await appPost(
      "/api/OC-TOMA/v1/permits/push",
      { ...seedPush(token), permitNo: `K${round}-${i}`, LicencePlate: `P${i}` },
      { "idempotency-key": `bench-${round}-${i}` },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    await res.arrayBuffer();
  };
  await throughputRatio("push with an Idempotency-Key", OPTIONS, bare, push);
});

/**
 * Where a push's time goes, in the same harness: every request the Worker
 * admits is counted by its Rate Limiting binding, which Miniflare emulates
 * with a request to a Durable Object of its own (on Cloudflare the count is
 * kept in memory on the machine and synced in the background). Two figures:
 * that call alone against the bare insert, and the push against the bare
 * insert made after the same call, which leaves what the push itself adds
 * (routing, validation, the token check, and its statements' indexes and
 * triggers over a bare one-row insert).
 */
it("push, decomposed: the rate-limit call, and the push over an insert that makes it too", async () => {
  const { token } = await newSite();
  await benchTable();
  const bare = (round: number, i: number) => baseline("/insert", { plate: `D${round}-${i}` });
  const limit = () => baseline("/limit", { key: "bench" });
  await throughputRatio("a rate-limit call alone", OPTIONS, bare, limit);
  const limited = (round: number, i: number) => baseline("/limited-insert", { key: "bench", plate: `L${round}-${i}` });
  const push = async (round: number, i: number) => {
    const res = await appPost("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), permitNo: `D${round}-${i}`, LicencePlate: `P${i}` });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  await throughputRatio("push vs a rate-limit call + insert", OPTIONS, limited, push);
});
