// The admin CLI's commands, declared once each: arguments, options (and the API field each one fills, so errors
// name the flag the user typed), the request, and how the answer is shown. scripts/admin.ts derives the usage text
// and the argument parser from this table.

import { existsSync, readFileSync } from "node:fs";
import { parse as parseCsv } from "csv-parse/sync";
import { RATE_TIERS } from "../src/domain/rate-limits.ts";
import { PREVIOUS_SECRET_HOURS, WEBHOOK_EVENT_TYPES } from "../src/domain/webhooks.ts";
import type { AdminClient, Answer } from "../src/routes/admin/client.ts";
import { describeRun } from "../src/routes/admin/client.ts";

export type Data<M extends keyof AdminClient> = Awaited<ReturnType<AdminClient[M]>> extends Answer<infer T> ? T : never;

/** A mistake in the command line: reported with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** A failure of the command (an API error, an unreadable file): exit code 1. */
export class CommandError extends Error {}

export interface OptionSpec {
  /** The value's placeholder in the usage text. */
  value: string;
  required?: boolean;
  /** An environment variable that gives the option when the flag is absent (secrets stay out of shell history). */
  env?: string;
  /** The API field the option fills, when its name differs (`--api-key` fills `apiKey`). */
  field?: string;
}

export interface CommandSpec<T> {
  group: string;
  args: string[];
  options: Record<string, OptionSpec>;
  /** At least one of the (optional) options must be given. */
  needsOneOption?: boolean;
  /** More lines for the usage text. */
  help?: string;
  /** The API fields the arguments fill, where an argument's name is not the field's (`<new name>` fills `name`). */
  argFields?: Record<string, string>;
  run(api: AdminClient, args: Record<string, string>, options: Record<string, string | undefined>): Promise<Answer<T>>;
  show(data: T, context: { options: Record<string, string | undefined>; sources: Record<string, string> }): void;
  /** The exit code of an answer that is not an error (a failed run is a failure of `task run`). */
  exitCode?(data: T): number;
  /** How a field of an API error reads in the command's terms, when the option and argument names do not say it. */
  fieldName?(field: string): string | undefined;
}

/** Declares one command (typing its `show` from its `run`). */
const command = <T>(spec: CommandSpec<T>) => spec as CommandSpec<unknown>;

const SITE = { site: { value: "slug", required: true } } satisfies Record<string, OptionSpec>;
/** A zone's metadata options (zone add, zone update); --rate fills the API's ratePerHour. */
const ZONE_OPTIONS = {
  number: { value: "n" },
  rate: { value: "2.50", field: "ratePerHour" },
  currency: { value: "CAD" },
  "max-minutes": { value: "min" },
  "time-zone": { value: "IANA name" },
  capacity: { value: "n" },
} satisfies Record<string, OptionSpec>;

/**
 * The zone options as the API's body: absent stays absent; in an update, ''
 * clears (null). A count that is not digits goes to the API as text, which
 * refuses it naming the rule.
 */
function zoneInput(o: Record<string, string | undefined>, clearing: boolean) {
  const text = (v: string | undefined) => (v === undefined || (v === "" && !clearing) ? undefined : v === "" ? null : v);
  const count = (v: string | undefined) => {
    const t = text(v);
    return typeof t === "string" && /^\d{1,9}$/.test(t) ? Number(t) : (t as number | null | undefined);
  };
  return {
    number: text(o.number),
    ratePerHour: text(o.rate),
    currency: text(o.currency),
    maxMinutes: count(o["max-minutes"]),
    timeZone: text(o["time-zone"]),
    capacity: count(o.capacity),
  };
}

/** A site's settings: its name, accepted currencies (the first is the default) and IANA time zone. */
const SITE_OPTIONS = {
  name: { value: "name" },
  currencies: { value: "CAD,USD" },
  "time-zone": { value: "America/Toronto", field: "timeZone" },
} satisfies Record<string, OptionSpec>;

const TASKS_GROUP = "Tasks (<task> is the task's key: parkmobile or retention)";
const WEBHOOKS_GROUP = "Webhooks (<id> is an endpoint's id, wh_…; <delivery> a delivery's, dl_…)";
const WEBHOOK_EVENT_NAMES = WEBHOOK_EVENT_TYPES.join(", ");

/** The filters of `permit list` and `permit export`: each fills the API's query parameter of its name. */
const SEARCH_OPTIONS = {
  ...SITE,
  type: { value: "temp|standard" },
  plate: { value: "plate" },
  zone: { value: "zone" },
  from: { value: "time" },
  to: { value: "time" },
  source: { value: "source" },
  "promo-code": { value: "code", field: "promoCode" },
  active: { value: "true" },
} satisfies Record<string, OptionSpec>;

