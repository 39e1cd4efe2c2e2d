#!/usr/bin/env node
// The admin CLI: a thin client of the admin API (/api/admin/v1). Every rule lives in the Worker.
//
//   npm run admin -- site list                      the local sandbox (`npm start`)
//   npm run admin -- --url https://… site list      a deployed Worker (ADMIN_TOKEN from the environment)
//
// Each command is declared once in COMMANDS: its arguments, its options, the request it makes and how its answer is
// shown. The usage text and the argument parser are both derived from that table.

import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse as parseCsv } from "csv-parse/sync";
import type { AdminClient, Answer } from "../src/routes/admin/client.ts";
import { describeRun } from "../src/routes/admin/client.ts";
import { connect, sandboxSecret, Unreachable } from "./admin-api.ts";

type Data<M extends keyof AdminClient> = Awaited<ReturnType<AdminClient[M]>> extends Answer<infer T> ? T : never;

/** A mistake in the command line: reported with the usage text, exit code 2. */
class UsageError extends Error {}

/** An error answer of the admin API, or a failure to reach it: exit code 1. */
class CommandError extends Error {}

interface OptionSpec {
  /** The value's placeholder in the usage text. */
  value: string;
  required?: boolean;
  /** An environment variable that gives the option when the flag is absent (secrets stay out of shell history). */
  env?: string;
}

interface CommandSpec<T> {
  group: string;
  args: string[];
  options: Record<string, OptionSpec>;
  /** At least one of the (optional) options must be given. */
  needsOneOption?: boolean;
  /** More lines for the usage text. */
  help?: string;
  run(api: AdminClient, args: Record<string, string>, options: Record<string, string | undefined>): Promise<Answer<T>>;
  show(data: T, context: { options: Record<string, string | undefined>; sources: Record<string, string> }): void;
  /** The exit code of an answer that is not an error (a failed run is a failure of `task run`). */
  exitCode?(data: T): number;
  /** Rewords an API error in the command's own terms. */
  explain?(message: string): string;
}

/** Declares one command (typing its `show` from its `run`). */
const command = <T>(spec: CommandSpec<T>) => spec as CommandSpec<unknown>;

const SITE = { site: { value: "slug", required: true } } satisfies Record<string, OptionSpec>;

