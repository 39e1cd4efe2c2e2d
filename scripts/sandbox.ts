#!/usr/bin/env node
// `npm start`: a local sandbox. Applies the D1 migrations locally, runs both Workers (the public one,
// wrangler.toml, on the port; the admin one, wrangler.admin.toml, behind its service binding) in one
// `wrangler dev` with a sandbox admin secret, seeds a demo site through the admin API, and prints how to call it.
// State persists under .wrangler/state (SANDBOX_DIR=<dir> for another place, as the end-to-end
// tests do), so a second start keeps the data, seeds nothing twice and keeps the demo token.
// It also runs a fake ParkMobile API in-process (scripts/parkmobile-server.ts), points the demo
// site's ParkMobile import at it, and fires the Worker's Cron Triggers on their schedules (the import
// every 3 minutes, retention daily), which `wrangler dev` never does by itself; and a webhook receiver
// (scripts/webhook-receiver.ts) registered for every event of the demo site, which verifies each
// delivery's signature and prints what it got.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { WEBHOOK_EVENT_TYPES } from "../src/domain/webhooks.ts";
import type { AdminClient, Answer } from "../src/routes/admin/client.ts";
import { describeError, describeRun } from "../src/routes/admin/client.ts";
import seed001Push from "../test/fixtures/seed-001-push.json" with { type: "json" };
import { connect, SANDBOX_DIR, SANDBOX_SECRET_FILE } from "./admin-api.ts";
import type { Data } from "./admin-commands.ts";
import { credentialsFromEnv, type ParkMobileServer, startParkMobileServer } from "./parkmobile-server.ts";
import { receiverPort, startWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.ts";

const ROOT = join(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
/** wrangler's local D1, KV and Durable Objects. */
const STATE_DIR = join(SANDBOX_DIR, "state");
/** The demo token, so the README's examples can read it: TOKEN=$(cat .wrangler/sandbox-token). */
const TOKEN_FILE = join(SANDBOX_DIR, "sandbox-token");
/** The key that encrypts stored ParkMobile credentials (the Worker's SETTINGS_KEY): base64 of 32 random bytes. */
const SETTINGS_KEY_FILE = join(SANDBOX_DIR, "sandbox-settings-key");
/** The key that signs the enforcement feed's continuation tokens (FEED_TOKEN_KEY): kept, so tokens survive restarts. */
const FEED_KEY_FILE = join(SANDBOX_DIR, "sandbox-feed-key");
/**
 * The Worker's secrets for `wrangler dev`, read from a file (mode 600) rather than passed on its command line, where
 * `ps` would show them to every user of the machine.
 */
const SECRETS_FILE = join(SANDBOX_DIR, "sandbox.env");
/** The ParkMobile stand-in's purchases, kept between starts so a restart imports nothing new. */
const PARKMOBILE_STATE_FILE = join(SANDBOX_DIR, "sandbox-parkmobile.json");
const PORT = Number(process.env.PORT || 8787);
const PARKMOBILE_PORT = Number(process.env.PARKMOBILE_PORT || 8788);
/** The webhook receiver's port (0: any free one, as the end-to-end tests ask). */
const WEBHOOK_RECEIVER_PORT = receiverPort();
/** The demo site's webhook endpoint and its signing secret (shown once by the API, so kept here for the receiver). */
const WEBHOOK_ID_FILE = join(SANDBOX_DIR, "sandbox-webhook-id");
const WEBHOOK_SECRET_FILE = join(SANDBOX_DIR, "sandbox-webhook-secret");
/** Where on the receiver the demo endpoint posts. */
const WEBHOOK_PATH = "/demo";
const BASE = `http://127.0.0.1:${PORT}`;
/** What people type; wrangler listens on 127.0.0.1, which localhost reaches. */
const SHOWN = `http://localhost:${PORT}`;
const READY_TIMEOUT_MS = 60_000;
/** How long one admin API call may take (a manual ParkMobile run answers when it has finished). */
const ADMIN_TIMEOUT_MS = 120_000;

const DEMO_SITE = { slug: "demo", name: "Demo site", currencies: ["CAD", "USD"] };
/** The demo lot zones, with what an aggregator's sessions need: the number on the sign, a rate, the longest session. */
const DEMO_ZONES = [
  { name: "Lot 4", number: "104", ratePerHour: "2.50", currency: "CAD", maxMinutes: 240, timeZone: "America/Toronto", capacity: 120 },
  { name: "Lot 01", number: "101", ratePerHour: "3.00", currency: "CAD", maxMinutes: 180, timeZone: "America/Toronto", capacity: 80 },
  { name: "Lot 02", number: "102", ratePerHour: "1.75", currency: "CAD", maxMinutes: 600, timeZone: "America/Toronto", capacity: 200 },
];
const DEMO_SCOPES = ["push", "update", "delete", "stats", "lookup", "sessions"] as const;
/** The demo OAuth client (an aggregator such as ParkOnce). */
const DEMO_CLIENT = { label: "ParkOnce (sandbox)", scopes: ["sessions", "lookup"] as ("sessions" | "lookup")[] };
/** The demo client's id and secret: CLIENT_ID=$(cat .wrangler/sandbox-client-id), likewise the secret. */
const CLIENT_ID_FILE = join(SANDBOX_DIR, "sandbox-client-id");
const CLIENT_SECRET_FILE = join(SANDBOX_DIR, "sandbox-client-secret");
/** Lot zones named like the fake ParkMobile's zones 4410 and 4411; its zone 9999 is left unmatched on purpose. */
const PARKMOBILE_ZONES = ["4410", "4411"];
const PARKMOBILE_TASK = "parkmobile";
const RETENTION_TASK = "retention";
/** How long to wait for a run a scheduled event started to finish, before reporting it as still running. */
const RUN_WAIT_MS = 60_000;
/** How long the scheduled handler may take (it imports every site with the task enabled). */
const SCHEDULED_TIMEOUT_MS = 300_000;
/** The admin API's code for "already exists": seeding again is fine. */
const ALREADY_EXISTS = 9022;

/** Stops with a message and exit code 1. */
function fail(message: string): never {
  console.error(`sandbox: ${message}`);
  process.exit(1);
}

/** Stops wrangler, then exits with code 1 once it has shut down (its exit handler ends the sandbox). */
function stopWrangler(child: ChildProcess, message: string) {
  console.error(`sandbox: ${message}`);
  process.exitCode = 1;
  child.kill("SIGTERM");
}

/** Runs a wrangler command to completion with the terminal attached; exits if it fails. */
function runWrangler(args: string[]) {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], { cwd: ROOT, stdio: "inherit", env: { ...process.env, CI: "true" } });
  if (result.status !== 0) fail(`wrangler ${args.join(" ")} failed (${result.error?.message ?? `exit code ${result.status}`}).`);
}

