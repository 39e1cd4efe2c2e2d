#!/usr/bin/env node
// `npm start`: a local sandbox. Applies the D1 migrations locally, runs `wrangler dev` with a
// sandbox admin secret, seeds a demo site through the admin API, and prints how to call it.
// State persists under .wrangler/state, so a second start keeps the data and seeds nothing twice.
// It also runs a fake ParkMobile API in-process (scripts/parkmobile-server.mjs), points the demo
// site's ParkMobile import at it, and fires the Worker's Cron Trigger every 3 minutes, which
// `wrangler dev` never does by itself.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import seed001Push from "../test/fixtures/seed-001-push.json" with { type: "json" };
import { credentialsFromEnv, startParkMobileServer } from "./parkmobile-server.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const SECRET_FILE = join(ROOT, ".wrangler", "sandbox-admin-token");
/** The demo token of the latest start, so the README's examples can read it: TOKEN=$(cat .wrangler/sandbox-token). */
const TOKEN_FILE = join(ROOT, ".wrangler", "sandbox-token");
/** The key that encrypts stored ParkMobile credentials (the Worker's SETTINGS_KEY): base64 of 32 random bytes. */
const SETTINGS_KEY_FILE = join(ROOT, ".wrangler", "sandbox-settings-key");
const PORT = Number(process.env.PORT || 8787);
const PARKMOBILE_PORT = Number(process.env.PARKMOBILE_PORT || 8788);
const BASE = `http://127.0.0.1:${PORT}`;
/** What people type; wrangler listens on 127.0.0.1, which localhost reaches. */
const SHOWN = `http://localhost:${PORT}`;
const READY_TIMEOUT_MS = 60_000;
/** How long one admin API call may take (a manual ParkMobile run answers when it has finished). */
const ADMIN_TIMEOUT_MS = 120_000;

const DEMO_SITE = { slug: "demo", name: "Demo site", currencies: ["CAD", "USD"] };
const DEMO_ZONES = ["Lot 4", "Lot 01", "Lot 02"];
const DEMO_SCOPES = ["push", "update", "delete", "stats", "lookup"];
/** Lot zones named like the fake ParkMobile's zones 4410 and 4411; its zone 9999 is left unmatched on purpose. */
const PARKMOBILE_ZONES = ["4410", "4411"];
const PARKMOBILE_TASK = "parkmobile";
/** The Worker's Cron Trigger for the ParkMobile import, and how often the sandbox fires it. */
const CRON = "*/3 * * * *";
const CRON_INTERVAL_MS = 180_000;
/** How long to wait for a run a scheduled event started to finish, before reporting it as still running. */
const RUN_WAIT_MS = 60_000;
/** How long the scheduled handler may take (it imports every site with the task enabled). */
const SCHEDULED_TIMEOUT_MS = 300_000;

/** Stops with a message and exit code 1. */
function fail(message) {
  console.error(`sandbox: ${message}`);
  process.exit(1);
}

/** Stops wrangler, then exits with code 1 once it has shut down (its exit handler ends the sandbox). */
function stopWrangler(child, message) {
  console.error(`sandbox: ${message}`);
  process.exitCode = 1;
  child.kill("SIGTERM");
}

/** Wrangler needs Node 22 or newer; `npm start` puts the project's own Node first on PATH. */
function checkNode() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) fail(`Node ${process.versions.node} is too old for wrangler: run \`npm start\`, which uses the project's Node.`);
}

/** Runs a wrangler command to completion with the terminal attached; exits if it fails. */
function runWrangler(args) {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], { cwd: ROOT, stdio: "inherit", env: { ...process.env, CI: "true" } });
  if (result.status !== 0) fail(`wrangler ${args.join(" ")} failed (${result.error?.message ?? `exit code ${result.status}`}).`);
}

/** Applies pending D1 migrations to the local database (CI=true skips the confirmation prompt). */
function applyMigrations() {
  runWrangler(["d1", "migrations", "apply", "DB", "--local"]);
}

/** Reads a sandbox secret from `file`, creating it with `make()` on the first start. */
function ensureSecretFile(file, make) {
  if (!existsSync(file)) {
    mkdirSync(join(ROOT, ".wrangler"), { recursive: true });
    writeFileSync(file, `${make()}\n`, { mode: 0o600 });
  }
  return readFileSync(file, "utf8").trim();
}

