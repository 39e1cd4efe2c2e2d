import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import adminCommands from "../scripts/admin-commands.ts?raw";
import { TASKS } from "../src/db/tasks";
import { RATE_LIMIT_BINDINGS, RATE_LIMITS, RATE_PERIOD_SECONDS, RATE_TIERS, TRAFFIC } from "../src/domain/rate-limits";
import { REPORT_MAX_DAYS } from "../src/domain/report";
import { MAX_ATTEMPTS, PREVIOUS_SECRET_HOURS, RETRY_DELAYS_SECONDS } from "../src/domain/webhooks";
import { errorTable } from "../src/errors";
import { STUCK_AFTER_SECONDS } from "../src/webhooks/sweep";
import wranglerAdminToml from "../wrangler.admin.toml?raw";
import wranglerToml from "../wrangler.toml?raw";

// What is written twice, once for people (the README) or the platform (wrangler.toml) and once in the code, must agree.

describe("the README's error table", () => {
  it("lists exactly the code table's codes, with their HTTP statuses and meanings", () => {
    const section = readme.slice(readme.indexOf("| code | HTTP | meaning |"));
    const rows = section
      .split("\n")
      .slice(2)
      .filter((line) => /^\| \d{4} \|/.test(line))
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .map(([, code, statuses, meaning]) => ({ code: Number(code), statuses: statuses?.split(" / ").map(Number), summary: meaning }));
    expect(rows).toEqual(errorTable.map((row) => ({ code: row.code, statuses: [...row.statuses], summary: row.summary })));
  });
});

describe("the README's numbers", () => {
  // The README wraps its lines: a phrase is looked for with any run of spaces or line breaks between its words.
  const says = (text: string, phrase: string) => expect(text.replace(/\s+/g, " "), phrase).toContain(phrase);

  it("the transactions report's longest range, also in the CLI's help", () => {
    says(readme, `at most ${REPORT_MAX_DAYS} days`);
    says(adminCommands, `at most ${REPORT_MAX_DAYS} days`);
  });

  it("how long a rotated webhook secret keeps signing", () => {
    says(readme, `For ${PREVIOUS_SECRET_HOURS} hours after a rotation`);
    says(readme, `keeps signing beside it for ${PREVIOUS_SECRET_HOURS} hours`);
  });

  it("the webhook retry schedule, its attempts and wrangler.toml's max_retries", () => {
    const spoken = (seconds: number) => (seconds < 60 ? `${seconds} s` : seconds < 3600 ? `${seconds / 60} min` : `${seconds / 3600} h`);
    says(readme, `| after the previous | at once | ${RETRY_DELAYS_SECONDS.map(spoken).join(" | ")} |`);
    says(readme, `When the ${MAX_ATTEMPTS}th attempt fails`);
    says(readme, `\`max_retries = ${MAX_ATTEMPTS - 1}\``);
    expect(wranglerToml).toMatch(new RegExp(`max_retries = ${MAX_ATTEMPTS - 1}\\b`));
  });

  it("when the sweep starts again a delivery whose message was lost", () => {
    says(readme, `the sweep starts again ${STUCK_AFTER_SECONDS / 60} minutes later`);
  });
});

describe("wrangler.toml", () => {
  it("deploys the Cron Trigger of every system task", () => {
    const crons = JSON.parse(/^crons\s*=\s*(\[.*\])\s*$/m.exec(wranglerToml)?.[1] ?? "[]") as string[];
    for (const task of Object.values(TASKS)) expect(crons).toContain(task.schedule);
  });

  it("binds one rate limiter per tier and traffic, with RATE_LIMITS' numbers, each in its own namespace", () => {
    const blocks = wranglerToml
      .split("[[ratelimits]]")
      .slice(1)
      .map((block) => ({
        name: /name = "([^"]+)"/.exec(block)?.[1],
        namespace: /namespace_id = "(\d+)"/.exec(block)?.[1],
        limit: Number(/limit = (\d+)/.exec(block)?.[1]),
        period: Number(/period = (\d+)/.exec(block)?.[1]),
      }));
    const expected = RATE_TIERS.flatMap((tier) =>
      TRAFFIC.map((traffic) => ({
        name: RATE_LIMIT_BINDINGS[tier][traffic],
        limit: RATE_LIMITS[tier][traffic],
        period: RATE_PERIOD_SECONDS,
      })),
    );
    expect(blocks.map(({ namespace: _, ...b }) => b)).toEqual(expected);
    expect(new Set(blocks.map((b) => b.namespace)).size).toBe(blocks.length);
  });
});

/** The value of `key = "…"` in each `[[table]]` block (or `[table]`) of a wrangler file, in order. */
function values(toml: string, table: string, key: string): string[] {
  return toml
    .split(`[${table}]`)
    .slice(1)
    .map((block) => new RegExp(`^${key} = "([^"]+)"`, "m").exec(block.split(/^\[/m)[0] ?? "")?.[1] ?? "");
}

describe("wrangler.admin.toml", () => {
  const adminName = /^name = "([^"]+)"/m.exec(wranglerAdminToml)?.[1];

  it("binds the public Worker's D1 database, KV namespace, R2 bucket and webhook queue", () => {
    for (const [table, key] of [
      ["[d1_databases]", "database_id"],
      ["[d1_databases]", "database_name"],
      ["[kv_namespaces]", "id"],
      ["[r2_buckets]", "bucket_name"],
      ["[queues.producers]", "queue"],
    ] as const) {
      expect(values(wranglerAdminToml, table, key), `${table} ${key}`).toEqual(values(wranglerToml, table, key));
    }
  });

  it("is the Worker the public one forwards to and whose Durable Object class it binds, with no address of its own", () => {
    expect(values(wranglerToml, "[services]", "service")).toEqual([adminName]);
    expect(values(wranglerToml, "[durable_objects.bindings]", "script_name")).toEqual([adminName]);
    expect(values(wranglerAdminToml, "[durable_objects.bindings]", "class_name")).toEqual(["PermitSequencer"]);
    expect(wranglerAdminToml).toMatch(/^workers_dev = false$/m);
    expect(wranglerAdminToml).not.toMatch(/^routes? =|^\[\[routes\]\]|^\[triggers\]|^\[\[queues\.consumers\]\]/m);
  });

  it("builds like the public Worker: date, flags, minification without kept names, zod's locale alias", () => {
    for (const key of ["compatibility_date", "compatibility_flags", "minify", "keep_names"]) {
      const line = new RegExp(`^${key} = .*$`, "m");
      expect(line.exec(wranglerAdminToml)?.[0], key).toBe(line.exec(wranglerToml)?.[0]);
    }
    const alias = (toml: string) => /^\[alias\]\n((?:.+\n)+)/m.exec(toml)?.[1];
    expect(alias(wranglerAdminToml)).toBe(alias(wranglerToml));
  });
});
