#!/usr/bin/env node
// The admin CLI: a thin client of the admin API (/api/admin/v1). Every rule lives in the Worker.
//
//   npm run admin -- site list                      the local sandbox (`npm start`)
//   npm run admin -- --url https://… site list      a deployed Worker (ADMIN_TOKEN from the environment)

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseCsv } from "csv-parse/sync";

const SANDBOX_SECRET_FILE = fileURLToPath(new URL("../.wrangler/sandbox-admin-token", import.meta.url));

const USAGE = `Usage: npm run admin -- [--url <base>] [--json] <command> …

Sites
  site create <slug> [--name <name>] [--currencies CAD,USD]
  site list
  site show <slug>
  site update <slug> [--name <name>] [--currencies CAD,USD]

API tokens
  token create --site <slug> --scopes push,update,… [--label <label>]
  token list --site <slug>
  token revoke <id>
  token rotate <id>

Lot zones
  zone add --site <slug> <name>
  zone list --site <slug>
  zone rename --site <slug> <old name or id> <new name>
  zone remove --site <slug> <name or id>

Permits
  permit show <reference>
  permit add --site <slug> --plate <plate> --zone <lot zone> --start <time> --end <time> [--permit-no <no>]
  permit import --site <slug> <file.csv>
      standard (long-term) permits; the CSV has a header row with the columns
      plate, zone, startTime, endTime and optionally permitNo; times are UTC
      Y-m-d\\TH:i:s. All rows or none are created; rows already present are skipped.

ParkMobile
  parkmobile show --site <slug>
  parkmobile set --site <slug> [--username <u>] [--password <p>] [--api-key <k>] [--base-url <url>]
      the credentials the import uses (stored encrypted; shown masked). Instead of
      the flags, the secrets can come from PARKMOBILE_USERNAME, PARKMOBILE_PASSWORD
      and PARKMOBILE_API_KEY, so they stay out of the shell history (a flag wins).
      The first save needs all three; later ones change only what is given.

Tasks (<task> is the task's key: parkmobile)
  task list --site <slug>
  task enable --site <slug> <task>
  task disable --site <slug> <task>
  task run --site <slug> <task>
      runs it now and prints the run; exits 1 if the run failed
  task log --site <slug> <task> [--limit <n>]
      the latest runs, newest first

Options
  --url <base>  a deployed Worker; the secret comes from ADMIN_TOKEN
                (default: the sandbox at http://localhost:$PORT, PORT defaulting to 8787,
                with the secret \`npm start\` wrote to .wrangler/sandbox-admin-token)
  --json        print the API's raw JSON answer
  --help        this text`;

/** A mistake in the command line: reported with the usage text, exit code 2. */
class UsageError extends Error {}

/** An error answer of the admin API, or a failure to reach it: exit code 1. */
class ApiError extends Error {}

/** One path segment, so names with spaces or slashes stay one segment. */
const segment = encodeURIComponent;

/**
 * The commands: positional argument names, accepted options (required ones end in "!";
 * `needsOneOption`: at least one of the others; `fromEnv`: options an environment variable can give),
 * the request each makes, how its answer is shown, and (`exitCode`) whether an answer is a failure.
 */
