import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ASSETS_DIRECTORY, DOCS_ASSETS_PATH, SWAGGER_UI_FILES, SWAGGER_UI_PATH } from "../src/routes/docs-assets.ts";
import { copyDocsAssets, SWAGGER_UI_OUT, swaggerUiDist } from "./docs-assets.ts";

// The build step of the docs page's static assets (scripts/docs-assets.ts), run on folders of its own.

const folders: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "docs-assets-"));
  folders.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const sorted = (names: readonly string[]) => [...names].sort();

describe("the docs assets build step", () => {
  it("copies exactly the listed files of swagger-ui-dist, byte for byte", () => {
    const to = join(folder(), "swagger-ui");
    const { written, removed } = copyDocsAssets(swaggerUiDist(), to);
    expect(sorted(written)).toEqual(sorted(SWAGGER_UI_FILES));
    expect(removed).toEqual([]);
    expect(sorted(readdirSync(to))).toEqual(sorted(SWAGGER_UI_FILES));
    for (const name of SWAGGER_UI_FILES) {
      expect(readFileSync(join(to, name)).equals(readFileSync(join(swaggerUiDist(), name))), name).toBe(true);
    }
  });

  it("rewrites nothing that is current, and replaces a changed file and removes a stale one", () => {
    const to = join(folder(), "swagger-ui");
    copyDocsAssets(swaggerUiDist(), to);
    const css = join(to, "swagger-ui.css");
    const before = statSync(css).mtimeMs;
    expect(copyDocsAssets(swaggerUiDist(), to)).toEqual({ written: [], removed: [] });
    expect(statSync(css).mtimeMs).toBe(before);

    writeFileSync(css, "/* edited */");
    writeFileSync(join(to, "swagger-ui-bundle.js.map"), "{}");
    mkdirSync(join(to, "old"));
    expect(copyDocsAssets(swaggerUiDist(), to)).toEqual({ written: ["swagger-ui.css"], removed: ["old", "swagger-ui-bundle.js.map"] });
    expect(readFileSync(css).equals(readFileSync(join(swaggerUiDist(), "swagger-ui.css")))).toBe(true);
    expect(sorted(readdirSync(to))).toEqual(sorted(SWAGGER_UI_FILES));
  });

  it("names a file the package lacks, and writes nothing", () => {
    const from = folder();
    writeFileSync(join(from, "swagger-ui.css"), "x");
    const to = join(folder(), "swagger-ui");
    expect(() => copyDocsAssets(from, to, ["swagger-ui.css", "swagger-ui-bundle.js"])).toThrow(/swagger-ui-bundle\.js is missing/);
    expect(() => readdirSync(to)).toThrow();
  });

  it("has run for this checkout: the assets folder holds what the page loads (npm test runs it first)", () => {
    expect(SWAGGER_UI_OUT.endsWith(join(ASSETS_DIRECTORY, SWAGGER_UI_PATH))).toBe(true);
    expect(sorted(readdirSync(SWAGGER_UI_OUT))).toEqual(sorted(SWAGGER_UI_FILES));
  });
});

describe("wrangler.toml", () => {
  const wranglerToml = readFileSync(join(import.meta.dirname, "..", "wrangler.toml"), "utf8");
  it("serves the assets folder, looks up only the docs' paths there first, and runs the build step", () => {
    const assets = /^\[assets\]\n([\s\S]*?)(?=^\[)/m.exec(wranglerToml)?.[1] ?? "";
    expect(/^directory = "(.*)"$/m.exec(assets)?.[1]).toBe(ASSETS_DIRECTORY);
    expect(JSON.parse(/^run_worker_first = (\[.*\])$/m.exec(assets)?.[1] ?? "null")).toEqual(["/*", `!${DOCS_ASSETS_PATH}/*`]);
    expect(wranglerToml).toMatch(/^\[build\]\ncommand = "node_modules\/\.bin\/node scripts\/docs-assets\.ts"$/m);
  });
});
