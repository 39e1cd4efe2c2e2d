#!/usr/bin/env node
// `npm run lint:openapi`: lints the OpenAPI document the Worker serves at /openapi.json with Redocly CLI and the
// rules of redocly.yaml. The document comes from the code itself: src/app.ts bundled for Node by esbuild and asked
// for it, as the Worker's route does (no Worker started, no network). It is left in test-artifacts/openapi/ so the
// lines a finding names can be read.

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "test-artifacts", "openapi");
/** The server the document names: a deployment's origin (the Worker names whichever origin it was reached at). */
const SERVER = "https://permits-edge.workers.dev";

/**
 * `cloudflare:workers` is the runtime's own module, which Node lacks; the app only extends its `DurableObject`
 * class (src/durable/), which building the document never instantiates.
 */
const workersRuntime: Plugin = {
  name: "cloudflare-workers-runtime",
  setup(build) {
    build.onResolve({ filter: /^cloudflare:workers$/ }, (args) => ({ path: args.path, namespace: "workers-runtime" }));
    build.onLoad({ filter: /.*/, namespace: "workers-runtime" }, () => ({
      contents: "export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }",
      loader: "js",
    }));
  },
};

mkdirSync(OUT, { recursive: true });
const bundle = join(OUT, "app.mjs");
await build({
  entryPoints: [join(ROOT, "src", "app.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: bundle,
  plugins: [workersRuntime],
  logLevel: "warning",
});
const { openApiDocument } = (await import(pathToFileURL(bundle).href)) as { openApiDocument: (origin: string) => unknown };
const documentFile = join(OUT, "openapi.json");
writeFileSync(documentFile, `${JSON.stringify(openApiDocument(SERVER), null, 2)}\n`);

const redocly = join(dirname(createRequire(import.meta.url).resolve("@redocly/cli/package.json")), "bin", "cli.js");
const lint = spawnSync(process.execPath, [redocly, "lint", relative(ROOT, documentFile), "--config", "redocly.yaml"], {
  cwd: ROOT,
  stdio: "inherit",
  // No usage report sent, no look-up of a newer version: a lint run needs no network.
  env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
});
process.exitCode = lint.status ?? 1;