/** Applies pending D1 migrations to the local database (CI=true skips the confirmation prompt). */
function applyMigrations() {
  runWrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE_DIR]);
}

/** Reads a sandbox secret from `file`, creating it with `make()` on the first start. */
function ensureSecretFile(file: string, make: () => string): string {
  if (!existsSync(file)) {
    mkdirSync(SANDBOX_DIR, { recursive: true });
    writeFileSync(file, `${make()}\n`, { mode: 0o600 });
  }
  return readFileSync(file, "utf8").trim();
}

/** Fails early, with a hint, when something already listens on `port` (the value of the variable `name`). */
function assertPortFree(port: number, name: string): Promise<void> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => fail(`port ${port} is in use (another sandbox?): stop it, or choose another with ${name}=<port> npm start.`));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

/** Copies a stream to the terminal line by line, each line prefixed. */
function pipeWithPrefix(stream: Readable, out: NodeJS.WriteStream) {
  createInterface({ input: stream }).on("line", (line) => out.write(`[wrangler] ${line}\n`));
}

/** Set once Ctrl-C (or SIGTERM) asks the sandbox to stop: no more scheduled events are fired. */
let stopping = false;

/**
 * Starts `wrangler dev` with both Workers (one process: wrangler wires the service binding and the Durable Object
 * binding between them), the admin secret and the settings key; the sandbox forwards signals to it and exits when it
 * does. The first configuration is the one on the port and the one wrangler's options apply to: `--test-scheduled`
 * makes GET /__scheduled?cron=… run the public Worker's scheduled handler (it hosts the Cron Triggers), `--env-file`
 * gives it its secrets, `--persist-to` keeps the data of both. The admin Worker gets none of those options: wrangler
 * gives it the secrets its configuration requires (`[secrets]`) and its `[vars]` from the environment it runs in.
 */