const COMMANDS = {
  "site create": {
    args: ["slug"],
    options: ["name", "currencies"],
    request: (a, o) => ["POST", "/sites", { slug: a.slug, name: o.name, currencies: list(o.currencies) }],
    show: showSite,
  },
  "site list": { args: [], options: [], request: () => ["GET", "/sites"], show: (r) => table(r.sites, SITE_COLUMNS) },
  "site show": { args: ["slug"], options: [], request: (a) => ["GET", `/sites/${segment(a.slug)}`], show: showSite },
  "site update": {
    args: ["slug"],
    options: ["name", "currencies"],
    needsOneOption: true,
    request: (a, o) => ["PATCH", `/sites/${segment(a.slug)}`, { name: o.name, currencies: list(o.currencies) }],
    show: showSite,
  },
  "token create": {
    args: [],
    options: ["site!", "scopes!", "label"],
    request: (_, o) => ["POST", `/sites/${segment(o.site)}/tokens`, { scopes: list(o.scopes), label: o.label }],
    show: (r) => showNewToken(r, "Issued"),
  },
  "token list": {
    args: [],
    options: ["site!"],
    request: (_, o) => ["GET", `/sites/${segment(o.site)}/tokens`],
    show: (r) => table(r.tokens, TOKEN_COLUMNS),
  },
  "token revoke": {
    args: ["id"],
    options: [],
    request: (a) => ["DELETE", `/tokens/${segment(a.id)}`],
    show: (r) => console.log(`Revoked token ${r.id} (${r.prefix}…) at ${r.revokedAt}.`),
  },
  "token rotate": {
    args: ["id"],
    options: [],
    request: (a) => ["POST", `/tokens/${segment(a.id)}/rotate`],
    show: (r) => showNewToken(r, "Rotated; the old secret no longer works"),
  },
  "zone add": {
    args: ["name"],
    options: ["site!"],
    request: (a, o) => ["POST", `/sites/${segment(o.site)}/zones`, { name: a.name }],
    show: (r) => console.log(`Added lot zone "${r.name}" (id ${r.id}); ${r.reconnected} disconnected record(s) reconnected.`),
  },
  "zone list": {
    args: [],
    options: ["site!"],
    request: (_, o) => ["GET", `/sites/${segment(o.site)}/zones`],
    show: (r) => table(r.zones, ZONE_COLUMNS),
  },
  "zone rename": {
    args: ["zone", "name"],
    options: ["site!"],
    request: (a, o) => ["PATCH", `/sites/${segment(o.site)}/zones/${segment(a.zone)}`, { name: a.name }],
    show: (r) => console.log(`Lot zone ${r.id} is now "${r.name}"; ${r.reconnected} disconnected record(s) reconnected.`),
  },
  "zone remove": {
    args: ["zone"],
    options: ["site!"],
    request: (a, o) => ["DELETE", `/sites/${segment(o.site)}/zones/${segment(a.zone)}`],
    show: (r) => console.log(`Removed lot zone "${r.removed.name}" (id ${r.removed.id}); ${r.disconnected} record(s) now disconnected.`),
  },
  "parkmobile show": {
    args: [],
    options: ["site!"],
    request: (_, o) => ["GET", `/sites/${segment(o.site)}/parkmobile`],
    show: (r, _, o) => showParkMobile(r, o.site),
  },
  "parkmobile set": {
    args: [],
    options: ["site!", "username", "password", "api-key", "base-url"],
    fromEnv: { username: "PARKMOBILE_USERNAME", password: "PARKMOBILE_PASSWORD", "api-key": "PARKMOBILE_API_KEY" },
    needsOneOption: true,
    request: (_, o) => [
      "PUT",
      `/sites/${segment(o.site)}/parkmobile`,
      { username: o.username, password: o.password, apiKey: o["api-key"], baseUrl: o["base-url"] },
    ],
    /** The API names fields as its JSON does: name them as the flags here. */
    explain: (message) => message.replace(/\bapiKey\b/g, "api-key").replace(/\bbaseUrl\b/g, "base-url"),
    show: (r, _, o, sources) => {
      const saved = ["username", "password", "api-key", "base-url"].filter((option) => o[option] !== undefined);
      const named = saved.map((option) => (sources[option] ? `${option} (from ${sources[option]})` : option));
      console.log(`Saved ${named.join(", ")}.\n`);
      showParkMobile(r, o.site);
    },
  },
  "task list": {
    args: [],
    options: ["site!"],
    request: (_, o) => ["GET", `/sites/${segment(o.site)}/tasks`],
    show: (r) => table(r.tasks, TASK_COLUMNS),
  },
  "task enable": {
    args: ["task"],
    options: ["site!"],
    request: (a, o) => ["PATCH", `/sites/${segment(o.site)}/tasks/${segment(a.task)}`, { enabled: true }],
    show: showTask,
  },
  "task disable": {
    args: ["task"],
    options: ["site!"],
    request: (a, o) => ["PATCH", `/sites/${segment(o.site)}/tasks/${segment(a.task)}`, { enabled: false }],
    show: showTask,
  },
  "task run": {
    args: ["task"],
    options: ["site!"],
    request: (a, o) => ["POST", `/sites/${segment(o.site)}/tasks/${segment(a.task)}/run`],
    show: showRun,
    /** A run that failed is a failure of the command, for scripts; a partial one is not. */
    exitCode: (r) => (r.outcome === "failed" ? 1 : 0),
  },
  "task log": {
    args: ["task"],
    options: ["site!", "limit"],
    request: (a, o) => [
      "GET",
      `/sites/${segment(o.site)}/tasks/${segment(a.task)}/runs${o.limit === undefined ? "" : `?limit=${encodeURIComponent(o.limit)}`}`,
    ],
    show: (r) => table(r.runs, RUN_COLUMNS),
  },
  "permit show": {
    args: ["reference"],
    options: [],
    request: (a) => ["GET", `/permits/${segment(a.reference)}`],
    show: showPermit,
  },
  "permit add": {
    args: [],
    options: ["site!", "plate!", "zone!", "start!", "end!", "permit-no"],
    request: (_, o) => [
      "POST",
      `/sites/${segment(o.site)}/permits`,
      { permits: [{ plate: o.plate, zone: o.zone, startTime: o.start, endTime: o.end, permitNo: o["permit-no"] }] },
    ],
    show: showCreated,
  },
  "permit import": {
    args: ["file"],
    options: ["site!"],
    request: (a, o) => ["POST", `/sites/${segment(o.site)}/permits`, { permits: readPermitsCsv(a.file) }],
    show: showCreated,
    /** API errors name `permits.<index>.<field>`: say which line of the file that is. */
    explain: (message) => {
      const row = message.match(/permits\.(\d+)\./);
      return row ? `line ${Number(row[1]) + 2} of the file: ${message.replace(/permits\.\d+\./g, "")}` : message;
    },
  },
};

