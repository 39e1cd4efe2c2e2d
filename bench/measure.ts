import { env } from "cloudflare:workers";
import { expect } from "vitest";

/** The bench's service bindings (vitest.bench.config.ts): the Worker under test, as built for deployment, and the baseline Worker. */
const bound = env as unknown as { APP: Fetcher; BASELINE: Fetcher };

/** A request to the Worker under test, through its service binding. */
export function app(path: string, init: RequestInit = {}): Promise<Response> {
  return bound.APP.fetch(`http://permits.bench${path}`, init);
}

/** POSTs JSON to the Worker under test. */
export function appPost(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return app(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** A call of the baseline Worker (bench/baseline-worker.js), the same way; it must succeed. Returns its JSON. */
export async function baseline(route: "/insert" | "/update" | "/read" | "/limit" | "/limited-insert", body: unknown): Promise<unknown> {
  const res = await bound.BASELINE.fetch(`http://baseline${route}`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

/** The table the baselines write: three columns, one index (its primary key). */
export async function benchTable(): Promise<void> {
  await env.DB.exec("CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, plate TEXT, at INTEGER)");
}

/** Runs `task` `total` times with at most `concurrency` in flight; returns completions per second. */
export async function throughput(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return (total * 1000) / (performance.now() - started);
}

/**
 * Throughput of `timed` against `base`, side by side: both warmed, then
 * alternated in `rounds` rounds of `total` calls (so drift hits both alike),
 * each round reported; answers the median ratio (timed / base). A task gets
 * the round (from 0, the warm-up) and the call's index in it.
 */
export async function throughputRatio(
  name: string,
  options: { total: number; concurrency: number; rounds?: number; warm?: number },
  base: (round: number, i: number) => Promise<unknown>,
  timed: (round: number, i: number) => Promise<unknown>,
): Promise<number> {
  const { total, concurrency, rounds = 3, warm = 300 } = options;
  await throughput(warm, concurrency, (i) => timed(0, i));
  await throughput(warm, concurrency, (i) => base(0, i));
  const ratios: number[] = [];
  const bases: number[] = [];
  const timeds: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const b = await throughput(total, concurrency, (i) => base(round, i));
    const t = await throughput(total, concurrency, (i) => timed(round, i));
    bases.push(b);
    timeds.push(t);
    ratios.push(t / b);
    report(`${name} round ${round}: it / baseline, req/s (${concurrency} in flight)`, `${t.toFixed(0)} / ${b.toFixed(0)}`);
  }
  const ratio = median(ratios);
  report(
    `${name}: it / baseline (req/s, median of ${rounds})`,
    `${median(timeds).toFixed(0)} / ${median(bases).toFixed(0)} (${ratio.toFixed(2)}x)`,
  );
  return ratio;
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The mean duration in ms of `runs` sequential runs of `task`, timed as one
 * span: inside workerd the clock only moves across I/O, so single short
 * spans are too coarse to time one by one.
 */
export async function meanMs(runs: number, task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < runs; i++) await task();
  return (performance.now() - started) / runs;
}

/**
 * Mean times of `timed` against `base`, side by side: alternated in `rounds`
 * rounds of `runs` calls each; answers the median ratio (timed / base) and
 * reports it with the median times.
 */
export async function timeRatio(
  name: string,
  options: { runs: number; rounds?: number },
  base: () => Promise<unknown>,
  timed: () => Promise<unknown>,
): Promise<number> {
  const { runs, rounds = 3 } = options;
  await base();
  await timed();
  const baseMs: number[] = [];
  const timedMs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const b = await meanMs(runs, base);
    const t = await meanMs(runs, timed);
    baseMs.push(b);
    timedMs.push(t);
    ratios.push(t / b);
  }
  const ratio = median(ratios);
  const digits = median(baseMs) < 10 ? 2 : 1;
  report(
    `${name}: it / baseline (mean ms, median of ${rounds})`,
    `${median(timedMs).toFixed(digits)} / ${median(baseMs).toFixed(digits)} (${ratio.toFixed(2)}x)`,
  );
  return ratio;
}

/** One line of the report. */
export function report(name: string, value: string) {
  console.log(`bench | ${name.padEnd(72)} ${value}`);
}