const COMMANDS: Record<string, CommandSpec<unknown>> = {
  "site create": command({
    group: "Sites",
    args: ["slug"],
    options: { name: { value: "name" }, currencies: { value: "CAD,USD" } },
    run: (api, a, o) => api.createSite({ slug: a.slug as string, name: o.name, currencies: list(o.currencies) }),
    show: showSite,
  }),
  "site list": command({
    group: "Sites",
    args: [],
    options: {},
    run: (api) => api.listSites(),
    show: (r) => table(r.sites, SITE_COLUMNS),
  }),
  "site show": command({ group: "Sites", args: ["slug"], options: {}, run: (api, a) => api.getSite(a.slug as string), show: showSite }),
  "site update": command({
    group: "Sites",
    args: ["slug"],
    options: { name: { value: "name" }, currencies: { value: "CAD,USD" }, "grace-minutes": { value: "0-1440" } },
    needsOneOption: true,
    help: "--grace-minutes: how long after its end a permit still answers plate checks, flagged (15 by default)",
    run: (api, a, o) =>
      api.updateSite(a.slug as string, { name: o.name, currencies: list(o.currencies), graceMinutes: number(o["grace-minutes"]) }),
    explain: (message) => message.replace(/\bgraceMinutes\b/g, "grace-minutes"),
    show: showSite,
  }),
  "token create": command({
    group: "API tokens",
    args: [],
    options: { ...SITE, scopes: { value: "push,update,…", required: true }, label: { value: "label" } },
    run: (api, _, o) => api.createToken(o.site as string, { scopes: list(o.scopes) as Data<"createToken">["scopes"], label: o.label }),
    show: (r) => showNewToken(r, "Issued"),
  }),
  "token list": command({
    group: "API tokens",
    args: [],
    options: SITE,
    run: (api, _, o) => api.listTokens(o.site as string),
    show: (r) => table(r.tokens, TOKEN_COLUMNS),
  }),
  "token revoke": command({
    group: "API tokens",
    args: ["id"],
    options: {},
    run: (api, a) => api.revokeToken(a.id as string),
    show: (r) => console.log(`Revoked token ${r.id} (${r.prefix}…) at ${r.revokedAt}.`),
  }),
  "token rotate": command({
    group: "API tokens",
    args: ["id"],
    options: {},
    run: (api, a) => api.rotateToken(a.id as string),
    show: (r) => showNewToken(r, "Rotated; the old secret no longer works"),
  }),
  "zone add": command({
    group: "Lot zones",
    args: ["name"],
    options: SITE,
    run: (api, a, o) => api.addZone(o.site as string, a.name as string),
    show: (r) => console.log(`Added lot zone "${r.name}" (id ${r.id}); ${r.reconnected} disconnected record(s) reconnected.`),
  }),
  "zone list": command({
    group: "Lot zones",
    args: [],
    options: SITE,
    run: (api, _, o) => api.listZones(o.site as string),
    show: (r) => table(r.zones, ZONE_COLUMNS),
  }),
  "zone rename": command({
    group: "Lot zones",
    args: ["old name or id", "new name"],
    options: SITE,
    run: (api, a, o) => api.renameZone(o.site as string, a["old name or id"] as string, a["new name"] as string),
    show: (r) => console.log(`Lot zone ${r.id} is now "${r.name}"; ${r.reconnected} disconnected record(s) reconnected.`),
  }),
  "zone remove": command({
    group: "Lot zones",
    args: ["name or id"],
    options: SITE,
    run: (api, a, o) => api.removeZone(o.site as string, a["name or id"] as string),
    show: (r) => console.log(`Removed lot zone "${r.removed.name}" (id ${r.removed.id}); ${r.disconnected} record(s) now disconnected.`),
  }),
  "permit show": command({
    group: "Permits",
    args: ["reference"],
    options: {},
    run: (api, a) => api.getPermit(a.reference as string),
    show: showPermit,
  }),
  "permit add": command({
    group: "Permits",
    args: [],
    options: {
      ...SITE,
      plate: { value: "plate", required: true },
      zone: { value: "lot zone", required: true },
      start: { value: "time", required: true },
      end: { value: "time", required: true },
      "permit-no": { value: "no" },
    },
    run: (api, _, o) =>
      api.createStandardPermits(o.site as string, {
        permits: [
          {
            plate: o.plate as string,
            zone: o.zone as string,
            startTime: o.start as string,
            endTime: o.end as string,
            permitNo: o["permit-no"],
          },
        ],
      }),
    show: showCreated,
  }),
  "permit import": command({
    group: "Permits",
    args: ["file.csv"],
    options: SITE,
    help: `standard (long-term) permits; the CSV has a header row with the columns
plate, zone, startTime, endTime and optionally permitNo; times are UTC
Y-m-d\\TH:i:s. All rows or none are created; rows already present are skipped.`,
    run: (api, a, o) => api.createStandardPermits(o.site as string, { permits: readPermitsCsv(a["file.csv"] as string) }),
    show: showCreated,
    /** API errors name `permits.<index>.<field>`: say which line of the file that is. */
    explain: (message) => {
      const row = message.match(/permits\.(\d+)\./);
      return row ? `line ${Number(row[1]) + 2} of the file: ${message.replace(/permits\.\d+\./g, "")}` : message;
    },
  }),
  "parkmobile show": command({
    group: "ParkMobile",
    args: [],
    options: SITE,
    run: (api, _, o) => api.getParkMobile(o.site as string),
    show: (r, { options }) => showParkMobile(r, options.site as string),
  }),
  "parkmobile set": command({
    group: "ParkMobile",
    args: [],
    options: {
      ...SITE,
      username: { value: "u", env: "PARKMOBILE_USERNAME" },
      password: { value: "p", env: "PARKMOBILE_PASSWORD" },
      "api-key": { value: "k", env: "PARKMOBILE_API_KEY" },
      "base-url": { value: "url" },
    },
    needsOneOption: true,
    help: `the credentials the import uses (stored encrypted; shown masked). Instead of
the flags, the secrets can come from PARKMOBILE_USERNAME, PARKMOBILE_PASSWORD
and PARKMOBILE_API_KEY, so they stay out of the shell history (a flag wins).
The first save needs all three; later ones change only what is given.`,
    run: (api, _, o) =>
      api.setParkMobile(o.site as string, { username: o.username, password: o.password, apiKey: o["api-key"], baseUrl: o["base-url"] }),
    /** The API names fields as its JSON does: name them as the flags here. */
    explain: (message) => message.replace(/\bapiKey\b/g, "api-key").replace(/\bbaseUrl\b/g, "base-url"),
    show: (r, { options, sources }) => {
      const saved = ["username", "password", "api-key", "base-url"].filter((option) => options[option] !== undefined);
      const named = saved.map((option) => (sources[option] ? `${option} (from ${sources[option]})` : option));
      console.log(`Saved ${named.join(", ")}.\n`);
      showParkMobile(r, options.site as string);
    },
  }),
  "retention show": command({
    group: "Retention",
    args: [],
    options: SITE,
    run: (api, _, o) => api.getRetention(o.site as string),
    show: (r, { options }) => showRetention(r, options.site as string),
  }),
  "retention set": command({
    group: "Retention",
    args: [],
    options: { ...SITE, "anonymize-after-days": { value: "days" }, "archive-after-months": { value: "months" } },
    needsOneOption: true,
    help: `plates of permits ended more than <days> ago are removed (90 by default); permits
ended more than <months> ago are archived to R2 by month, then deleted (13 by default).
The daily task applies it; \`task run --site <slug> retention\` applies it now.`,
    run: (api, _, o) =>
      api.setRetention(o.site as string, {
        anonymizeAfterDays: number(o["anonymize-after-days"]),
        archiveAfterMonths: number(o["archive-after-months"]),
      }),
    explain: (message) =>
      message.replace(/\banonymizeAfterDays\b/g, "anonymize-after-days").replace(/\barchiveAfterMonths\b/g, "archive-after-months"),
    show: (r, { options }) => showRetention(r, options.site as string),
  }),
  "archive list": command({
    group: "Retention",
    args: [],
    options: SITE,
    help: "the site's monthly archives in R2 (download one: GET /api/admin/v1/sites/<slug>/archives/<YYYY-MM>)",
    run: (api, _, o) => api.listArchives(o.site as string),
    show: (r) => table(r.archives, { MONTH: "month", PERMITS: "permits", BYTES: "bytes", WRITTEN: "uploadedAt", KEY: "key" }),
  }),
  "task list": command({
    group: "Tasks (<task> is the task's key: parkmobile or retention)",
    args: [],
    options: SITE,
    run: (api, _, o) => api.listTasks(o.site as string),
    show: (r) => table(r.tasks, TASK_COLUMNS),
  }),
  "task enable": command({
    group: "Tasks (<task> is the task's key: parkmobile or retention)",
    args: ["task"],
    options: SITE,
    run: (api, a, o) => api.setTaskEnabled(o.site as string, a.task as string, true),
    show: showTask,
  }),
  "task disable": command({
    group: "Tasks (<task> is the task's key: parkmobile or retention)",
    args: ["task"],
    options: SITE,
    run: (api, a, o) => api.setTaskEnabled(o.site as string, a.task as string, false),
    show: showTask,
  }),
  "task run": command({
    group: "Tasks (<task> is the task's key: parkmobile or retention)",
    args: ["task"],
    options: SITE,
    help: "runs it now and prints the run; exits 1 if the run failed",
    run: (api, a, o) => api.runTask(o.site as string, a.task as string),
    show: showRun,
    /** A run that failed is a failure of the command, for scripts; a partial one is not. */
    exitCode: (r) => (r.outcome === "failed" ? 1 : 0),
  }),
  "task log": command({
    group: "Tasks (<task> is the task's key: parkmobile or retention)",
    args: ["task"],
    options: { ...SITE, limit: { value: "n" } },
    help: "the latest runs, newest first",
    run: (api, a, o) => api.listRuns(o.site as string, a.task as string, o.limit),
    show: (r) => table(r.runs, runColumns(r.runs)),
  }),
};