/** The sandbox admin secret, random on the first start. */
const ensureAdminSecret = () => ensureSecretFile(SECRET_FILE, () => randomBytes(20).toString("hex"));

/** The sandbox SETTINGS_KEY, random on the first start (kept, so stored credentials stay readable). */
const ensureSettingsKey = () => ensureSecretFile(SETTINGS_KEY_FILE, () => randomBytes(32).toString("base64"));

/** Fails early, with a hint, when something already listens on `port` (the value of the variable `name`). */
function assertPortFree(port, name) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => fail(`port ${port} is in use (another sandbox?): stop it, or choose another with ${name}=<port> npm start.`));
    probe.listen(port, "127.0.0.1", () => probe.close(resolve));
  });
}

/** Copies a stream to the terminal line by line, each line prefixed. */
function pipeWithPrefix(stream, out) {
  createInterface({ input: stream }).on("line", (line) => out.write(`[wrangler] ${line}\n`));
}

/**
 * Starts `wrangler dev` with the admin secret and the settings key; the sandbox forwards signals to it and exits when
 * it does. `--test-scheduled` makes GET /__scheduled?cron=… run the Worker's scheduled handler.
 */
function startWrangler(secret, settingsKey) {
  const args = ["dev", "--port", String(PORT), "--ip", "127.0.0.1", "--test-scheduled"];
  args.push("--var", `ADMIN_TOKEN:${secret}`, "--var", `SETTINGS_KEY:${settingsKey}`);
  const child = spawn(process.execPath, [WRANGLER, ...args, "--show-interactive-dev-session=false"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  pipeWithPrefix(child.stdout, process.stdout);
  pipeWithPrefix(child.stderr, process.stderr);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      stopping = true;
      child.kill(signal);
    });
  }
  child.on("exit", (code, signal) => process.exit(process.exitCode || (code ?? (signal ? 0 : 1))));
  return child;
}

/** Polls /openapi.json until the Worker answers 200 (true), or gives up after READY_TIMEOUT_MS (false). */
async function waitUntilReady() {
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

/** An admin API error answer; `missing` when the Worker has no such route (an endpoint it does not have yet). */
class AdminError extends Error {
  constructor(method, path, status, answer) {
    const what = answer ? `error ${answer.ErrorCode} (${answer.field ?? "-"}): ${answer.ErrorMessage}` : `HTTP ${status}, not JSON`;
    super(`${method} ${path}: ${what}`);
    this.route = `${method} ${path}`;
    this.missing = status === 404 && /^No route for /.test(answer?.ErrorMessage ?? "");
  }
}

/** One admin API call; `allowed` lists the ErrorCodes that are fine (9022: already exists). Returns the JSON answer. */
async function admin(secret, method, path, body, allowed = []) {
  const response = await fetch(`${BASE}/api/admin/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${secret}`,
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
  });
  const text = await response.text();
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page, a crash): reported as such below.
  }
  if (answer && (response.ok || allowed.includes(answer.ErrorCode))) return answer;
  throw new AdminError(method, path, response.status, answer);
}

/** Creates the demo site and its lot zones if missing, and issues a fresh token for them. Returns the token's secret. */
async function seed(secret) {
  await admin(secret, "POST", "/sites", DEMO_SITE, [9022]);
  for (const name of [...DEMO_ZONES, ...PARKMOBILE_ZONES]) await admin(secret, "POST", `/sites/${DEMO_SITE.slug}/zones`, { name }, [9022]);
  const token = await admin(secret, "POST", `/sites/${DEMO_SITE.slug}/tokens`, { scopes: DEMO_SCOPES, label: "sandbox" });
  writeFileSync(TOKEN_FILE, `${token.token}\n`, { mode: 0o600 });
  return token.token;
}

/** The curl line that pushes seed 001's example permit with the demo token. */
function pushExample(token) {
  const body = { ...seed001Push, apiToken: token };
  return [
    `curl -sS -X POST ${SHOWN}/api/OC-TOMA/v1/permits/push`,
    `-H 'Content-Type: application/json' -H 'Accept: application/json'`,
    `-d '${JSON.stringify(body)}'`,
  ].join(" \\\n    ");
}

/** Set once Ctrl-C (or SIGTERM) asks the sandbox to stop: no more scheduled events are fired. */
let stopping = false;

/** One line of the sandbox's own. */
const say = (line) => console.log(`[sandbox] ${line}`);

