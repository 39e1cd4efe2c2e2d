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
 * The mean duration in ms of `runs` sequential runs of `task`, timed as one
 * span: inside workerd the clock only moves across I/O, so single short
 * spans are too coarse to time one by one.
 */
export async function meanMs(runs: number, task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < runs; i++) await task();
  return (performance.now() - started) / runs;
}

/** One line of the report. */
export function report(name: string, value: string) {
  console.log(`bench | ${name.padEnd(58)} ${value}`);
}
