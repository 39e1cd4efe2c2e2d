#!/usr/bin/env node
// `npm run bench:startup`: what the Worker costs to load, beside a bare Hono app (bench/startup/bare-hono) built by the
// same wrangler in the same run. For each: the bundle `wrangler deploy --dry-run --outdir` writes (its JavaScript,
// raw and gzip, as Cloudflare counts the upload), and the start-up CPU time `wrangler check startup` profiles (its
// "Active" figure: sampled time that is not idle), several runs taken in turn, the median reported. Two references
// (bench/startup/hono-zod, hono-zod-mini) show what one zod schema adds to the bare app. Start-up is
// sampled every millisecond or so on a machine shared with everything else, so only the ratio to the bare app, taken
// in the same run, means much. STARTUP_RUNS=<n> sets the number of runs (default 9).

import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const ROOT = join(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const OUT = join(ROOT, "test-artifacts", "bench-startup");
const RUNS = Number(process.env.STARTUP_RUNS || 9);

/** What the targets ask: the Worker's bundle under 100 KiB gzip, its start-up at most twice a bare Hono app's. */
const BUNDLE_LIMIT_KIB = 100;
const STARTUP_LIMIT_RATIO = 2;

/**
 * The Workers measured, by their wrangler configuration: the baseline first, then two references (the bare app with
 * one zod schema, in zod's full API and in `zod/mini`, built as the public Worker is: what validating alone costs,
 * before any route of ours), then the project's two. The targets are the public Worker's, the one clients call; the admin Worker's figures are shown for
 * what it costs an admin.
 */
const WORKERS = [
  { name: "bare Hono (one route)", config: "bench/startup/bare-hono/wrangler.toml", baseline: true, target: false },
  { name: "Hono + zod (one schema)", config: "bench/startup/hono-zod/wrangler.toml", baseline: false, target: false },
  { name: "Hono + zod/mini (same)", config: "bench/startup/hono-zod-mini/wrangler.toml", baseline: false, target: false },
  { name: "permits-edge (public)", config: "wrangler.toml", baseline: false, target: true },
  { name: "permits-edge-admin", config: "wrangler.admin.toml", baseline: false, target: false },
] as const;

/** A CPU profile as `wrangler check startup` writes it (Chrome DevTools' format). */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Runs wrangler with `args`; exits with its output when it fails. */
function wrangler(args: string[]): string {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "true" } });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`wrangler ${args.join(" ")} failed (exit code ${result.status})`);
  }
  return result.stdout;
}

/** The JavaScript modules wrangler wrote to `dir` (not their source maps), summed: bytes raw and gzipped. */
function bundleSize(dir: string): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    if (!/\.(m?js|cjs)$/.test(file)) continue;
    const bytes = readFileSync(join(dir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  return { raw, gzip };
}

/** The profile's active time in ms, as `wrangler check startup` sums it: every sample that is not "(idle)". */
function activeMs(profile: CpuProfile): number {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === "(idle)").map((node) => node.id));
  const deltas = profile.timeDeltas ?? [];
  let active = 0;
  for (const [index, delta] of deltas.entries()) if (!idle.has(profile.samples?.[index] ?? -1)) active += delta;
  return active / 1000;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const kib = (bytes: number) => (bytes / 1024).toFixed(1);

rmSync(OUT, { recursive: true, force: true });
const built = WORKERS.map((worker, i) => {
  const dir = join(OUT, `worker-${i}`);
  mkdirSync(dir, { recursive: true });
  const outdir = join(dir, "dist");
  const bundle = join(dir, "worker.bundle");
  console.log(`building ${worker.name} (${worker.config})…`);
  // Absolute paths: wrangler reads a relative one from the configuration's folder.
  wrangler(["deploy", "-c", worker.config, "--dry-run", "--outdir", outdir]);
  wrangler(["deploy", "-c", worker.config, "--dry-run", "--outfile", bundle]);
  return { ...worker, dir, bundle, size: bundleSize(outdir), active: [] as number[], missed: 0 };
});

for (let run = 1; run <= RUNS; run++) {
  process.stdout.write(`start-up run ${run}/${RUNS}\r`);
  for (const worker of built) {
    const profile = join(worker.dir, `startup-${run}.cpuprofile`);
    wrangler(["check", "startup", "--worker", worker.bundle, "--outfile", profile]);
    // A profile with no active sample caught nothing of the start-up (it can be shorter than the sampling period).
    const ms = activeMs(JSON.parse(readFileSync(profile, "utf8")) as CpuProfile);
    if (ms > 0) worker.active.push(ms);
    else worker.missed++;
  }
}

const baseline = built.find((worker) => worker.baseline);
const baselineMs = baseline ? median(baseline.active) : Number.NaN;
const wranglerVersion = (JSON.parse(readFileSync(join(ROOT, "node_modules", "wrangler", "package.json"), "utf8")) as { version: string })
  .version;
console.log(`\nwrangler ${wranglerVersion}, ${RUNS} start-up runs each, in turn (median, then min to max):\n`);
console.log(
  `${"Worker".padEnd(28)} ${"bundle KiB".padStart(10)} ${"gzip KiB".padStart(9)} ${"start-up ms".padStart(12)} ${"ratio".padStart(6)}  runs (ms)`,
);
for (const worker of built) {
  const ms = median(worker.active);
  const range = `${Math.min(...worker.active).toFixed(1)}-${Math.max(...worker.active).toFixed(1)}${worker.missed ? ` (${worker.missed} empty)` : ""}`;
  console.log(
    `${worker.name.padEnd(28)} ${kib(worker.size.raw).padStart(10)} ${kib(worker.size.gzip).padStart(9)} ${ms.toFixed(1).padStart(12)} ${`${(ms / baselineMs).toFixed(2)}x`.padStart(6)}  ${range}`,
  );
}
console.log(
  `\nTargets for the Worker that clients call: bundle < ${BUNDLE_LIMIT_KIB} KiB gzip, start-up <= ${STARTUP_LIMIT_RATIO}x bare Hono.`,
);
for (const worker of built.filter((w) => w.target)) {
  const ratio = median(worker.active) / baselineMs;
  const bundleMet = worker.size.gzip / 1024 < BUNDLE_LIMIT_KIB;
  const startupMet = ratio <= STARTUP_LIMIT_RATIO;
  console.log(`  ${worker.name}: bundle ${bundleMet ? "met" : "NOT met"}, start-up ${startupMet ? "met" : "NOT met"}`);
}
console.log(`Profiles and bundles: ${relative(ROOT, OUT)}/`);
