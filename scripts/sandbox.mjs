#!/usr/bin/env node
// `npm start`: a local sandbox. Applies the D1 migrations locally, runs `wrangler dev` with a
// sandbox admin secret, seeds a demo site through the admin API, and prints how to call it.
// State persists under .wrangler/state, so a second start keeps the data and seeds nothing twice.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const SECRET_FILE = join(ROOT, ".wrangler", "sandbox-admin-token");
/** The demo token of the latest start, so the README's examples can read it: TOKEN=$(cat .wrangler/sandbox-token). */
const TOKEN_FILE = join(ROOT, ".wrangler", "sandbox-token");
const PORT = Number(process.env.PORT || 8787);
const BASE = `http://127.0.0.1:${PORT}`;
/** What people type; wrangler listens on 127.0.0.1, which localhost reaches. */
const SHOWN = `http://localhost:${PORT}`;
const READY_TIMEOUT_MS = 60_000;

const DEMO_SITE = { slug: "demo", name: "Demo site", currencies: ["CAD", "USD"] };
const DEMO_ZONES = ["Lot 4", "Lot 01", "Lot 02"];
const DEMO_SCOPES = ["push", "update", "delete", "stats", "lookup"];

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

/** Reads the sandbox admin secret, creating a random one on the first start. */
function ensureAdminSecret() {
  if (!existsSync(SECRET_FILE)) {
    mkdirSync(join(ROOT, ".wrangler"), { recursive: true });
    writeFileSync(SECRET_FILE, `${randomBytes(20).toString("hex")}\n`, { mode: 0o600 });
  }
  return readFileSync(SECRET_FILE, "utf8").trim();
}

/** Fails early, with a hint, when something already listens on PORT. */
function assertPortFree() {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => fail(`port ${PORT} is in use (another sandbox?): stop it, or run PORT=8788 npm start.`));
    probe.listen(PORT, "127.0.0.1", () => probe.close(resolve));
  });
}

/** Copies a stream to the terminal line by line, each line prefixed. */
function pipeWithPrefix(stream, out) {
  createInterface({ input: stream }).on("line", (line) => out.write(`[wrangler] ${line}\n`));
}

/** Starts `wrangler dev` with the admin secret; the sandbox forwards signals to it and exits when it does. */
function startWrangler(secret) {
  const args = ["dev", "--port", String(PORT), "--ip", "127.0.0.1", "--var", `ADMIN_TOKEN:${secret}`];
  const child = spawn(process.execPath, [WRANGLER, ...args, "--show-interactive-dev-session=false"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  pipeWithPrefix(child.stdout, process.stdout);
  pipeWithPrefix(child.stderr, process.stderr);
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
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

/** One admin API call; `allowed` lists the ErrorCodes that are fine (9022: already exists). Returns the JSON answer. */
async function admin(secret, method, path, body, allowed = []) {
  const response = await fetch(`${BASE}/api/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (response.ok || allowed.includes(answer.ErrorCode)) return answer;
  throw new Error(`${method} ${path}: error ${answer.ErrorCode} (${answer.field ?? "-"}): ${answer.ErrorMessage}`);
}

/** Creates the demo site and its lot zones if missing, and issues a fresh token for them. Returns the token's secret. */
async function seed(secret) {
  await admin(secret, "POST", "/sites", DEMO_SITE, [9022]);
  for (const name of DEMO_ZONES) await admin(secret, "POST", `/sites/${DEMO_SITE.slug}/zones`, { name }, [9022]);
  const token = await admin(secret, "POST", `/sites/${DEMO_SITE.slug}/tokens`, { scopes: DEMO_SCOPES, label: "sandbox" });
  writeFileSync(TOKEN_FILE, `${token.token}\n`, { mode: 0o600 });
  return token.token;
}

/** The curl line that pushes seed 001's example permit with the demo token. */
function pushExample(token) {
  const body = {
    apiToken: token,
    Amount: "14.50",
    CurrencyID: "CAD",
    LicencePlate: "PL8RDR",
    zone: "Lot 4",
    permitNo: "L4-1138",
    startTime: "2018-07-02T09:00:00",
    endTime: "2018-07-02T09:30:00",
    promoCode: "DISCOUNT20",
  };
  return [
    `curl -sS -X POST ${SHOWN}/api/OC-TOMA/v1/permits/push`,
    `-H 'Content-Type: application/json' -H 'Accept: application/json'`,
    `-d '${JSON.stringify(body)}'`,
  ].join(" \\\n    ");
}

/** Tells the developer where the sandbox is and how to use it. */
function printBanner(token) {
  const rule = "─".repeat(72);
  console.log(`
${rule}
  permits-edge sandbox: ${SHOWN}   (docs: ${SHOWN}/docs)

  Admin CLI (uses the sandbox admin secret in .wrangler/sandbox-admin-token):
    ${PORT === 8787 ? "" : `PORT=${PORT} `}npm run admin -- site list

  Site "${DEMO_SITE.slug}", lot zones ${DEMO_ZONES.join(", ")}; a fresh API token (${DEMO_SCOPES.join(",")}):
    ${token}
  (also in .wrangler/sandbox-token: export TOKEN=$(cat .wrangler/sandbox-token) for the README's examples)

  Push a permit:
    ${pushExample(token)}

  Ctrl-C stops the sandbox; data stays in .wrangler/state.
${rule}
`);
}

checkNode();
applyMigrations();
const secret = ensureAdminSecret();
await assertPortFree();
const wrangler = startWrangler(secret);
if (!(await waitUntilReady())) {
  stopWrangler(wrangler, `the Worker did not answer ${BASE}/openapi.json within ${READY_TIMEOUT_MS / 1000} s.`);
} else {
  try {
    printBanner(await seed(secret));
  } catch (error) {
    stopWrangler(wrangler, `seeding failed: ${error.message}`);
  }
}
