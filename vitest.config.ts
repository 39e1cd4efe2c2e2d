import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { RETRY_DELAYS_SECONDS } from "./src/domain/webhooks.ts";

/** The Worker's secrets in tests and the benchmark (test values, never a deployment's). */
export const TEST_SECRETS = {
  ADMIN_TOKEN: "test-admin-secret",
  SETTINGS_KEY: "dGVzdC1zZXR0aW5ncy1rZXktMzItYnl0ZXMtbG9uZyE=",
  FEED_TOKEN_KEY: "test-feed-token-key-of-at-least-32-characters",
};

/** The Workers runtime with the project's bindings and its migrations: shared by the tests and the benchmark. */
export async function workersProject(
  include: string[],
  options: { name?: string; timeout?: number; sequential?: boolean; miniflare?: Record<string, unknown> } = {},
) {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        // The public Worker's configuration, with both Workers in one module (test/worker.ts says how).
        wrangler: { configPath: "./wrangler.toml" },
        main: "./test/worker.ts",
        miniflare: {
          // The Durable Object class is the admin Worker's (wrangler.admin.toml); here, the main module's.
          durableObjects: { PERMIT_SEQUENCER: "PermitSequencer" },
          // wrangler.toml's service binding names the admin Worker, which is not a Worker of its own here: the binding
          // points back at this one, and test/worker.ts hands the public Worker the admin Worker's handler instead.
          serviceBindings: { ADMIN: "permits-edge" },
          // Test-only bindings, typed in test/env.d.ts.
          bindings: {
            TEST_MIGRATIONS: migrations,
            ...TEST_SECRETS,
            // The webhook receiver stand-in listens on 127.0.0.1, as the sandbox's does.
            WEBHOOKS_ALLOW_LOCALHOST: "true",
          },
          // wrangler.toml's consumers, except that deliveries go out as soon as they are queued, not after a second's
          // batching. Spelled out whole: an entry given here replaces wrangler.toml's, retries and dead-letter queue too.
          queueConsumers: {
            "permits-edge-webhooks": {
              maxBatchSize: 10,
              maxBatchTimeout: 0.05,
              maxRetries: RETRY_DELAYS_SECONDS.length,
              deadLetterQueue: "permits-edge-webhooks-dlq",
            },
            "permits-edge-webhooks-dlq": { maxBatchSize: 10, maxBatchTimeout: 0.05, maxRetries: 10 },
          },
          ...options.miniflare,
        },
      }),
    ],
    test: {
      name: options.name,
      include,
      setupFiles: ["./test/apply-migrations.ts"],
      globalSetup: ["./test/global-setup.ts"],
      testTimeout: options.timeout ?? 5_000,
      fileParallelism: !options.sequential,
    },
  };
}

export default defineConfig(async () => ({
  test: {
    projects: [
      // The Worker, inside workerd.
      await workersProject(["test/**/*.test.ts"], { name: "workers" }),
      // The build scripts, in Node, where they run.
      { test: { name: "scripts", include: ["scripts/**/*.test.ts"], environment: "node" } },
    ],
  },
}));
