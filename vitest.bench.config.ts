import { defineConfig } from "vitest/config";
import { RATE_LIMIT_BINDINGS } from "./src/domain/rate-limits.ts";
import { TEST_SECRETS, workersProject } from "./vitest.config.ts";

/** Where `npm run bench`'s pre-script (`prebench`) writes the two Workers as `wrangler deploy` would upload them. */
const BUILT_WORKER = "./.wrangler/bench-worker/index.js";
const BUILT_ADMIN_WORKER = "./.wrangler/bench-admin/admin.js";
/** wrangler.toml's local ids: the Worker under test, the baseline and the bench itself share one D1 database and one KV. */
const DATABASE_ID = "00000000-0000-0000-0000-000000000000";
const KV_ID = "00000000000000000000000000000000";
const COMPATIBILITY = { compatibilityDate: "2026-11-01", compatibilityFlags: ["nodejs_compat"] };

/**
 * The benchmark measures the Worker, not its refusals: every rate limiter keeps counting (its cost is measured) but
 * allows far more than a run makes.
 */
const unrefused = Object.fromEntries(
  Object.values(RATE_LIMIT_BINDINGS)
    .flatMap((byTraffic) => Object.values(byTraffic))
    .map((name, i) => [name, { namespace_id: String(9101 + i), simple: { limit: 10_000_000, period: 60 } }]),
);

/** What both of the project's Workers bind alike, as their wrangler configurations do: storage, the webhook queue, the secrets. */
const WORKER_STORAGE = {
  d1Databases: { DB: DATABASE_ID },
  kvNamespaces: { CACHE: KV_ID },
  r2Buckets: { ARCHIVE: "permits-edge-archive" },
  queueProducers: { WEBHOOKS: { queueName: "permits-edge-webhooks" } },
  bindings: TEST_SECRETS,
};

/** The baseline Worker's one limiter, configured like the Worker's (its `/limit` and `/limited-insert` routes). */
const baselineLimiter = { RATE_LIMIT: { namespace_id: "9199", simple: { limit: 10_000_000, period: 60 } } };

/**
 * `npm run bench`: measurements inside the same workerd the tests use, reported as ratios to a baseline run beside
 * them. Every timed path is called the same way: from the bench, through a service binding, into a Worker of its
 * own: `APP`, the public Worker as built for deployment (wrangler.toml's bindings, declared here as wrangler would,
 * with the admin Worker built beside it, as deployed, for the Durable Object it hosts), and
 * `BASELINE`, bench/baseline-worker.js. The bench's own Worker (the test runner) only seeds data and calls them.
 */
export default defineConfig(() =>
  workersProject(["bench/**/*.bench.ts"], {
    timeout: 600_000,
    // One measurement at a time: parallel files would measure each other.
    sequential: true,
    miniflare: {
      ratelimits: unrefused,
      serviceBindings: { APP: "permits-edge", BASELINE: "baseline" },
      workers: [
        {
          name: "permits-edge",
          modules: true,
          scriptPath: BUILT_WORKER,
          ...COMPATIBILITY,
          ...WORKER_STORAGE,
          // As deployed: the Durable Object class is the admin Worker's, and the admin paths are forwarded to it.
          durableObjects: { PERMIT_SEQUENCER: { className: "PermitSequencer", scriptName: "permits-edge-admin", useSQLite: true } },
          serviceBindings: { ADMIN: "permits-edge-admin" },
          ratelimits: unrefused,
        },
        {
          name: "permits-edge-admin",
          modules: true,
          scriptPath: BUILT_ADMIN_WORKER,
          ...COMPATIBILITY,
          ...WORKER_STORAGE,
          durableObjects: { PERMIT_SEQUENCER: { className: "PermitSequencer", useSQLite: true } },
        },
        {
          name: "baseline",
          modules: true,
          scriptPath: "./bench/baseline-worker.js",
          ...COMPATIBILITY,
          d1Databases: { DB: DATABASE_ID },
          kvNamespaces: { CACHE: KV_ID },
          ratelimits: baselineLimiter,
        },
      ],
    },
  }),
);
