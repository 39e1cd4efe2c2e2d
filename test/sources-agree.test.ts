import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import { TASKS } from "../src/db/tasks";
import { errorTable } from "../src/errors";
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

describe("wrangler.toml", () => {
  it("deploys the Cron Trigger of every system task", () => {
    const crons = JSON.parse(/^crons\s*=\s*(\[.*\])\s*$/m.exec(wranglerToml)?.[1] ?? "[]") as string[];
    for (const task of Object.values(TASKS)) expect(crons).toContain(task.schedule);
  });
});