/** The options every command takes. */
const GLOBAL_OPTIONS = {
  url: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** One command's line in the usage text: `zone add --site <slug> <name>`. */
function synopsis(name: string, spec: CommandSpec<unknown>): string {
  const options = Object.entries(spec.options).map(([option, o]) =>
    o.required ? `--${option} <${o.value}>` : `[--${option} <${o.value}>]`,
  );
  return [
    name,
    ...options.filter((o) => !o.startsWith("[")),
    ...spec.args.map((a) => `<${a}>`),
    ...options.filter((o) => o.startsWith("[")),
  ].join(" ");
}

/** The usage text, from the command table. */
function usage(): string {
  const groups = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const lines = groups.get(spec.group) ?? [];
    lines.push(`  ${synopsis(name, spec)}`);
    if (spec.help) lines.push(...spec.help.split("\n").map((line) => `      ${line}`));
    groups.set(spec.group, lines);
  }
  return `Usage: npm run admin -- [--url <base>] [--json] <command> …

${[...groups].map(([group, lines]) => `${group}\n${lines.join("\n")}`).join("\n\n")}

Options
  --url <base>  a deployed Worker; the secret comes from ADMIN_TOKEN
                (default: the sandbox at http://localhost:$PORT, PORT defaulting to 8787,
                with the secret \`npm start\` wrote to .wrangler/sandbox-admin-token)
  --json        print the API's raw JSON answer
  --help        this text`;
}