function startWrangler(secret: string, settingsKey: string, feedKey: string): ChildProcess {
  // WEBHOOKS_ALLOW_LOCALHOST: the sandbox's receiver listens on 127.0.0.1, which a deployed Worker never posts to.
  writeFileSync(SECRETS_FILE, `SETTINGS_KEY=${settingsKey}\nFEED_TOKEN_KEY=${feedKey}\nWEBHOOKS_ALLOW_LOCALHOST=true\n`, { mode: 0o600 });
  if (existsSync(join(ROOT, ".dev.vars"))) {
    warn(".dev.vars exists: wrangler gives its values to the admin Worker instead of the sandbox's secrets (remove or rename it).");
  }
  const args = ["dev", "-c", "wrangler.toml", "-c", "wrangler.admin.toml", "--port", String(PORT), "--ip", "127.0.0.1"];
  args.push("--test-scheduled", "--persist-to", STATE_DIR, "--env-file", SECRETS_FILE);
  const child = spawn(process.execPath, [WRANGLER, ...args, "--show-interactive-dev-session=false"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ADMIN_TOKEN: secret, SETTINGS_KEY: settingsKey, WEBHOOKS_ALLOW_LOCALHOST: "true" },
  });
  pipeWithPrefix(child.stdout, process.stdout);
  pipeWithPrefix(child.stderr, process.stderr);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      stopping = true;
      child.kill(signal);
    });
  }
  child.on("exit", (code, signal) => process.exit(process.exitCode || (code ?? (signal ? 0 : 1))));
  return child;
}

/** Polls /openapi.json until the Worker answers 200 (true), or gives up after READY_TIMEOUT_MS (false). */
async function waitUntilReady(): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = await fetch(`${BASE}/openapi.json`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}

/** The data of an answer; an error answer (other than an `allowed` code) throws with the API's message. */
function expectOk<T>(what: string, answer: Answer<T>, allowed: number[] = []): T | null {
  if (answer.ok) return answer.data;
  if (allowed.includes(answer.error.ErrorCode)) return null;
  throw new Error(`${what}: ${describeError(answer.error)}`);
}

const DEMO_TOKEN_LABEL = "sandbox";

/** The file's first line, or "" when there is no such file. */
const savedLine = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trim() : "");

/**
 * Creates the demo site and its lot zones if missing (and sets the zones' numbers and rates as documented). Returns
 * the demo token's secret: the one of the last start while it is live, else a new one (and any other live demo
 * token is revoked, so restarts do not pile them up).
 */
async function seed(api: AdminClient): Promise<string> {
  expectOk("create the demo site", await api.createSite(DEMO_SITE), [ALREADY_EXISTS]);
  for (const { name, ...metadata } of DEMO_ZONES) {
    expectOk(`add lot zone ${name}`, await api.addZone(DEMO_SITE.slug, { name }), [ALREADY_EXISTS]);
    expectOk(`set lot zone ${name}'s number and rate`, await api.updateZone(DEMO_SITE.slug, name, metadata));
  }
  for (const name of PARKMOBILE_ZONES) {
    expectOk(`add lot zone ${name}`, await api.addZone(DEMO_SITE.slug, { name }), [ALREADY_EXISTS]);
  }
  const previous = existsSync(TOKEN_FILE) ? readFileSync(TOKEN_FILE, "utf8").trim() : "";
  const live = (expectOk("list the demo tokens", await api.listTokens(DEMO_SITE.slug))?.tokens ?? []).filter(
    (t) => t.label === DEMO_TOKEN_LABEL && t.revokedAt === null,
  );
  if (previous && live.some((t) => previous.startsWith(t.prefix))) return previous;
  for (const stale of live) expectOk("revoke an old demo token", await api.revokeToken(stale.id));
  const token = expectOk(
    "issue the demo token",
    await api.createToken(DEMO_SITE.slug, { scopes: [...DEMO_SCOPES], label: DEMO_TOKEN_LABEL }),
  );
  writeFileSync(TOKEN_FILE, `${token?.token}\n`, { mode: 0o600 });
  return token?.token as string;
}

/**
 * The demo OAuth client's id and secret: those of the last start while the token endpoint still takes them, else the
 * live demo client with a new secret (created on the first start).
 */