let lastWarning = "";
/** A warning, printed once until something else is said: the cron loop would repeat it every 3 minutes. */
function warn(line) {
  if (line === lastWarning) return;
  lastWarning = line;
  console.error(`[sandbox] warning: ${line}`);
}

/** A ParkMobile run in one line. */
function describeRun(run) {
  const c = run.counts ?? {};
  const skipped = c.skippedZones?.length ? ` (${c.skippedZones.join(", ")})` : "";
  return [
    `run ${run.id} (${run.trigger}) ${run.outcome}: zones ${c.zonesMatched ?? 0} matched, ${c.zonesSkipped ?? 0} skipped${skipped};`,
    `rights ${c.rightsFetched ?? 0} fetched, ${c.created ?? 0} created, ${c.updated ?? 0} updated, ${c.unchanged ?? 0} unchanged,`,
    `${c.rejected ?? 0} rejected${run.message ? `; ${run.message}` : ""}`,
  ].join(" ");
}

const TASK_PATH = `/sites/${DEMO_SITE.slug}/tasks/${PARKMOBILE_TASK}`;
/** Whether the demo site's ParkMobile import is configured and enabled (done once per start). */
let parkMobileReady = false;

/**
 * Points the demo site's ParkMobile import at the fake, enables its task and runs it once, printing the run.
 * Never throws: a Worker without the ParkMobile endpoints (404) or any other failure is a warning, and the cron
 * loop tries again. Returns whether the import is configured.
 */
async function setUpParkMobile(secret, parkMobile) {
  try {
    await admin(secret, "PUT", `/sites/${DEMO_SITE.slug}/parkmobile`, { baseUrl: parkMobile.url, ...parkMobile.credentials });
    await admin(secret, "PATCH", TASK_PATH, { enabled: true });
    parkMobileReady = true;
    lastWarning = "";
    say(`ParkMobile import of site "${DEMO_SITE.slug}" points at ${parkMobile.url} and is enabled; running it once…`);
    const run = await admin(secret, "POST", `${TASK_PATH}/run`, undefined, [9022]);
    if (run.status === "error") say(`a ParkMobile run is already in progress (${run.ErrorMessage}).`);
    else say(`manual ${describeRun(run)}`);
  } catch (error) {
    if (error instanceof AdminError && error.missing) {
      warn(
        `this Worker has no ParkMobile endpoints yet (${error.route}: 404); the sandbox runs without them and tries again every 3 minutes.`,
      );
    } else {
      warn(`ParkMobile setup: ${error.message}; the sandbox tries again every 3 minutes.`);
    }
  }
  return parkMobileReady;
}

/**
 * What the Cron Trigger would do: runs the Worker's scheduled handler through `/__scheduled` (wrangler's
 * --test-scheduled), for every site, then prints the demo site's newest ParkMobile run, waiting up to RUN_WAIT_MS
 * for it to finish. Retries the demo's ParkMobile setup first if it has not succeeded yet.
 */