const searchOf = (o: Record<string, string | undefined>) => ({
  type: o.type,
  plate: o.plate,
  zone: o.zone,
  from: o.from,
  to: o.to,
  source: o.source,
  promoCode: o["promo-code"],
  active: o.active,
});

/** The most rows one standard-permit request may carry (the API's limit); a longer file is sent in parts. */
const PERMITS_PER_REQUEST = 5000;

export const COMMANDS: Record<string, CommandSpec<unknown>> = {
  "site create": command({
    group: "Sites",
    args: ["slug"],
    options: SITE_OPTIONS,
    run: (api, a, o) => api.createSite({ slug: a.slug as string, name: o.name, currencies: list(o.currencies), timeZone: o["time-zone"] }),
    show: showSite,
  }),
  "site list": command({ group: "Sites", args: [], options: {}, run: (api) => api.listSites(), show: (r) => table(r.sites, SITE_COLUMNS) }),
  "site show": command({ group: "Sites", args: ["slug"], options: {}, run: (api, a) => api.getSite(a.slug as string), show: showSite }),
  "site update": command({
    group: "Sites",
    args: ["slug"],
    options: { ...SITE_OPTIONS, "grace-minutes": { value: "0-1440", field: "graceMinutes" } },
    needsOneOption: true,
    help: "--grace-minutes: how long after its end a permit still answers plate checks, flagged (15 by default)",
    run: (api, a, o) =>
      api.updateSite(a.slug as string, {
        name: o.name,
        currencies: list(o.currencies),
        timeZone: o["time-zone"],
        graceMinutes: number(o["grace-minutes"]),
      }),
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
  "token tier": command({
    group: "API tokens",
    args: ["id", "tier"],
    options: {},
    help: `its rate limits: ${RATE_TIERS.join(", ")} (the first is the default; ADMIN_TOKEN only; see the README's rate limits)`,
    run: (api, a) => api.setTokenTier(a.id as string, a.tier as Data<"setTokenTier">["tier"]),
    show: (r) => console.log(`Token ${r.id} is now in tier ${r.tier}.`),
  }),
  "client create": command({
    group: "OAuth clients",
    args: [],
    options: { ...SITE, label: { value: "label", required: true }, scopes: { value: "sessions,lookup", required: true } },
    help: "an aggregator's client_credentials client; the label is the source of its sessions",
    run: (api, _, o) =>
      api.createClient(o.site as string, { label: o.label as string, scopes: list(o.scopes) as Data<"createClient">["scopes"] }),
    show: (r) => showNewClient(r, "Registered"),
  }),
  "client list": command({
    group: "OAuth clients",
    args: [],
    options: SITE,
    run: (api, _, o) => api.listClients(o.site as string),
    show: (r) => table(r.clients, CLIENT_COLUMNS),
  }),
  "client revoke": command({
    group: "OAuth clients",
    args: ["client id"],
    options: {},
    run: (api, a) => api.revokeClient(a["client id"] as string),
    show: (r) => console.log(`Revoked OAuth client ${r.clientId} (${r.label}) at ${r.revokedAt}; its access tokens no longer work.`),
  }),
  "client rotate": command({
    group: "OAuth clients",
    args: ["client id"],
    options: {},
    run: (api, a) => api.rotateClient(a["client id"] as string),
    show: (r) => showNewClient(r, "Rotated; the old secret and its access tokens no longer work"),
  }),
  "client tier": command({
    group: "OAuth clients",
    args: ["client id", "tier"],
    options: {},
    help: `its rate limits, shared by its access tokens: ${RATE_TIERS.join(", ")} (the first is the default; ADMIN_TOKEN only)`,
    run: (api, a) => api.setClientTier(a["client id"] as string, a.tier as Data<"setClientTier">["tier"]),
    show: (r) => console.log(`OAuth client ${r.clientId} (${r.label}) is now in tier ${r.tier}.`),
  }),
  "zone add": command({
    group: "Lot zones",
    args: ["name"],
    options: { ...SITE, ...ZONE_OPTIONS },
    help: "the options are optional: see zone update",
    run: (api, a, o) => api.addZone(o.site as string, { name: a.name as string, ...zoneInput(o, false) }),
    show: (r) => {
      console.log(`Added lot zone "${r.name}" (id ${r.id}); ${r.reconnected} disconnected record(s) reconnected.`);
      showZone(r);
    },
  }),
  "zone list": command({
    group: "Lot zones",
    args: [],
    options: SITE,
    run: (api, _, o) => api.listZones(o.site as string),
    show: (r) => table(r.zones, ZONE_COLUMNS),
  }),
  "zone update": command({
    group: "Lot zones",
    args: ["name or id"],
    argFields: { zone: "name or id" },
    options: { ...SITE, name: { value: "new name" }, ...ZONE_OPTIONS },
    needsOneOption: true,
    help: `what sessions need of a zone: the number on its sign (sessions and the
ParkMobile import find a zone by its number, else by its name), the rate per
hour (like 2.50, in --currency, by default the site's first), the longest
session in minutes, the IANA time zone and the capacity. '' clears a value.`,
    run: (api, a, o) => api.updateZone(o.site as string, a["name or id"] as string, { name: o.name, ...zoneInput(o, true) }),
    show: (r) => {
      console.log(`Updated lot zone "${r.name}" (id ${r.id}).`);
      showZone(r);
    },
  }),
  "zone rename": command({
    group: "Lot zones",
    args: ["old name or id", "new name"],
    argFields: { name: "new name", zone: "old name or id" },
    options: SITE,
    run: (api, a, o) => api.updateZone(o.site as string, a["old name or id"] as string, { name: a["new name"] as string }),
    show: (r) => console.log(`Lot zone ${r.id} is now "${r.name}"; ${r.reconnected} disconnected record(s) reconnected.`),
  }),
  "zone remove": command({
    group: "Lot zones",
    args: ["name or id"],
    argFields: { zone: "name or id" },
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
  "permit list": command({
    group: "Permits",
    args: [],
    options: { ...SEARCH_OPTIONS, page: { value: "n" } },
    help: "temporary permits (the default) or standard ones (--type standard), newest start first, 50 a page",
    run: (api, _, o) => api.searchPermits(o.site as string, { ...searchOf(o), page: o.page }),
    show: (r) => {
      table(r.permits, PERMIT_COLUMNS);
      const total = `${r.totalIsExact ? "" : "more than "}${r.total.toLocaleString("en")}`;
      const more = r.hasMore ? `; more with --page ${r.page + 1}` : r.totalIsExact ? "" : "; permit export lists them all";
      console.log(`\nPage ${r.page}: ${r.permits.length} of ${total} permit(s)${more}.`);
    },
  }),
  "permit export": command({
    group: "Permits",
    args: [],
    options: SEARCH_OPTIONS,
    help: "every permit the filters match, as CSV on standard output: npm run admin -- permit export --site demo > permits.csv",
    run: (api, _, o) => api.exportPermits(o.site as string, searchOf(o)),
    show: (csv) => process.stdout.write(csv),
  }),
  "permit add": command({
    group: "Permits",
    args: [],
    options: {
      ...SITE,
      plate: { value: "plate", required: true, field: "permits.0.plate" },
      zone: { value: "lot zone", required: true, field: "permits.0.zone" },
      start: { value: "time", required: true, field: "permits.0.startTime" },
      end: { value: "time", required: true, field: "permits.0.endTime" },
      "permit-no": { value: "no", field: "permits.0.permitNo" },
    },
    help: "a standard (long-term) permit; times are UTC Y-m-d\\TH:i:s",
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
plate, zone, startTime, endTime and optionally permitNo (any case); times are UTC
Y-m-d\\TH:i:s. All rows or none are created, ${PERMITS_PER_REQUEST.toLocaleString("en")} rows at a time: a longer
file is sent in parts, each all or nothing, and importing the file again after
fixing a row creates only what is missing (rows already present are skipped).`,
    run: (api, a, o) => importPermits(api, o.site as string, readPermitsCsv(a["file.csv"] as string)),
    show: showCreated,
    /** API errors name `permits.<index>.<field>`: say which line of the file that is (the header is line 1). */
    fieldName: (field) => {
      const match = /^permits\.(\d+)\.(\w+)$/.exec(field);
      return match ? `line ${Number(match[1]) + 2}, column ${match[2]}` : undefined;
    },
  }),
  "permit end": command({
    group: "Permits",
    args: ["reference"],
    options: SITE,
    help: "ends (deletes) a permit of the site, standard permits included; kept with its history",
    run: (api, a, o) => api.endPermit(o.site as string, a.reference as string),
    show: (r) => console.log(`Ended permit ${r.reference_id} (version ${r.version}).`),
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
      "api-key": { value: "k", env: "PARKMOBILE_API_KEY", field: "apiKey" },
      "base-url": { value: "url", field: "baseUrl" },
    },
    needsOneOption: true,
    help: `the credentials the import uses (stored encrypted; the password and key shown
masked). Instead of the flags, they can come from PARKMOBILE_USERNAME,
PARKMOBILE_PASSWORD and PARKMOBILE_API_KEY, so they stay out of the shell history
(a flag wins). The first save needs all three; later ones change only what is given.`,
    run: (api, _, o) =>
      api.setParkMobile(o.site as string, { username: o.username, password: o.password, apiKey: o["api-key"], baseUrl: o["base-url"] }),
    show: (r, { options, sources }) => {
      const saved = ["username", "password", "api-key", "base-url"].filter((option) => options[option] !== undefined);
      const named = saved.map((option) => (sources[option] ? `${option} (from ${sources[option]})` : option));
      console.log(`Saved ${named.join(", ")}.\n`);
      showParkMobile(r, options.site as string);
    },
  }),
  "parkmobile test": command({
    group: "ParkMobile",
    args: [],
    options: SITE,
    help: "checks the saved credentials against ParkMobile without importing; exits 1 if ParkMobile refuses",
    run: (api, _, o) => api.testParkMobile(o.site as string),
    show: (r) =>
      console.log(
        r.ok
          ? `ParkMobile accepted the credentials. A run would import zone(s) ${r.matched.join(", ") || "(none)"}; skip ${r.skipped.join(", ") || "none"}.`
          : `ParkMobile check failed: ${r.message}`,
      ),
    exitCode: (r) => (r.ok ? 0 : 1),
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
    options: {
      ...SITE,
      "anonymize-after-days": { value: "days", field: "anonymizeAfterDays" },
      "archive-after-months": { value: "months", field: "archiveAfterMonths" },
    },
    needsOneOption: true,
    help: `plates of permits ended more than <days> ago are removed (90 by default); permits
ended more than <months> ago are archived to R2 by month, then deleted (13 by default).
The daily task applies it; \`task run --site <slug> retention\` applies it now.`,
    run: (api, _, o) =>
      api.setRetention(o.site as string, {
        anonymizeAfterDays: number(o["anonymize-after-days"]),
        archiveAfterMonths: number(o["archive-after-months"]),
      }),
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
  "report transactions": command<string | Data<"transactionsJson">>({
    group: "Reports",
    args: [],
    options: {
      ...SITE,
      from: { value: "date or time", required: true },
      to: { value: "date or time", required: true },
      zone: { value: "zone" },
      source: { value: "source" },
      currency: { value: "CAD" },
      format: { value: "csv|json" },
    },
    help: `one row per operation (create, update, delete, session start, extension and stop, import), on standard output:
  npm run admin -- report transactions --site demo --from 2026-03-01 --to 2026-03-31 > march.csv
dates are days in the site's time zone, both included; UTC times (Y-m-d\\TH:i:s) are instants, --to excluded;
at most 31 days; --format json for JSON (CSV by default)`,
    run: (api, _, o) => {
      const q = { from: o.from, to: o.to, zone: o.zone, source: o.source, currency: o.currency };
      const format = o.format ?? "csv";
      if (format !== "csv" && format !== "json") throw new UsageError(`--format must be csv or json, not ${format}.`);
      const report = format === "json" ? api.transactionsJson(o.site as string, q) : api.transactionsCsv(o.site as string, q);
      return report as Promise<Answer<string | Data<"transactionsJson">>>;
    },
    show: (report) => (typeof report === "string" ? process.stdout.write(report) : console.log(JSON.stringify(report, null, 2))),
  }),
  "task list": command({
    group: TASKS_GROUP,
    args: [],
    options: SITE,
    run: (api, _, o) => api.listTasks(o.site as string),
    show: (r) => table(r.tasks, TASK_COLUMNS),
  }),
  "task enable": command({
    group: TASKS_GROUP,
    args: ["task"],
    options: SITE,
    /** The API refuses `enabled` when the import lacks its credentials: the task named is what cannot be enabled. */
    fieldName: (field) => (field === "enabled" ? "<task>" : undefined),
    run: (api, a, o) => api.setTaskEnabled(o.site as string, a.task as string, true),
    show: showTask,
  }),
  "task disable": command({
    group: TASKS_GROUP,
    args: ["task"],
    options: SITE,
    run: (api, a, o) => api.setTaskEnabled(o.site as string, a.task as string, false),
    show: showTask,
  }),
  "task run": command({
    group: TASKS_GROUP,
    args: ["task"],
    options: SITE,
    help: "runs it now and prints the run; exits 1 if the run failed",
    run: (api, a, o) => api.runTask(o.site as string, a.task as string),
    show: showRun,
    /** A run that failed is a failure of the command, for scripts; a partial one is not. */
    exitCode: (r) => (r.outcome === "failed" ? 1 : 0),
  }),
  "webhook create": command({
    group: WEBHOOKS_GROUP,
    args: ["url"],
    options: { ...SITE, events: { value: "permit.created,…", required: true }, description: { value: "text" } },
    help: `an endpoint receiving the site's events of those types, signed with its secret (shown once).
Event types: ${WEBHOOK_EVENT_NAMES}`,
    run: (api, a, o) =>
      api.createWebhook(o.site as string, {
        url: a.url as string,
        events: list(o.events) as Data<"createWebhook">["events"],
        description: o.description,
      }),
    show: (r) => showNewWebhook(r, "Registered"),
  }),
  "webhook list": command({
    group: WEBHOOKS_GROUP,
    args: [],
    options: SITE,
    run: (api, _, o) => api.listWebhooks(o.site as string),
    show: (r) => table(r.endpoints, WEBHOOK_COLUMNS),
  }),
  "webhook show": command({
    group: WEBHOOKS_GROUP,
    args: ["id"],
    options: {},
    run: (api, a) => api.getWebhook(a.id as string),
    show: showWebhook,
  }),
  "webhook update": command({
    group: WEBHOOKS_GROUP,
    args: ["id"],
    options: { endpoint: { value: "url", field: "url" }, events: { value: "permit.created,…" }, description: { value: "text" } },
    needsOneOption: true,
    help: "--description '' clears it",
    run: (api, a, o) =>
      api.updateWebhook(a.id as string, {
        url: o.endpoint,
        events: list(o.events) as Data<"createWebhook">["events"] | undefined,
        description: o.description === "" ? null : o.description,
      }),
    show: showWebhook,
  }),
  "webhook disable": command({
    group: WEBHOOKS_GROUP,
    args: ["id"],
    options: {},
    help: "sends it nothing until enabled; deliveries due meanwhile are skipped",
    run: (api, a) => api.updateWebhook(a.id as string, { enabled: false }),
    show: showWebhook,
  }),
  "webhook enable": command({
    group: WEBHOOKS_GROUP,
    args: ["id"],
    options: {},
    help: "also after the receiver answered 410 Gone",
    run: (api, a) => api.updateWebhook(a.id as string, { enabled: true }),
    show: showWebhook,
  }),
  "webhook rotate": command({
    group: WEBHOOKS_GROUP,
    args: ["id"],
    options: {},
    help: `a new secret (shown once); the old one keeps signing beside it for ${PREVIOUS_SECRET_HOURS} hours`,
    run: (api, a) => api.rotateWebhook(a.id as string),
    show: (r) => showNewWebhook(r, `Rotated; the previous secret signs beside this one for ${PREVIOUS_SECRET_HOURS} hours`),
  }),
  "webhook delete": command({
    group: WEBHOOKS_GROUP,
    args: ["id"],
    options: {},
    run: (api, a) => api.deleteWebhook(a.id as string),
    show: (r) => console.log(`Deleted webhook endpoint ${r.id} and its delivery log.`),
  }),
  "webhook deliveries": command({
    group: WEBHOOKS_GROUP,
    args: ["id"],
    options: { state: { value: "pending|delivered|failed|skipped" }, limit: { value: "n" }, cursor: { value: "c" } },
    help: "newest first; a page ends with the --cursor of the next one",
    run: (api, a, o) => api.listDeliveries(a.id as string, { state: o.state, limit: o.limit, cursor: o.cursor }),
    show: (r) => {
      table(r.deliveries, DELIVERY_COLUMNS);
      if (r.nextCursor) console.log(`\nMore: --cursor ${r.nextCursor}`);
    },
  }),
  "webhook delivery": command({
    group: WEBHOOKS_GROUP,
    args: ["id", "delivery"],
    options: {},
    help: "one delivery: its payload and every attempt (time, status, duration, error)",
    run: (api, a) => api.getDelivery(a.id as string, a.delivery as string),
    show: showDelivery,
  }),
  "webhook redeliver": command({
    group: WEBHOOKS_GROUP,
    args: ["id", "delivery"],
    options: {},
    help: "sends it again now, same webhook-id, retried on the schedule if it fails",
    run: (api, a) => api.redeliver(a.id as string, a.delivery as string),
    show: (r) => console.log(`Redelivering ${r.id} (${r.eventType} ${r.eventId}), round ${r.round}: queued.`),
  }),
  "task log": command({
    group: TASKS_GROUP,
    args: ["task"],
    options: { ...SITE, limit: { value: "n" } },
    help: "the latest runs, newest first",
    run: (api, a, o) => api.listRuns(o.site as string, a.task as string, o.limit),
    show: (r) => table(r.runs, runColumns(r.runs)),
  }),
};

const CSV_COLUMNS = ["plate", "zone", "startTime", "endTime", "permitNo"];

/** Reads a standard-permit CSV (header row required, column names in any case) into the API's rows. */
function readPermitsCsv(file: string) {
  if (!existsSync(file)) throw new UsageError(`No such file: ${file}`);
  let text: string;
  try {
    // Fatal: a file saved in a legacy encoding (Windows-1252 "CSV" from a spreadsheet) must not become replacement characters.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(readFileSync(file));
  } catch {
    throw new CommandError(`${file}: not UTF-8 text. Save it as "CSV UTF-8" (in Excel: Save As, CSV UTF-8 (Comma delimited)).`);
  }
  let records: Record<string, string>[];
  try {
    records = parseCsv(text, {
      columns: (header: string[]) => header.map((name) => CSV_COLUMNS.find((c) => c.toLowerCase() === name.trim().toLowerCase()) ?? name),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (error) {
    throw new CommandError(`${file}: not a readable CSV (${(error as Error).message})`);
  }
  const firstLine = text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "";
  const header = Object.keys(records[0] ?? {});
  const missing = CSV_COLUMNS.slice(0, 4).filter((c) => !header.includes(c));
  if (records.length === 0) throw new CommandError(`${file}: no rows after the header.`);
  if (missing.length > 0) {
    const semicolons = firstLine.includes(";") && !firstLine.includes(",");
    const hint = semicolons ? " The header is separated by semicolons: save the file with commas as the delimiter." : "";
    throw new CommandError(`${file}: the header row lacks ${missing.join(", ")} (columns: ${CSV_COLUMNS.join(",")}).${hint}`);
  }
  return records.map((r) => ({
    plate: r.plate as string,
    zone: r.zone as string,
    startTime: r.startTime as string,
    endTime: r.endTime as string,
    permitNo: r.permitNo || undefined,
  }));
}

/**
 * Creates standard permits in parts of at most {@link PERMITS_PER_REQUEST} rows, one request each (each all or
 * nothing). Stops at the first refused part, whose error names its rows as lines of the whole file.
 */
async function importPermits(
  api: AdminClient,
  site: string,
  rows: ReturnType<typeof readPermitsCsv>,
): Promise<Answer<Data<"createStandardPermits">>> {
  const total = { created: 0, skipped: 0, references: [] as string[] };
  for (let start = 0; start < rows.length; start += PERMITS_PER_REQUEST) {
    const answer = await api.createStandardPermits(site, { permits: rows.slice(start, start + PERMITS_PER_REQUEST) });
    if (!answer.ok) {
      const shift = (text: string) => text.replace(/permits\.(\d+)\./g, (_, i: string) => `permits.${Number(i) + start}.`);
      const done = start > 0 ? ` (rows before line ${start + 2} were imported: ${total.created} created)` : "";
      const error = { ...answer.error, ErrorMessage: `${shift(answer.error.ErrorMessage)}${done}` };
      return { ...answer, error: error.field ? { ...error, field: shift(error.field) } : error };
    }
    total.created += answer.data.created;
    total.skipped += answer.data.skipped;
    total.references.push(...answer.data.references);
  }
  return { ok: true, data: total };
}

/** Prints what a permit create or import did. */
function showCreated(r: Data<"createStandardPermits">) {
  console.log(`Created ${r.created} standard permit(s)${r.skipped ? `; skipped ${r.skipped} already present` : ""}.`);
  for (const reference of r.references) console.log(`  ${reference}`);
}

/** Prints a permit and its history, one line per version. */
function showPermit(p: Data<"getPermit">) {
  const rows = [
    ["reference", p.reference_id],
    ["site", p.site],
    ["type / source", `${p.type} / ${p.source}`],
    ["status", p.status],
    ["plate", p.anonymizedAt ? `removed by retention at ${p.anonymizedAt}` : `${p.plate} (${p.plateNormalized})`],
    ["zone", p.disconnected ? `${p.zone} (disconnected)` : (p.zone ?? "none")],
    ["valid", `${p.start} to ${p.end} UTC`],
    ["amount", p.amount === null ? "none" : `${p.amount} ${p.currency ?? ""}`.trim()],
    ["permit / ticket", `${p.permitNo ?? "-"} / ${p.ticketNumber ?? "-"}`],
    ["promo code", p.promoCode ?? "-"],
    ["state / space", `${p.plateState ?? "-"} / ${p.spaceNumber ?? "-"}`],
    ["stopped", p.stoppedAt ?? "-"],
    ["version", String(p.version)],
    ["deleted", p.deletedAt ?? "no"],
  ];
  for (const [k, v] of rows) console.log(`${(k as string).padEnd(16)}${v}`);
  console.log("\nHistory");
  table(
    p.history.map((h) => ({
      ...h,
      changes: Object.entries(h.changes)
        .map(([k, [a, b]]) => `${k}: ${a ?? "-"} -> ${b ?? "-"}`)
        .join("; "),
    })),
    { VERSION: "version", ACTION: "action", AT: "at", BY: "actor", CHANGES: "changes" },
  );
}

/** Prints a site's ParkMobile settings as the API shows them (the password and key masked). */
function showParkMobile(p: Data<"getParkMobile">, site: string) {
  const value = (v: string | null) => v ?? "(not set)";
  console.log(`ParkMobile settings of site ${site}`);
  console.log(`  base URL:   ${p.baseUrl}`);
  console.log(`  username:   ${value(p.username)}`);
  console.log(`  password:   ${value(p.password)}`);
  console.log(`  API key:    ${value(p.apiKey)}`);
  console.log(`  configured: ${p.configured ? "yes" : "no: the import needs all three"}`);
  if (p.problem) console.log(`  problem:    ${p.problem}`);
  console.log(`  updated:    ${p.updatedAt ?? "never"}`);
}

type Run = Data<"runTask">;

/** A run's outcome and when, in a few words. */
const runSummary = (run: Run | null) => (run ? `${run.outcome} (run ${run.number}, ${run.trigger}, ${run.startedAt})` : "never run");

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
  "TIME ZONE": "timeZone",
  GRACE: (s) => `${s.graceMinutes} min`,
  CREATED: "createdAt",
};
const ZONE_COLUMNS: Columns<Data<"listZones">["zones"][number]> = {
  ID: "id",
  NAME: "name",
  NUMBER: (z) => z.number ?? "",
  "RATE/H": (z) => (z.ratePerHour ? `${z.ratePerHour} ${z.currency ?? ""}` : ""),
  "MAX MIN": (z) => z.maxMinutes ?? "",
  "TIME ZONE": (z) => z.timeZone ?? "",
  CAPACITY: (z) => z.capacity ?? "",
  CREATED: "createdAt",
};
const CLIENT_COLUMNS: Columns<Data<"listClients">["clients"][number]> = {
  "CLIENT ID": "clientId",
  LABEL: "label",
  SCOPES: (c) => c.scopes.join(","),
  SECRET: (c) => `${c.secretPrefix}…`,
  CREATED: "createdAt",
  "LAST USED": (c) => c.lastUsedAt ?? "never",
  TIER: "tier",
  REVOKED: (c) => c.revokedAt ?? "",
};
const TOKEN_COLUMNS: Columns<Data<"listTokens">["tokens"][number]> = {
  ID: "id",
  PREFIX: "prefix",
  LABEL: (t) => t.label ?? "",
  SCOPES: (t) => t.scopes.join(","),
  CREATED: "createdAt",
  "LAST USED": (t) => t.lastUsedAt ?? "never",
  TIER: "tier",
  REVOKED: (t) => t.revokedAt ?? "",
};
const PERMIT_COLUMNS: Columns<Data<"searchPermits">["permits"][number]> = {
  REFERENCE: "reference_id",
  STATUS: "status",
  PLATE: "plate",
  ZONE: (p) => `${p.zone ?? ""}${p.disconnected ? " (disconnected)" : ""}`,
  START: "start",
  END: "end",
  AMOUNT: (p) => (p.amount ? `${p.amount} ${p.currency ?? ""}` : ""),
  "PERMIT/TICKET": (p) => p.permitNo ?? p.ticketNumber ?? "",
  SOURCE: "source",
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
  RUN: "number",
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
  PRUNED: retentionCount((c) => c.feedChangesPruned + c.idempotencyKeysPruned + c.taskRunsPruned + (c.webhookEventsPruned ?? 0)),
  MESSAGE: (r) => r.message ?? "",
};
/** The run log's columns for the task the runs are of. */
const runColumns = (runs: Run[]) => (runs[0]?.task === "retention" ? RETENTION_RUN_COLUMNS : IMPORT_RUN_COLUMNS);

/** A number option; undefined stays undefined (the API keeps the value), and what is not a number travels as NaN, which the API names. */
function number(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return value.trim() === "" ? Number.NaN : Number(value);
}

/** Prints a site's retention policy. */
function showRetention(r: Data<"getRetention">, site: string) {
  console.log(`Retention of site ${site}`);
  console.log(`  anonymize plates after:   ${r.anonymizeAfterDays} days`);
  console.log(`  archive and delete after: ${r.archiveAfterMonths} months`);
  console.log(`  daily run (${r.schedule}):   ${r.enabled ? "enabled" : "disabled (task enable --site <slug> retention)"}`);
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
  console.log(`Site ${site.slug}`);
  console.log(`  name:       ${site.name}`);
  console.log(`  currencies: ${site.currencies.join(",")}`);
  console.log(`  time zone:  ${site.timeZone}`);
  console.log(`  grace:      ${site.graceMinutes} minutes`);
  console.log(`  created:    ${site.createdAt}`);
}

/** Prints a zone's metadata, one line. */
function showZone(z: Data<"addZone">) {
  const parts = [
    `number ${z.number ?? "none"}`,
    `rate ${z.ratePerHour ? `${z.ratePerHour} ${z.currency ?? ""}/h` : "none"}`,
    `longest session ${z.maxMinutes === null ? "default" : `${z.maxMinutes} min`}`,
    `time zone ${z.timeZone ?? "none"}`,
    `capacity ${z.capacity ?? "none"}`,
  ];
  console.log(`  ${parts.join("; ")}.`);
}

/** Prints a client with its secret, which the API shows this once only. */
function showNewClient(client: Data<"createClient">, what: string) {
  console.log(`${what}: OAuth client "${client.label}" for scopes ${client.scopes.join(",")}.`);
  console.log(`\n  client_id:     ${client.clientId}\n  client_secret: ${client.clientSecret}`);
  console.log("\nThe secret is shown once, store it now: it cannot be read back, only rotated.");
}

/** Prints a token with its secret, which the API shows this once only. */
function showNewToken(token: Data<"createToken">, what: string) {
  console.log(`${what}: token ${token.id} for scopes ${token.scopes.join(",")}${token.label ? ` (${token.label})` : ""}.`);
  console.log(`\n  ${token.token}\n\nThis secret is shown once, store it now: it cannot be read back, only rotated.`);
}

const WEBHOOK_COLUMNS: Columns<Data<"getWebhook">> = {
  ID: "id",
  URL: "url",
  EVENTS: (w) => w.events.join(","),
  STATE: (w) => (w.enabled ? "enabled" : w.disabledReason === "gone" ? "disabled (410 Gone)" : "disabled"),
  SECRET: (w) => `${w.secretPrefix}…`,
  DESCRIPTION: (w) => w.description ?? "",
};
const DELIVERY_COLUMNS: Columns<Data<"listDeliveries">["deliveries"][number]> = {
  DELIVERY: "id",
  EVENT: "eventType",
  "WEBHOOK-ID": "eventId",
  STATE: "state",
  ATTEMPTS: "attempts",
  "LAST STATUS": (d) => d.lastStatus ?? "-",
  "LAST ATTEMPT": (d) => d.lastAttemptAt ?? "-",
  NEXT: (d) => d.nextAttemptAt ?? "",
  ERROR: (d) => d.lastError ?? "",
};

/** Prints an endpoint. */
function showWebhook(w: Data<"getWebhook">) {
  const state = w.enabled ? "enabled" : `disabled ${w.disabledAt}${w.disabledReason === "gone" ? " (the receiver answered 410 Gone)" : ""}`;
  console.log(`Webhook endpoint ${w.id}`);
  console.log(`  url:         ${w.url}`);
  console.log(`  events:      ${w.events.join(", ")}`);
  console.log(`  description: ${w.description ?? "-"}`);
  console.log(`  state:       ${state}`);
  console.log(
    `  secret:      ${w.secretPrefix}…${w.previousSecretExpiresAt ? ` (the previous one signs too until ${w.previousSecretExpiresAt})` : ""}`,
  );
  console.log(`  created:     ${w.createdAt}`);
}

/** Prints an endpoint with its secret, which the API shows this once only. */
function showNewWebhook(w: Data<"createWebhook">, what: string) {
  console.log(`${what}: webhook endpoint ${w.id} for ${w.events.join(", ")} at ${w.url}.`);
  console.log(`\n  signing secret: ${w.secret}\n\nThe secret is shown once, store it now: it cannot be read back, only rotated.`);
}

/** Prints a delivery, its payload and its attempts. */
function showDelivery(d: Data<"getDelivery">) {
  console.log(`Delivery ${d.id} of ${d.eventType} ${d.eventId}: ${d.state}, ${d.attempts} attempt(s), round ${d.round}.`);
  if (d.nextAttemptAt) console.log(`Next attempt about ${d.nextAttemptAt} UTC.`);
  console.log("\nAttempts");
  table(d.attemptLog, {
    "#": "number",
    ROUND: "round",
    AT: "at",
    STATUS: (a) => a.status ?? "-",
    MS: "durationMs",
    ERROR: (a) => a.error ?? "",
  });
  console.log(`\nPayload (as sent)\n${JSON.stringify(d.payload)}`);
}