const CSV_COLUMNS = ["plate", "zone", "startTime", "endTime", "permitNo"];

/** Reads a standard-permit CSV (header row required) into the API's rows; blank permitNo cells are left out. */
function readPermitsCsv(file) {
  if (!existsSync(file)) throw new UsageError(`No such file: ${file}`);
  let records;
  try {
    records = parseCsv(readFileSync(file), { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new ApiError(`${file}: not a readable CSV (${error.message})`);
  }
  const header = Object.keys(records[0] ?? {});
  const missing = CSV_COLUMNS.slice(0, 4).filter((c) => !header.includes(c));
  if (records.length === 0) throw new ApiError(`${file}: no rows after the header.`);
  if (missing.length > 0) throw new ApiError(`${file}: the header row lacks ${missing.join(", ")} (columns: ${CSV_COLUMNS.join(",")}).`);
  return records.map((r) => ({
    plate: r.plate,
    zone: r.zone,
    startTime: r.startTime,
    endTime: r.endTime,
    permitNo: r.permitNo || undefined,
  }));
}

/** Prints what a permit create or import did. */
function showCreated(r) {
  console.log(`Created ${r.created} standard permit(s)${r.skipped ? `; skipped ${r.skipped} already present` : ""}.`);
  for (const reference of r.references) console.log(`  ${reference}`);
}

/** History values are stored as the database keeps them (cents, epoch seconds): show them as people read them. */
function readable(field, value) {
  if (value === null || value === undefined) return "-";
  if (field === "amountCents") return (value / 100).toFixed(2);
  if (field.endsWith("At") && typeof value === "number") return new Date(value * 1000).toISOString().slice(0, 19);
  return String(value);
}

/** Prints a permit and its history, one line per version. */
function showPermit(p) {
  const zone = p.disconnected ? `${p.zone} (disconnected)` : (p.lotZone ?? p.zone ?? "none");
  const rows = [
    ["reference", p.reference_id],
    ["site", p.site],
    ["type / source", `${p.type} / ${p.source}`],
    ["plate", `${p.plate} (${p.plateNormalized})`],
    ["zone", zone],
    ["valid", `${p.start} to ${p.end} UTC`],
    ["amount", p.amount === null ? "none" : `${p.amount} ${p.currency ?? ""}`.trim()],
    ["permit / ticket", `${p.permitNo ?? "-"} / ${p.ticketNumber ?? "-"}`],
    ["promo code", p.promoCode ?? "-"],
    ["version", String(p.version)],
    ["deleted", p.deletedAt ?? "no"],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(16)}${v}`);
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
function showParkMobile(p, site) {
  const secret = (value) => value ?? "(not set)";
  console.log(`ParkMobile settings of site ${site}`);
  console.log(`  base URL:   ${p.baseUrl}`);
  console.log(`  username:   ${secret(p.username)}`);
  console.log(`  password:   ${secret(p.password)}`);
  console.log(`  API key:    ${secret(p.apiKey)}`);
  console.log(`  configured: ${p.configured ? "yes" : "no: the import needs all three secrets"}`);
  console.log(`  updated:    ${p.updatedAt ?? "never"}`);
}

/** A run's outcome and when, in a few words. */
const runSummary = (run) => (run ? `${run.outcome} (run ${run.id}, ${run.trigger}, ${run.startedAt})` : "never run");

/** Prints one task. */
function showTask(t) {
  console.log(
    `Task ${t.task} (${t.name}) is ${t.enabled ? "enabled" : "disabled"}; schedule ${t.schedule}; last run: ${runSummary(t.lastRun)}.`,
  );
}

/** How many rejections `task run` lists; `--json` prints them all. */
const REJECTIONS_SHOWN = 10;

/** Prints a finished run: outcome, message, counts, skipped zones and the first rejections. */
function showRun(run) {
  const c = run.counts ?? {};
  console.log(`Run ${run.id} (${run.trigger}) ${run.outcome}, ${run.startedAt} to ${run.finishedAt ?? "(still running)"}.`);
  if (run.message) console.log(`  ${run.message}`);
  console.log(`  zones:  ${c.zonesMatched ?? 0} matched, ${c.zonesSkipped ?? 0} skipped${skippedZones(c)}`);
  console.log(
    `  rights: ${c.rightsFetched ?? 0} fetched; ${c.created ?? 0} created, ${c.updated ?? 0} updated, ${c.unchanged ?? 0} unchanged, ${c.rejected ?? 0} rejected`,
  );
  const rejections = run.rejections ?? [];
  if (rejections.length === 0) return;
  console.log("\nRejected");
  table(rejections.slice(0, REJECTIONS_SHOWN), { "PARKING RIGHT": (r) => r.parkingRightId ?? "-", REASON: "reason" });
  if (rejections.length > REJECTIONS_SHOWN) console.log(`… and ${rejections.length - REJECTIONS_SHOWN} more (--json lists them all).`);
}

/** The names of the zones a run skipped (no lot zone of that name), after their count. */
function skippedZones(counts) {
  return counts.skippedZones?.length ? ` (no lot zone: ${counts.skippedZones.join(", ")})` : "";
}

const SITE_COLUMNS = { SLUG: "slug", NAME: "name", CURRENCIES: (s) => s.currencies.join(","), CREATED: "createdAt" };
const ZONE_COLUMNS = { ID: "id", NAME: "name", CREATED: "createdAt" };
const TOKEN_COLUMNS = {
  ID: "id",
  PREFIX: "prefix",
  LABEL: (t) => t.label ?? "",
  SCOPES: (t) => t.scopes.join(","),
  CREATED: "createdAt",
  "LAST USED": (t) => t.lastUsedAt ?? "never",
  REVOKED: (t) => t.revokedAt ?? "",
};

const TASK_COLUMNS = {
  TASK: "task",
  NAME: "name",
  SCHEDULE: "schedule",
  ENABLED: (t) => (t.enabled ? "yes" : "no"),
  "LAST RUN": (t) => runSummary(t.lastRun),
};
/** One count of a run, blank while the run has none. */
const count = (name) => (run) => run.counts?.[name] ?? "";
const RUN_COLUMNS = {
  ID: "id",
  TRIGGER: "trigger",
  STARTED: "startedAt",
  FINISHED: (r) => r.finishedAt ?? "-",
  OUTCOME: "outcome",
  MATCHED: count("zonesMatched"),
  SKIPPED: count("zonesSkipped"),
  FETCHED: count("rightsFetched"),
  CREATED: count("created"),
  UPDATED: count("updated"),
  UNCHANGED: count("unchanged"),
  REJECTED: count("rejected"),
  MESSAGE: (r) => r.message ?? "",
};

/** Splits a comma-separated option into a list; undefined stays undefined so the API applies its default. */
function list(value) {
  return value === undefined ? undefined : value.split(",").map((item) => item.trim());
}

/** Prints rows as an aligned table; `columns` maps each heading to a field name or a function of the row. */
function table(rows, columns) {
  if (rows.length === 0) return console.log("(none)");
  const cells = rows.map((row) => Object.values(columns).map((col) => String(typeof col === "function" ? col(row) : row[col])));
  const lines = [Object.keys(columns), ...cells];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((line) => line[i].length)));
  const pad = (line) => line.map((cell, i) => cell.padEnd(widths[i])).join("  ");
  for (const line of lines) console.log(pad(line).trimEnd());
}

/** Prints one site. */
function showSite(site) {
  console.log(`Site ${site.slug}\n  name:       ${site.name}\n  currencies: ${site.currencies.join(",")}\n  created:    ${site.createdAt}`);
}

/** Prints a token with its secret, which the API shows this once only. */
function showNewToken(token, what) {
  console.log(`${what}: token ${token.id} for scopes ${token.scopes.join(",")}${token.label ? ` (${token.label})` : ""}.`);
  console.log(`\n  ${token.token}\n\nThis secret is shown once, store it now: it cannot be read back, only rotated.`);
}

/** Parses the command line into the command, its named arguments and options, or throws a UsageError. */
function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        site: { type: "string" },
        name: { type: "string" },
        currencies: { type: "string" },
        scopes: { type: "string" },
        label: { type: "string" },
        plate: { type: "string" },
        zone: { type: "string" },
        start: { type: "string" },
        end: { type: "string" },
        "permit-no": { type: "string" },
        username: { type: "string" },
        password: { type: "string" },
        "api-key": { type: "string" },
        "base-url": { type: "string" },
        limit: { type: "string" },
      },
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const { values, positionals } = parsed;
  const name = positionals.slice(0, 2).join(" ");
  if (values.help || name === "help") return { help: true };
  const command = COMMANDS[name];
  if (!command) throw new UsageError(positionals.length ? `Unknown command: ${name}` : "No command given.");
  const given = positionals.slice(2);
  if (given.length !== command.args.length) {
    throw new UsageError(`${name} takes ${command.args.map((a) => `<${a}>`).join(" ") || "no arguments"}, got ${given.length}.`);
  }
  const options = {};
  /** Options taken from the environment: option name → variable name. */
  const sources = {};
  for (const spec of command.options) {
    const option = spec.replace("!", "");
    if (spec.endsWith("!") && !values[option]) throw new UsageError(`${name} needs --${option}.`);
    options[option] = values[option];
    const variable = command.fromEnv?.[option];
    if (options[option] === undefined && variable && process.env[variable]) {
      options[option] = process.env[variable];
      sources[option] = variable;
    }
  }
  const optional = command.options.filter((spec) => !spec.endsWith("!"));
  if (command.needsOneOption && optional.every((option) => options[option] === undefined)) {
    const variables = Object.values(command.fromEnv ?? {});
    const env = variables.length > 0 ? ` (or ${variables.join(", ")})` : "";
    throw new UsageError(`${name} needs at least one of ${optional.map((o) => `--${o}`).join(", ")}${env}.`);
  }
  const stray = Object.keys(values).find((o) => !["url", "json", ...Object.keys(options)].includes(o));
  if (stray) throw new UsageError(`${name} does not take --${stray}.`);
  const args = Object.fromEntries(command.args.map((arg, i) => [arg, given[i]]));
  return { name, command, args, options, sources, url: values.url, json: values.json ?? false };
}

/** Where to send requests and with which secret: --url with ADMIN_TOKEN, else the local sandbox and its secret file. */
function resolveTarget(url) {
  if (url) {
    if (!process.env.ADMIN_TOKEN) throw new UsageError("--url needs the admin secret in the ADMIN_TOKEN environment variable.");
    return { base: url.replace(/\/+$/, ""), secret: process.env.ADMIN_TOKEN, sandbox: false };
  }
  const base = `http://localhost:${process.env.PORT || 8787}`;
  if (process.env.ADMIN_TOKEN) return { base, secret: process.env.ADMIN_TOKEN, sandbox: true };
  if (!existsSync(SANDBOX_SECRET_FILE)) {
    throw new ApiError("No sandbox admin secret (.wrangler/sandbox-admin-token): start the sandbox with `npm start`, or set ADMIN_TOKEN.");
  }
  return { base, secret: readFileSync(SANDBOX_SECRET_FILE, "utf8").trim(), sandbox: true };
}

/** Sends one admin API request and returns the parsed JSON answer; error answers and network failures throw ApiError. */
async function callApi(target, method, route, body) {
  let response;
  try {
    response = await fetch(`${target.base}/api/admin/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${target.secret}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw unreachable(target, error);
  }
  const text = await response.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ApiError(`unexpected answer from ${target.base} (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
  if (!response.ok || answer?.status === "error") {
    const field = answer?.field ? ` (${answer.field})` : "";
    const request = answer?.requestId && response.status >= 500 ? ` [request ${answer.requestId}]` : "";
    const missing = response.status === 404 && /^No route for /.test(answer?.ErrorMessage ?? "");
    const hint = missing ? ` The Worker at ${target.base} does not have this endpoint: is it an older version?` : "";
    throw new ApiError(
      `error ${answer?.ErrorCode ?? response.status}${field}: ${answer?.ErrorMessage ?? text.slice(0, 200)}${request}${hint}`,
    );
  }
  return answer;
}

/** Explains a failed connection: for the sandbox, how to start it. */
function unreachable(target, error) {
  const code = error?.cause?.code ?? error?.code ?? error?.message;
  if (code === "ECONNREFUSED" && target.sandbox) {
    return new ApiError(`The sandbox is not running at ${target.base}: start it with \`npm start\` (or check PORT, or use --url).`);
  }
  return new ApiError(`Cannot reach ${target.base} (${code}): check --url.`);
}

/** Runs the CLI and returns its exit code. */
async function main(argv) {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.help) {
      console.log(USAGE);
      return 0;
    }
    const target = resolveTarget(parsed.url);
    const [method, route, body] = parsed.command.request(parsed.args, parsed.options);
    const answer = await callApi(target, method, route, body).catch((error) => {
      if (error instanceof ApiError && parsed.command.explain) error.message = parsed.command.explain(error.message);
      throw error;
    });
    if (parsed.json) console.log(JSON.stringify(answer, null, 2));
    else parsed.command.show(answer, parsed.args, parsed.options, parsed.sources);
    return parsed.command.exitCode?.(answer) ?? 0;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof ApiError)) throw error;
    console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error.message);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
