import { defineConfig } from "vitest/config";
import { RATE_LIMIT_BINDINGS } from "./src/routes/rate-limit.ts";
import { workersProject } from "./vitest.config.ts";

/**
 * The benchmark measures the Worker, not its refusals: every rate limiter keeps counting (its cost is measured) but
 * allows far more than a run makes.
 */
const unrefused = Object.fromEntries(
  Object.values(RATE_LIMIT_BINDINGS)
    .flatMap((byTraffic) => Object.values(byTraffic))
    .map((name, i) => [name, { namespace_id: String(9101 + i), simple: { limit: 10_000_000, period: 60 } }]),
);

// `npm run bench`: measurements inside the same workerd the tests use, reported as ratios to a baseline run beside them.
export default defineConfig(() =>
  workersProject(["bench/**/*.bench.ts"], {
    timeout: 600_000,
    // One measurement at a time: parallel files would measure each other.
    sequential: true,
    miniflare: {
      ratelimits: unrefused,
      serviceBindings: { BASELINE: "baseline" },
      workers: [
        {
          name: "baseline",
          modules: true,
          scriptPath: "./bench/baseline-worker.js",
          compatibilityDate: "2026-11-01",
          // The same local database as the Worker under test (wrangler.toml's database_id).
          d1Databases: { DB: "00000000-0000-0000-0000-000000000000" },
        },
      ],
    },
  }),
);
