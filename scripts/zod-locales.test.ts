import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// wrangler.toml's `[alias]` gives the Worker's bundle zod's English locale alone (src/zod-locales.ts). The tests run
// the source through Vite, which never sees that alias, so this builds a probe with wrangler itself, the alias and
// minification as wrangler.toml sets them, and compares what zod says inside that bundle with what it says here.

const ROOT = join(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** Schemas and inputs whose issues carry zod's own words (every kind of issue our error mapping passes through). */
const PROBE = `
import { z } from "zod";
const cases = [
  [z.string().regex(/^\\d{1,30}$/), "12a"],
  [z.number().int(), 1.5],
  [z.string(), 4],
  [z.string().max(2), "abc"],
  [z.array(z.string()).min(1), []],
  [z.email(), "nobody"],
  [z.url(), "not a url"],
  [z.iso.datetime(), "2026-02-30"],
  [z.enum(["push", "lookup"]), "pull"],
  [z.number().multipleOf(5), 7],
  [z.strictObject({ a: z.string() }), { a: "x", b: 1 }],
  [z.union([z.string(), z.number()]), null],
  [z.record(z.string().length(3), z.number()), { abcd: 1 }],
];
export const messages = cases.map(([schema, input]) => schema.safeParse(input).error.issues.map((issue) => issue.message));
export const locales = Object.keys(z.locales);
export default { fetch: () => new Response(JSON.stringify(messages)) };
`;

const work = join(ROOT, "test-artifacts", "zod-locales");
mkdirSync(work, { recursive: true });
const dir = mkdtempSync(join(work, "probe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** wrangler.toml's `[alias]` table, its targets made absolute (wrangler resolves them from the configuration's folder). */
function aliasSection(): string {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const section = /^\[alias\]\n((?:"[^"\n]+" = "[^"\n]+"\n)+)/m.exec(toml)?.[1];
  if (!section) throw new Error("wrangler.toml has no [alias] table of quoted entries");
  return section.replace(/= "(\.[^"]+)"/g, (_, target: string) => `= ${JSON.stringify(resolve(ROOT, target))}`);
}

describe("zod's messages in wrangler's bundle", () => {
  it("are English and word for word zod's own, with no other locale bundled", async () => {
    writeFileSync(join(dir, "probe.js"), PROBE);
    writeFileSync(
      join(dir, "wrangler.toml"),
      `name = "zod-locales-probe"\nmain = "probe.js"\ncompatibility_date = "2026-11-01"\nminify = true\nkeep_names = false\n\n[alias]\n${aliasSection()}`,
    );
    const build = spawnSync(
      process.execPath,
      [WRANGLER, "deploy", "-c", join(dir, "wrangler.toml"), "--dry-run", "--outdir", join(dir, "dist")],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, CI: "true" },
      },
    );
    expect(build.status, build.stderr).toBe(0);

    writeFileSync(join(dir, "source.mjs"), PROBE);
    const source = (await import(pathToFileURL(join(dir, "source.mjs")).href)) as { messages: string[][]; locales: string[] };
    const bundled = (await import(pathToFileURL(join(dir, "dist", "probe.js")).href)) as typeof source;

    expect(source.locales).toContain("de");
    expect(bundled.locales).toEqual(["en"]);
    expect(bundled.messages).toEqual(source.messages);
    expect(source.messages[0]).toEqual(["Invalid string: must match pattern /^\\d{1,30}$/"]);
    expect(readFileSync(join(dir, "dist", "probe.js"), "utf8")).not.toMatch(/Ungültig|Entrada inválida|無効な入力/);
  }, 60_000);
});