async function fireCron(secret, parkMobile) {
  if (!parkMobileReady) await setUpParkMobile(secret, parkMobile);
  const response = await fetch(`${BASE}/__scheduled?${new URLSearchParams({ cron: CRON })}`, {
    signal: AbortSignal.timeout(SCHEDULED_TIMEOUT_MS),
  });
  if (!response.ok) {
    const text = (await response.text()).replace(/\s+/g, " ").slice(0, 200);
    return warn(`cron: the scheduled event failed: /__scheduled answered HTTP ${response.status}: ${text}`);
  }
  // Without the demo's ParkMobile setup there is no run to report (the setup's warning said why).
  if (!parkMobileReady) return;
  const deadline = Date.now() + RUN_WAIT_MS;
  let run;
  for (;;) {
    [run] = (await admin(secret, "GET", `${TASK_PATH}/runs?limit=1`)).runs ?? [];
    if (run?.outcome !== "running" || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  lastWarning = "";
  if (run?.trigger === "cron" && run.id !== lastCronRunId) {
    say(`cron ${describeRun(run)}`);
    lastCronRunId = run.id;
  } else {
    say(`cron: the scheduled event started no ParkMobile run for "${DEMO_SITE.slug}" (task disabled, or a run under way?)`);
    if (run) say(`  newest: ${describeRun(run)}`);
  }
}
let lastCronRunId = null;

/** Fires the Cron Trigger at each 3-minute mark of the clock, as the CRON schedule would, until the sandbox stops. */
function scheduleCron(secret, parkMobile) {
  const delay = CRON_INTERVAL_MS - (Date.now() % CRON_INTERVAL_MS);
  setTimeout(async () => {
    if (stopping) return;
    try {
      await fireCron(secret, parkMobile);
    } catch (error) {
      const text =
        error instanceof AdminError && error.missing ? `this Worker has no ParkMobile runs endpoint (${error.route}: 404)` : error.message;
      if (!stopping) warn(`cron: ${text}`);
    }
    scheduleCron(secret, parkMobile);
  }, delay).unref();
}

/** The admin CLI as the banner shows it (PORT passed on when it is not the default). */
const CLI = `${PORT === 8787 ? "" : `PORT=${PORT} `}npm run admin --`;

/** The banner's ParkMobile commands, each with what it does, aligned. */
function parkMobileCommands() {
  const commands = [
    [`task log --site ${DEMO_SITE.slug} ${PARKMOBILE_TASK}`, "the runs, newest first"],
    [`task run --site ${DEMO_SITE.slug} ${PARKMOBILE_TASK}`, "run the import now"],
    [`parkmobile show --site ${DEMO_SITE.slug}`, "its settings (secrets masked)"],
  ];
  const width = Math.max(...commands.map(([command]) => command.length));
  return commands.map(([command, what]) => `    ${CLI} ${command.padEnd(width)}   ${what}`).join("\n");
}

/** Tells the developer where the sandbox is and how to use it. */
function printBanner(token, parkMobile, parkMobileConfigured) {
  const rule = "─".repeat(72);
  const pending = parkMobileConfigured ? "" : "\n  (not set up yet: see the warning above; the sandbox tries again every 3 minutes)";
  console.log(`
${rule}
  permits-edge sandbox: ${SHOWN}   (docs: ${SHOWN}/docs)

  Admin CLI (uses the sandbox admin secret in .wrangler/sandbox-admin-token):
    ${CLI} site list

  Site "${DEMO_SITE.slug}", lot zones ${[...DEMO_ZONES, ...PARKMOBILE_ZONES].join(", ")}; a fresh API token (${DEMO_SCOPES.join(",")}):
    ${token}
  (also in .wrangler/sandbox-token: export TOKEN=$(cat .wrangler/sandbox-token) for the README's examples)

  Push a permit:
    ${pushExample(token)}

  ParkMobile: a fake API at ${parkMobile.url} (user ${parkMobile.credentials.username}) with new purchases every minute.
  Site "${DEMO_SITE.slug}" imports its zones ${PARKMOBILE_ZONES.join(" and ")} into the lot zones of those names; its zone 9999
  has no lot zone, deliberately, so every run skips it. The sandbox fires the Cron Trigger
  (${CRON}) every 3 minutes, which wrangler dev does not do by itself.${pending}
${parkMobileCommands()}

  Ctrl-C stops the sandbox; data stays in .wrangler/state.
${rule}
`);
}

checkNode();
applyMigrations();
const secret = ensureAdminSecret();
const settingsKey = ensureSettingsKey();
if (PORT === PARKMOBILE_PORT) fail(`PORT and PARKMOBILE_PORT are both ${PORT}: choose two ports.`);
await assertPortFree(PORT, "PORT");
await assertPortFree(PARKMOBILE_PORT, "PARKMOBILE_PORT");
const parkMobile = await startParkMobileServer({ port: PARKMOBILE_PORT, credentials: credentialsFromEnv() }).catch((error) =>
  fail(
    error.code === "EADDRINUSE"
      ? `port ${PARKMOBILE_PORT} is in use: choose another with PARKMOBILE_PORT=<port> npm start.`
      : `the fake ParkMobile API did not start: ${error.message}`,
  ),
);
const wrangler = startWrangler(secret, settingsKey);
if (!(await waitUntilReady())) {
  stopWrangler(wrangler, `the Worker did not answer ${BASE}/openapi.json within ${READY_TIMEOUT_MS / 1000} s.`);
} else {
  let token;
  try {
    token = await seed(secret);
  } catch (error) {
    stopWrangler(wrangler, `seeding failed: ${error.message}`);
  }
  if (token) {
    const configured = await setUpParkMobile(secret, parkMobile);
    printBanner(token, parkMobile, configured);
    scheduleCron(secret, parkMobile);
  }
}
