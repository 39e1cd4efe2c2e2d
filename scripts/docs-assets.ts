#!/usr/bin/env node
// The build step of the docs page's static assets: copies the files of Swagger UI that /docs loads
// (src/routes/docs-assets.ts lists them) out of the npm package swagger-ui-dist into public/docs/assets/swagger-ui/,
// which wrangler serves as Workers static assets. wrangler runs it before `wrangler dev` (npm start, the end-to-end
// tests) and `wrangler deploy` (and its dry run) through `[build]` in wrangler.toml; npm runs it before `npm test`.
// It writes only what changed and removes what the list no longer names, so a re-run leaves the folder untouched.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ASSETS_DIRECTORY, SWAGGER_UI_FILES, SWAGGER_UI_PATH } from "../src/routes/docs-assets.ts";

const ROOT = join(import.meta.dirname, "..");

/** Where the build step writes Swagger UI's files. */
export const SWAGGER_UI_OUT = join(ROOT, ASSETS_DIRECTORY, SWAGGER_UI_PATH);

/** The folder of the installed swagger-ui-dist package. */
export function swaggerUiDist(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

/**
 * Makes `to` hold exactly `files` of `from`, byte for byte: writes a file that is missing or differs, removes any
 * other file of `to` (a name dropped from the list, an older build's leftovers). Throws, naming it, when `from`
 * lacks one of `files` (a swagger-ui-dist that no longer ships it), before writing anything.
 */
export function copyDocsAssets(
  from: string,
  to: string,
  files: readonly string[] = SWAGGER_UI_FILES,
): { written: string[]; removed: string[] } {
  const sources = files.map((name) => {
    const path = join(from, name);
    if (!existsSync(path)) throw new Error(`${path} is missing: the docs page needs ${name} from swagger-ui-dist.`);
    return { name, bytes: readFileSync(path) };
  });
  mkdirSync(to, { recursive: true });
  const written: string[] = [];
  for (const { name, bytes } of sources) {
    const target = join(to, name);
    if (existsSync(target) && readFileSync(target).equals(bytes)) continue;
    writeFileSync(target, bytes);
    written.push(name);
  }
  const removed = readdirSync(to).filter((name) => !files.includes(name));
  for (const name of removed) rmSync(join(to, name), { recursive: true, force: true });
  return { written, removed };
}

if (import.meta.main) {
  const { written, removed } = copyDocsAssets(swaggerUiDist(), SWAGGER_UI_OUT);
  if (written.length > 0 || removed.length > 0) {
    const changes = [...written.map((name) => `wrote ${name}`), ...removed.map((name) => `removed ${name}`)];
    console.log(`docs assets (${join(ASSETS_DIRECTORY, SWAGGER_UI_PATH)}): ${changes.join(", ")}`);
  }
}