async function seedClient(api: AdminClient): Promise<{ clientId: string; clientSecret: string }> {
  const [clientId, clientSecret] = [savedLine(CLIENT_ID_FILE), savedLine(CLIENT_SECRET_FILE)];
  if (clientId && clientSecret) {
    const check = await fetch(`${BASE}/oauth/token`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    await check.body?.cancel();
    if (check.ok) return { clientId, clientSecret };
  }
  const clients = expectOk("list the OAuth clients", await api.listClients(DEMO_SITE.slug))?.clients ?? [];
  const existing = clients.find((c) => c.label === DEMO_CLIENT.label && c.revokedAt === null);
  const client = existing
    ? expectOk("rotate the demo OAuth client", await api.rotateClient(existing.clientId))
    : expectOk("register the demo OAuth client", await api.createClient(DEMO_SITE.slug, DEMO_CLIENT));
  writeFileSync(CLIENT_ID_FILE, `${client?.clientId}\n`, { mode: 0o600 });
  writeFileSync(CLIENT_SECRET_FILE, `${client?.clientSecret}\n`, { mode: 0o600 });
  return { clientId: client?.clientId as string, clientSecret: client?.clientSecret as string };
}

/**
 * The demo site's webhook endpoint, posting every event type to the receiver: the one of the last start while it
 * exists (its URL moved to where the receiver listens now; its secret rotated if the file lost it), else a new one.
 * Hands the receiver its secret. A disabled endpoint stays disabled: that is the developer's to change.
 */
async function seedWebhook(api: AdminClient, receiver: WebhookReceiver): Promise<Data<"getWebhook">> {
  const url = `${receiver.url}${WEBHOOK_PATH}`;
  const saved = savedLine(WEBHOOK_ID_FILE);
  let secret = savedLine(WEBHOOK_SECRET_FILE);
  const found = saved ? await api.getWebhook(saved) : null;
  let endpoint: Data<"getWebhook">;
  if (found?.ok) {
    endpoint = found.data;
    if (endpoint.url !== url)
      endpoint = expectOk("move the demo webhook endpoint", await api.updateWebhook(endpoint.id, { url })) as typeof endpoint;
    if (!secret) {
      const rotated = expectOk("rotate the demo webhook secret", await api.rotateWebhook(endpoint.id)) as Data<"rotateWebhook">;
      [endpoint, secret] = [rotated, rotated.secret];
    }
  } else {
    const created = expectOk(
      "register the demo webhook endpoint",
      await api.createWebhook(DEMO_SITE.slug, { url, events: [...WEBHOOK_EVENT_TYPES], description: "Sandbox receiver" }),
    ) as Data<"createWebhook">;
    [endpoint, secret] = [created, created.secret];
  }
  writeFileSync(WEBHOOK_ID_FILE, `${endpoint.id}\n`, { mode: 0o600 });
  writeFileSync(WEBHOOK_SECRET_FILE, `${secret}\n`, { mode: 0o600 });
  receiver.setSecret(WEBHOOK_PATH, secret);
  return endpoint;
}

/** The curl line that gets an access token for the demo OAuth client. */
function tokenExample(clientId: string, clientSecret: string): string {
  return [`curl -sS -X POST ${SHOWN}/oauth/token`, `-u '${clientId}:${clientSecret}'`, `-d grant_type=client_credentials`].join(
    " \\\n    ",
  );
}

/** The curl line that pushes seed 001's example permit with the demo token. */
function pushExample(token: string): string {
  const body = { ...seed001Push, apiToken: token };
  return [
    `curl -sS -X POST ${SHOWN}/api/OC-TOMA/v1/permits/push`,
    `-H 'Content-Type: application/json' -H 'Accept: application/json'`,
    `-d '${JSON.stringify(body)}'`,
  ].join(" \\\n    ");
}

/** One line of the sandbox's own. */
const say = (line: string) => console.log(`[sandbox] ${line}`);

let lastWarning = "";
/** A warning, printed once until something else is said: the cron loop would repeat it on every round. */
function warn(line: string) {
  if (line === lastWarning) return;
  lastWarning = line;
  console.error(`[sandbox] warning: ${line}`);
}

/** Whether the demo site's ParkMobile import is configured and enabled (done once per start). */
let parkMobileReady = false;

/**
 * Points the demo site's ParkMobile import at the fake, enables its task and runs it once, printing the run. Never
 * throws: a failure is a warning, and the cron loop tries again. Returns whether the import is configured.
 */
async function setUpParkMobile(api: AdminClient, parkMobile: ParkMobileServer): Promise<boolean> {
  try {
    expectOk("ParkMobile settings", await api.setParkMobile(DEMO_SITE.slug, { baseUrl: parkMobile.url, ...parkMobile.credentials }));
    expectOk("enable the import", await api.setTaskEnabled(DEMO_SITE.slug, PARKMOBILE_TASK, true));
    parkMobileReady = true;
    lastWarning = "";
    say(`ParkMobile import of site "${DEMO_SITE.slug}" points at ${parkMobile.url} and is enabled; running it once…`);
    const run = await api.runTask(DEMO_SITE.slug, PARKMOBILE_TASK);
    if (run.ok) say(describeRun(run.data));
    else if (run.error.ErrorCode === ALREADY_EXISTS) say(`a ParkMobile run is already in progress (${run.error.ErrorMessage}).`);
    else throw new Error(`run the import: ${describeError(run.error)}`);
  } catch (error) {
    warn(`ParkMobile setup: ${(error as Error).message}; the sandbox tries again on the next scheduled round.`);
  }
  return parkMobileReady;
}

let lastCronRunId: number | null = null;

/**
 * What the Cron Trigger would do: runs the Worker's scheduled handler through `/__scheduled` (wrangler's
 * --test-scheduled), for every site, then prints the demo site's newest ParkMobile run, waiting up to RUN_WAIT_MS
 * for it to finish. Retries the demo's ParkMobile setup first if it has not succeeded yet.
 */
async function fireCron(api: AdminClient, parkMobile: ParkMobileServer, cron: string) {
  if (!parkMobileReady) await setUpParkMobile(api, parkMobile);
  const response = await fetch(`${BASE}/__scheduled?${new URLSearchParams({ cron })}`, {
    signal: AbortSignal.timeout(SCHEDULED_TIMEOUT_MS),
  });
  if (!response.ok) {
    const text = (await response.text()).replace(/\s+/g, " ").slice(0, 200);
    return warn(`cron: the scheduled event failed: /__scheduled answered HTTP ${response.status}: ${text}`);
  }
  // Without the demo's ParkMobile setup there is no run to report (the setup's warning said why).
  if (!parkMobileReady) return;
  const deadline = Date.now() + RUN_WAIT_MS;
  let run: Extract<Awaited<ReturnType<AdminClient["runTask"]>>, { ok: true }>["data"] | undefined;
  for (;;) {
    [run] = expectOk("read the run log", await api.listRuns(DEMO_SITE.slug, PARKMOBILE_TASK, 1))?.runs ?? [];
    if (run?.outcome !== "running" || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  lastWarning = "";
  if (run?.trigger === "cron" && run.id !== lastCronRunId) {
    say(describeRun(run));
    lastCronRunId = run.id;
  } else {
    say(`cron: the scheduled event started no ParkMobile run for "${DEMO_SITE.slug}" (task disabled, or a run under way?)`);
    if (run) say(`  newest: ${describeRun(run)}`);
  }
}

/**
 * When a cron schedule next fires after `now` (ms), for the schedules this sandbox can imitate: every N minutes
 * (`*\/N * * * *`) and daily at a UTC time (`M H * * *`). The schedules themselves are the Worker's: its task list says them.
 */
function nextFire(cron: string, now: number): number {
  const every = /^\*\/(\d+) \* \* \* \*$/.exec(cron)?.[1];
  if (every) {
    const interval = Number(every) * 60_000;
    return now + interval - (now % interval);
  }
  const daily = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(cron);
  if (daily) {
    const day = new Date(now);
    const today = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), Number(daily[2]), Number(daily[1]));
    return today > now ? today : today + 86_400_000;
  }
  return fail(`a task's schedule "${cron}" is neither "*/N * * * *" nor "M H * * *", which the sandbox imitates.`);
}

/** Fires `fire` at each time the cron schedule names, until the sandbox stops. */
function scheduleCron(cron: string, fire: () => Promise<void>) {
  setTimeout(async () => {
    if (stopping) return;
    try {
      await fire();
    } catch (error) {
      if (!stopping) warn(`cron ${cron}: ${(error as Error).message}`);
    }
    scheduleCron(cron, fire);
  }, nextFire(cron, Date.now()) - Date.now()).unref();
}

/** The daily Cron Trigger: runs retention for every site that has it enabled, then prints the demo site's run. */
async function fireRetention(api: AdminClient, cron: string) {
  const response = await fetch(`${BASE}/__scheduled?${new URLSearchParams({ cron })}`, {
    signal: AbortSignal.timeout(SCHEDULED_TIMEOUT_MS),
  });
  if (!response.ok) return warn(`cron: the scheduled event failed: /__scheduled answered HTTP ${response.status}`);
  const [run] = expectOk("read the retention log", await api.listRuns(DEMO_SITE.slug, RETENTION_TASK, 1))?.runs ?? [];
  if (run) say(describeRun(run));
}

/** A sandbox file as the banner shows it: relative to the project when it is inside it, as the README's examples read it. */
const shown = (file: string) => (relative(ROOT, file).startsWith("..") ? file : relative(ROOT, file));

/** The admin CLI as the banner shows it (PORT passed on when it is not the default). */
const CLI = `${PORT === 8787 ? "" : `PORT=${PORT} `}npm run admin --`;

/** The banner's ParkMobile commands, each with what it does, aligned. */
function parkMobileCommands(): string {
  const commands = [
    [`task log --site ${DEMO_SITE.slug} ${PARKMOBILE_TASK}`, "the runs, newest first"],
    [`task run --site ${DEMO_SITE.slug} ${PARKMOBILE_TASK}`, "run the import now"],
    [`parkmobile show --site ${DEMO_SITE.slug}`, "its settings (secrets masked)"],
  ] as const;
  const width = Math.max(...commands.map(([command]) => command.length));
  return commands.map(([command, what]) => `    ${CLI} ${command.padEnd(width)}   ${what}`).join("\n");
}

/** Tells the developer where the sandbox is and how to use it. */
function printBanner(
  secrets: { token: string; clientId: string; clientSecret: string },
  webhook: { endpoint: Data<"getWebhook">; receiver: WebhookReceiver },
  parkMobile: ParkMobileServer,
  parkMobileConfigured: boolean,
  cron: string,
  retentionSchedule: string,
) {
  const { token, clientId, clientSecret } = secrets;
  const rule = "─".repeat(72);
  const pending = parkMobileConfigured ? "" : "\n  (not set up yet: see the warning above; the sandbox tries again on the next round)";
  console.log(`
${rule}
  permits-edge sandbox: ${SHOWN}
  Try the API in a browser at ${SHOWN}/docs: Authorize with the token or the OAuth client below.

  Admin CLI (uses the sandbox admin secret in ${shown(SANDBOX_SECRET_FILE)}):
    ${CLI} site list

  Site "${DEMO_SITE.slug}", lot zones ${DEMO_ZONES.map((z) => `${z.name} (number ${z.number}, ${z.ratePerHour} ${z.currency}/h)`).join(", ")},
  ${PARKMOBILE_ZONES.join(", ")}; its API token (${DEMO_SCOPES.join(",")}):
    ${token}
  (also in ${shown(TOKEN_FILE)}: export TOKEN=$(cat ${shown(TOKEN_FILE)}) for the README's examples)

  OAuth client "${DEMO_CLIENT.label}" (${DEMO_CLIENT.scopes.join(",")}):
    client_id:     ${clientId}
    client_secret: ${clientSecret}
  (also in ${shown(CLIENT_ID_FILE)} and ${shown(CLIENT_SECRET_FILE)})
  Get an access token:
    ${tokenExample(clientId, clientSecret)}

  Push a permit:
    ${pushExample(token)}

  ParkMobile: a fake API at ${parkMobile.url} (user ${parkMobile.credentials.username}) with new purchases every minute.
  Site "${DEMO_SITE.slug}" imports its zones ${PARKMOBILE_ZONES.join(" and ")} into the lot zones of those names; its zone 9999
  has no lot zone, deliberately, so every run skips it. The sandbox fires the Cron Trigger
  (${cron}) on its schedule, which wrangler dev does not do by itself.${pending}
${parkMobileCommands()}

  Enforcement feed (Genetec Pay-by-Plate) of the same site, with the same token:
    curl -sS ${SHOWN}/api/pbp/v2014-06/zones -H 'X-ApiKey: ${token}'

  Retention runs daily at ${retentionSchedule} (cron); by hand: ${CLI} task run --site ${DEMO_SITE.slug} retention

  Webhooks: a receiver at ${webhook.receiver.url} verifies each delivery's signature (Standard Webhooks library) and
  prints it as a [webhooks] line. Site "${DEMO_SITE.slug}" sends it every event through endpoint ${webhook.endpoint.id}
  (${webhook.endpoint.enabled ? "enabled" : "DISABLED: webhook enable it"}; its secret in ${shown(WEBHOOK_SECRET_FILE)}).
    ${CLI} webhook deliveries ${webhook.endpoint.id}

  Ctrl-C stops the sandbox; data (D1, KV, R2 archives) stays in ${shown(STATE_DIR)}.
${rule}
`);
}

applyMigrations();
const secret = ensureSecretFile(SANDBOX_SECRET_FILE, () => randomBytes(20).toString("hex"));
const settingsKey = ensureSecretFile(SETTINGS_KEY_FILE, () => randomBytes(32).toString("base64"));
const feedKey = ensureSecretFile(FEED_KEY_FILE, () => randomBytes(32).toString("base64"));
if (PORT === PARKMOBILE_PORT) fail(`PORT and PARKMOBILE_PORT are both ${PORT}: choose two ports.`);
if (WEBHOOK_RECEIVER_PORT === PORT || WEBHOOK_RECEIVER_PORT === PARKMOBILE_PORT) {
  fail(`WEBHOOK_RECEIVER_PORT is ${WEBHOOK_RECEIVER_PORT}, a port the sandbox already takes: choose another.`);
}
await assertPortFree(PORT, "PORT");
await assertPortFree(PARKMOBILE_PORT, "PARKMOBILE_PORT");
if (WEBHOOK_RECEIVER_PORT !== 0) await assertPortFree(WEBHOOK_RECEIVER_PORT, "WEBHOOK_RECEIVER_PORT");
const parkMobile = await startParkMobileServer({
  port: PARKMOBILE_PORT,
  credentials: credentialsFromEnv(),
  stateFile: PARKMOBILE_STATE_FILE,
}).catch((error) =>
  fail(
    error.code === "EADDRINUSE"
      ? `port ${PARKMOBILE_PORT} is in use: choose another with PARKMOBILE_PORT=<port> npm start.`
      : `the fake ParkMobile API did not start: ${error.message}`,
  ),
);
const receiver = await startWebhookReceiver({ port: WEBHOOK_RECEIVER_PORT }).catch((error) =>
  fail(
    `the webhook receiver did not start: ${error.code === "EADDRINUSE" ? "its port is in use; set WEBHOOK_RECEIVER_PORT" : error.message}`,
  ),
);
const wrangler = startWrangler(secret, settingsKey, feedKey);
const api = connect(BASE, secret, { timeoutMs: ADMIN_TIMEOUT_MS });
if (!(await waitUntilReady())) {
  stopWrangler(wrangler, `the Worker did not answer ${BASE}/openapi.json within ${READY_TIMEOUT_MS / 1000} s.`);
} else {
  try {
    const secrets = { token: await seed(api), ...(await seedClient(api)) };
    const webhook = { endpoint: await seedWebhook(api, receiver), receiver };
    // The schedule is the Worker's own (the task list says it), so the sandbox fires what a deployment would.
    const tasks = expectOk("read the tasks", await api.listTasks(DEMO_SITE.slug))?.tasks ?? [];
    const task = tasks.find((t) => t.task === PARKMOBILE_TASK);
    const retention = tasks.find((t) => t.task === RETENTION_TASK);
    if (!task || !retention) throw new Error(`the Worker lacks the ${PARKMOBILE_TASK} or ${RETENTION_TASK} task`);
    const configured = await setUpParkMobile(api, parkMobile);
    printBanner(secrets, webhook, parkMobile, configured, task.schedule, retention.schedule);
    scheduleCron(task.schedule, () => fireCron(api, parkMobile, task.schedule));
    scheduleCron(retention.schedule, () => fireRetention(api, retention.schedule));
  } catch (error) {
    stopWrangler(wrangler, `seeding failed: ${(error as Error).message}`);
  }
}