/** Parses the command line into the command, its named arguments and options, or throws a UsageError. */
function parseCommandLine(argv: string[]) {
  const commandOptions = Object.fromEntries(
    Object.values(COMMANDS).flatMap((spec) => Object.keys(spec.options).map((option) => [option, { type: "string" as const }])),
  );
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof GLOBAL_OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...commandOptions, ...GLOBAL_OPTIONS } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const { positionals } = parsed;
  const name = positionals.slice(0, 2).join(" ");
  if (values.help || name === "help") return { help: true as const };
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(positionals.length ? `Unknown command: ${name}` : "No command given.");
  const given = positionals.slice(2);
  if (given.length !== spec.args.length) {
    throw new UsageError(`${name} takes ${spec.args.map((a) => `<${a}>`).join(" ") || "no arguments"}, got ${given.length}.`);
  }
  const stray = Object.keys(values).find((o) => !(o in GLOBAL_OPTIONS) && !(o in spec.options));
  if (stray) throw new UsageError(`${name} does not take --${stray}.`);
  const options: Record<string, string | undefined> = {};
  /** Options taken from the environment: option name → variable name. */
  const sources: Record<string, string> = {};
  for (const [option, o] of Object.entries(spec.options)) {
    const value = values[option] as string | undefined;
    if (o.required && !value) throw new UsageError(`${name} needs --${option}.`);
    options[option] = value;
    if (value === undefined && o.env && process.env[o.env]) {
      options[option] = process.env[o.env];
      sources[option] = o.env;
    }
  }
  const optional = Object.entries(spec.options).filter(([, o]) => !o.required);
  if (spec.needsOneOption && optional.every(([option]) => options[option] === undefined)) {
    const variables = optional.flatMap(([, o]) => (o.env ? [o.env] : []));
    const env = variables.length > 0 ? ` (or ${variables.join(", ")})` : "";
    throw new UsageError(`${name} needs at least one of ${optional.map(([option]) => `--${option}`).join(", ")}${env}.`);
  }
  const args = Object.fromEntries(spec.args.map((arg, i) => [arg, given[i] as string]));
  return { help: false as const, name, spec, args, options, sources, url: values.url as string | undefined, json: values.json === true };
}

const CSV_COLUMNS = ["plate", "zone", "startTime", "endTime", "permitNo"];

