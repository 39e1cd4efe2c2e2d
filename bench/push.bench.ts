import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { newSite, post, seedPush } from "../test/helpers";
import { report, throughput } from "./measure";

const N = 2_000;
const CONCURRENCY = 32;

/**
 * Push throughput against a bare one-row D1 insert, side by side in one run.
 * Both are HTTP requests into a Worker on the same runtime and database: the
 * push goes through this Worker (routing, body parsing, cached token check,
 * validation, one D1 batch writing the permit and its history event); the
 * baseline Worker (bench/baseline-worker.js) inserts one row into a
 * three-column table. Alternated in rounds so drift hits both alike.
 */
it("push vs a bare one-row D1 insert", async () => {
  const { token } = await newSite();
  await env.DB.exec("CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, plate TEXT, at INTEGER)");
  const baseline = (env as unknown as { BASELINE: Fetcher }).BASELINE;
  const bare = async (i: number) => {
    const res = await baseline.fetch("http://baseline/", { method: "POST", body: JSON.stringify({ plate: `B${i}` }) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  let round = 0;
  const push = async (i: number) => {
    const res = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), permitNo: `R${round}-${i}`, LicencePlate: `P${i}` });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  await throughput(300, CONCURRENCY, push); // warm the caches and the JIT
  await throughput(300, CONCURRENCY, bare);
  const ratios: number[] = [];
  for (round = 1; round <= 3; round++) {
    const base = await throughput(N, CONCURRENCY, bare);
    const pushes = await throughput(N, CONCURRENCY, push);
    ratios.push(pushes / base);
    report(`push round ${round}: bare insert / push, req/s (${CONCURRENCY} in flight)`, `${base.toFixed(0)} / ${pushes.toFixed(0)}`);
  }
  ratios.sort((a, b) => a - b);
  report("push throughput / bare insert throughput (median of 3)", `${(ratios[1] as number).toFixed(2)}x`);
});
