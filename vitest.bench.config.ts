import { defineConfig } from "vitest/config";
import { workersProject } from "./vitest.config.ts";

// `npm run bench`: measurements inside the same workerd the tests use, reported as ratios to a baseline run beside them.
export default defineConfig(() =>
  workersProject(["bench/**/*.bench.ts"], {
    timeout: 600_000,
    // One measurement at a time: parallel files would measure each other.
    sequential: true,
    miniflare: {
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