/** Reads a standard-permit CSV (header row required) into the API's rows; blank permitNo cells are left out. */
function readPermitsCsv(file: string) {
  if (!existsSync(file)) throw new UsageError(`No such file: ${file}`);
  let records: Record<string, string>[];
  try {
    records = parseCsv(readFileSync(file), { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new CommandError(`${file}: not a readable CSV (${(error as Error).message})`);
  }
  const header = Object.keys(records[0] ?? {});
  const missing = CSV_COLUMNS.slice(0, 4).filter((c) => !header.includes(c));
  if (records.length === 0) throw new CommandError(`${file}: no rows after the header.`);
  if (missing.length > 0)
    throw new CommandError(`${file}: the header row lacks ${missing.join(", ")} (columns: ${CSV_COLUMNS.join(",")}).`);
  return records.map((r) => ({
    plate: r.plate as string,
    zone: r.zone as string,
    startTime: r.startTime as string,
    endTime: r.endTime as string,
    permitNo: r.permitNo || undefined,
  }));
}

/** Prints what a permit create or import did. */
function showCreated(r: Data<"createStandardPermits">) {
  console.log(`Created ${r.created} standard permit(s)${r.skipped ? `; skipped ${r.skipped} already present` : ""}.`);
  for (const reference of r.references) console.log(`  ${reference}`);
}

/** History values are stored as the database keeps them (cents, epoch seconds): show them as people read them. */
function readable(field: string, value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (field === "amountCents" && typeof value === "number") return (value / 100).toFixed(2);
  if (field.endsWith("At") && typeof value === "number") return new Date(value * 1000).toISOString().slice(0, 19);
  return String(value);
}

/** Prints a permit and its history, one line per version. */
function showPermit(p: Data<"getPermit">) {
  const rows = [
    ["reference", p.reference_id],
    ["site", p.site],
    ["type / source", `${p.type} / ${p.source}`],
    ["plate", p.anonymizedAt ? `removed by retention at ${p.anonymizedAt}` : `${p.plate} (${p.plateNormalized})`],
    ["plate state", p.plateState ?? "unknown"],
    ["zone", p.disconnected ? `${p.zone} (disconnected)` : (p.zone ?? "none")],
    ["valid", `${p.start} to ${p.end} UTC`],
    ["amount", p.amount === null ? "none" : `${p.amount} ${p.currency ?? ""}`.trim()],
    ["permit / ticket", `${p.permitNo ?? "-"} / ${p.ticketNumber ?? "-"}`],
    ["promo code", p.promoCode ?? "-"],
    ["version", String(p.version)],
    ["deleted", p.deletedAt ?? "no"],
  ];
  for (const [k, v] of rows) console.log(`${(k as string).padEnd(16)}${v}`);
  console.log("\nHistory");
  table(
    p.history.map((h) => ({
      ...h,
      changes: Object.entries(h.changes)
        .map(([k, [a, b]]) => `${k}: ${readable(k, a)} -> ${readable(k, b)}`)
        .join("; "),
    })),
    { VERSION: "version", ACTION: "action", AT: "at", BY: "actor", CHANGES: "changes" },
  );
}

/** Prints a site's ParkMobile settings as the API shows them (secrets masked). */
function showParkMobile(p: Data<"getParkMobile">, site: string) {
  const secret = (value: string | null) => value ?? "(not set)";
  console.log(`ParkMobile settings of site ${site}`);
  console.log(`  base URL:   ${p.baseUrl}`);
  console.log(`  username:   ${secret(p.username)}`);
  console.log(`  password:   ${secret(p.password)}`);
  console.log(`  API key:    ${secret(p.apiKey)}`);
  console.log(`  configured: ${p.configured ? "yes" : "no: the import needs all three secrets"}`);
  console.log(`  updated:    ${p.updatedAt ?? "never"}`);
}

type Run = Data<"runTask">;

/** A run's outcome and when, in a few words. */
const runSummary = (run: Run | null) => (run ? `${run.outcome} (run ${run.id}, ${run.trigger}, ${run.startedAt})` : "never run");

/** Prints one task. */
function showTask(t: Data<"setTaskEnabled">) {
  console.log(
    `Task ${t.task} (${t.name}) is ${t.enabled ? "enabled" : "disabled"}; schedule ${t.schedule}; last run: ${runSummary(t.lastRun)}.`,
  );
}

/** How many rejections `task run` lists; `--json` prints them all. */
const REJECTIONS_SHOWN = 10;

/** Prints a finished run: what it did in one line, then the first rejections. */
function showRun(run: Run) {
  console.log(`${describeRun(run)}\n${run.startedAt} to ${run.finishedAt ?? "(still running)"} UTC.`);
  const { rejections } = run;
  if (rejections.length === 0) return;
  console.log("\nRejected");
  table(rejections.slice(0, REJECTIONS_SHOWN), { "PARKING RIGHT": (r) => r.parkingRightId ?? "-", REASON: "reason" });
  if (rejections.length > REJECTIONS_SHOWN) console.log(`… and ${rejections.length - REJECTIONS_SHOWN} more (--json lists them all).`);
}

type Columns<R> = Record<string, (keyof R & string) | ((row: R) => unknown)>;

const SITE_COLUMNS: Columns<Data<"getSite">> = {
  SLUG: "slug",
  NAME: "name",
  CURRENCIES: (s) => s.currencies.join(","),
  GRACE: (s) => `${s.graceMinutes} min`,
  CREATED: "createdAt",
};
const ZONE_COLUMNS: Columns<Data<"listZones">["zones"][number]> = { ID: "id", NAME: "name", CREATED: "createdAt" };
const TOKEN_COLUMNS: Columns<Data<"listTokens">["tokens"][number]> = {
  ID: "id",
  PREFIX: "prefix",
  LABEL: (t) => t.label ?? "",
  SCOPES: (t) => t.scopes.join(","),
  CREATED: "createdAt",
  "LAST USED": (t) => t.lastUsedAt ?? "never",
  REVOKED: (t) => t.revokedAt ?? "",
};
const TASK_COLUMNS: Columns<Data<"setTaskEnabled">> = {
  TASK: "task",
  NAME: "name",
  SCHEDULE: "schedule",
  ENABLED: (t) => (t.enabled ? "yes" : "no"),
  "LAST RUN": (t) => runSummary(t.lastRun),
};
type ImportCounts = Extract<Run["counts"], { zonesMatched: number }>;
type RetentionCounts = Extract<Run["counts"], { anonymized: number }>;
const RUN_START: Columns<Run> = {
  ID: "id",
  TRIGGER: "trigger",
  STARTED: "startedAt",
  FINISHED: (r) => r.finishedAt ?? "-",
  OUTCOME: "outcome",
};
/** Import runs: zones and rights. */
const importCount = (pick: (c: ImportCounts) => number) => (r: Run) => pick(r.counts as ImportCounts);
const IMPORT_RUN_COLUMNS: Columns<Run> = {
  ...RUN_START,
  MATCHED: importCount((c) => c.zonesMatched),
  SKIPPED: importCount((c) => c.zonesSkipped),
  FETCHED: importCount((c) => c.rightsFetched),
  CREATED: importCount((c) => c.created),
  UPDATED: importCount((c) => c.updated),
  UNCHANGED: importCount((c) => c.unchanged),
  REJECTED: importCount((c) => c.rejected),
  MESSAGE: (r) => r.message ?? "",
};
/** Retention runs: what was anonymized, archived, deleted and pruned. */
const retentionCount = (pick: (c: RetentionCounts) => number) => (r: Run) => pick(r.counts as RetentionCounts);
const RETENTION_RUN_COLUMNS: Columns<Run> = {
  ...RUN_START,
  ANONYMIZED: retentionCount((c) => c.anonymized),
  ARCHIVED: retentionCount((c) => c.archivedPermits),
  OBJECTS: retentionCount((c) => c.archives.length),
  DELETED: retentionCount((c) => c.deletedPermits),
  PRUNED: retentionCount((c) => c.feedChangesPruned + c.idempotencyKeysPruned + c.taskRunsPruned),
  MESSAGE: (r) => r.message ?? "",
};
/** The run log's columns for the task the runs are of. */
const runColumns = (runs: Run[]) => (runs[0]?.task === "retention" ? RETENTION_RUN_COLUMNS : IMPORT_RUN_COLUMNS);

/** A number option; undefined stays undefined (the API keeps the value), and what is not a number travels as null for the API to name. */
function number(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return value.trim() === "" ? Number.NaN : Number(value);
}

/** Prints a site's retention policy. */
function showRetention(r: Data<"getRetention">, site: string) {
  console.log(`Retention of site ${site}`);
  console.log(`  anonymize plates after: ${r.anonymizeAfterDays} days`);
  console.log(`  archive and delete after: ${r.archiveAfterMonths} months`);
  console.log(`  daily run (${r.schedule}): ${r.enabled ? "enabled" : "disabled (task enable --site <slug> retention)"}`);
}

/** Splits a comma-separated option into a list; undefined stays undefined so the API applies its default. */
function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(",").map((item) => item.trim());
}

/** Prints rows as an aligned table; `columns` maps each heading to a field name or a function of the row. */
function table<R>(rows: R[], columns: Columns<R>) {
  if (rows.length === 0) return console.log("(none)");
  const cells = rows.map((row) => Object.values(columns).map((col) => String(typeof col === "function" ? col(row) : row[col])));
  const lines = [Object.keys(columns), ...cells];
  const widths = (lines[0] as string[]).map((_, i) => Math.max(...lines.map((line) => (line[i] as string).length)));
  for (const line of lines)
    console.log(
      line
        .map((cell, i) => cell.padEnd(widths[i] as number))
        .join("  ")
        .trimEnd(),
    );
}

/** Prints one site. */
function showSite(site: Data<"getSite">) {
  console.log(
    `Site ${site.slug}\n  name:       ${site.name}\n  currencies: ${site.currencies.join(",")}\n  grace:      ${site.graceMinutes} minutes\n  created:    ${site.createdAt}`,
  );
}

/** Prints a token with its secret, which the API shows this once only. */
function showNewToken(token: Data<"createToken">, what: string) {
  console.log(`${what}: token ${token.id} for scopes ${token.scopes.join(",")}${token.label ? ` (${token.label})` : ""}.`);
  console.log(`\n  ${token.token}\n\nThis secret is shown once, store it now: it cannot be read back, only rotated.`);
}

/** Where to send requests and with which secret: --url with ADMIN_TOKEN, else the local sandbox and its secret file. */
function resolveTarget(url: string | undefined) {
  if (url) {
    if (!process.env.ADMIN_TOKEN) throw new UsageError("--url needs the admin secret in the ADMIN_TOKEN environment variable.");
    return { base: url.replace(/\/+$/, ""), secret: process.env.ADMIN_TOKEN, sandbox: false };
  }
  const base = `http://localhost:${process.env.PORT || 8787}`;
  const secret = process.env.ADMIN_TOKEN ?? sandboxSecret();
  if (!secret) {
    throw new CommandError(
      "No sandbox admin secret (.wrangler/sandbox-admin-token): start the sandbox with `npm start`, or set ADMIN_TOKEN.",
    );
  }
  return { base, secret, sandbox: true };
}

/** Runs the CLI and returns its exit code. */
async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.help) {
      console.log(usage());
      return 0;
    }
    const target = resolveTarget(parsed.url);
    const api = connect(target.base, target.secret);
    const answer = await parsed.spec.run(api, parsed.args, parsed.options).catch((error: unknown) => {
      if (!(error instanceof Unreachable)) throw error;
      if (error.code === "ECONNREFUSED" && target.sandbox) {
        throw new CommandError(`The sandbox is not running at ${target.base}: start it with \`npm start\` (or check PORT, or use --url).`);
      }
      throw new CommandError(error.code ? `${error.message.replace(/\.$/, "")}: check --url.` : error.message);
    });
    if (!answer.ok) {
      const { error, status } = answer;
      const field = error.field ? ` (${error.field})` : "";
      const request = error.requestId && status >= 500 ? ` [request ${error.requestId}]` : "";
      const missing = status === 404 && error.ErrorMessage.startsWith("No route for ");
      const hint = missing ? ` The Worker at ${target.base} does not have this endpoint: is it an older version?` : "";
      const message = `error ${error.ErrorCode}${field}: ${error.ErrorMessage}${request}${hint}`;
      throw new CommandError(parsed.spec.explain ? parsed.spec.explain(message) : message);
    }
    if (parsed.json) console.log(JSON.stringify(answer.data, null, 2));
    else parsed.spec.show(answer.data, { options: parsed.options, sources: parsed.sources });
    return parsed.spec.exitCode?.(answer.data) ?? 0;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof CommandError)) throw error;
    console.error(error instanceof UsageError ? `${error.message}\n\n${usage()}` : error.message);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
