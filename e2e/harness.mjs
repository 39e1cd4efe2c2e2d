// What the end-to-end tests stand on: the sandbox (`scripts/sandbox.ts`) started on its own ports, Debian's
// Chromium driven by playwright-core, full-page screenshots into test-artifacts/e2e, a tiny page on another
// origin, and the waiting and table reading that playwright-core (which has no `expect`) leaves to us.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The first of the three ports the suite takes (8801 unless E2E_PORT says another, to run two suites side by side). */
const FIRST_PORT = Number(process.env.E2E_PORT || 8801);
export const PORT = FIRST_PORT;
export const PARKMOBILE_PORT = FIRST_PORT + 1;
/** The port of the page on another origin (127.0.0.1, not localhost: another site). */
export const OTHER_ORIGIN_PORT = FIRST_PORT + 2;
/** Where a person would open the console. */
export const BASE = `http://localhost:${PORT}`;
export const PARKMOBILE_URL = `http://127.0.0.1:${PARKMOBILE_PORT}`;
export const ARTIFACTS = join(ROOT, "test-artifacts", "e2e");
/**
 * The sandbox's data and secrets for this run: its own, emptied with the artifacts, never the user's .wrangler (a
 * run must not re-point the user's demo site, rewrite their token or leave its zones and permits behind).
 */
export const SANDBOX_DIR = join(ARTIFACTS, "sandbox");
export const CHROMIUM = "/usr/bin/chromium";

const NODE = join(ROOT, "node_modules", ".bin", "node");
const BANNER = "permits-edge sandbox";
const SANDBOX_START_TIMEOUT_MS = 150_000;
const SANDBOX_STOP_TIMEOUT_MS = 15_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Empties test-artifacts/e2e, so the screenshots there are this run's. */
export function freshArtifacts() {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
}

/**
 * Runs the admin CLI (npm run admin -- …) against this run's sandbox; resolves to { code, stdout, stderr }.
 * `env` adds to (or, with undefined values, removes from) the environment it gets.
 */
export async function runCli(args, env = {}) {
  const merged = { ...process.env, PORT: String(PORT), SANDBOX_DIR, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete merged[key];
  if (!("ADMIN_TOKEN" in env)) delete merged.ADMIN_TOKEN;
  const child = spawn(NODE, [join(ROOT, "scripts", "admin.ts"), ...args], { cwd: ROOT, env: merged });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, "exit");
  return { code, stdout, stderr };
}

/**
 * What the user's own sandbox holds (.wrangler, but for wrangler's build scratch in .wrangler/tmp): every file with
 * its size and modification time, to prove a run left it as it was.
 */
export function userSandboxSnapshot() {
  const dir = join(ROOT, ".wrangler");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => !name.startsWith("tmp"))
    .map((name) => {
      const stats = statSync(join(dir, name));
      return `${name} ${stats.isFile() ? `${stats.size} ${stats.mtimeMs}` : "dir"}`;
    })
    .sort();
}

/** Sends `signal` to every process of the group led by `pid`; a group already gone is fine. */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== "ESRCH") throw error;
  }
}

/**
 * Starts the sandbox (wrangler dev, the fake ParkMobile, the demo seed) in a process group of its own, waits for its
 * banner, and reads the secrets it keeps in its own SANDBOX_DIR. Its output goes to test-artifacts/e2e/sandbox.log.
 * Returns { adminSecret, token, webhookId, stop() }; stop() ends the whole group (sandbox, wrangler, workerd) and is safe to call
 * twice. The group is also killed if this process exits or is told to stop.
 */
export async function startSandbox() {
  const logFile = join(ARTIFACTS, "sandbox.log");
  const log = createWriteStream(logFile);
  const child = spawn(NODE, [join(ROOT, "scripts", "sandbox.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(PORT),
      PARKMOBILE_PORT: String(PARKMOBILE_PORT),
      // The webhook receiver on any free port: the suite's three ports stay the only fixed ones.
      WEBHOOK_RECEIVER_PORT: "0",
      SANDBOX_DIR,
      WRANGLER_SEND_METRICS: "false",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const exited = once(child, "exit");
  const killNow = () => signalGroup(child.pid, "SIGKILL");
  const onSignal = (signal) => {
    killNow();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("exit", killNow);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(child.pid, "SIGTERM");
      await Promise.race([exited, sleep(SANDBOX_STOP_TIMEOUT_MS)]);
    }
    // Whatever is left of the group (workerd, a wrangler that ignored SIGTERM) goes now.
    signalGroup(child.pid, "SIGKILL");
    process.off("exit", killNow);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    log.end();
  };

  const tail = [];
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the sandbox printed no "${BANNER}" banner within ${SANDBOX_START_TIMEOUT_MS / 1000} s`)),
      SANDBOX_START_TIMEOUT_MS,
    );
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        log.write(`${line}\n`);
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (line.includes(BANNER)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox exited (${signal ?? `code ${code}`}) before its banner`));
    });
  });
  try {
    await ready;
  } catch (error) {
    await stop();
    throw new Error(`${error.message}; its last lines (all in ${logFile}):\n${tail.join("\n")}`);
  }
  const read = (name) => readFileSync(join(SANDBOX_DIR, name), "utf8").trim();
  return { adminSecret: read("sandbox-admin-token"), token: read("sandbox-token"), webhookId: read("sandbox-webhook-id"), stop };
}

/**
 * Debian's Chromium, headless, with everything that would reach the (closed) network switched off. Playwright gives
 * each launch a fresh temporary --user-data-dir of its own and removes it on close (it refuses the flag in `args`).
 */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A new browser context and page with the tests' timeouts; dialogs (confirm) are accepted as a person would. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(30_000);
  page.on("dialog", (dialog) => dialog.accept());
  return { context, page };
}

/**
 * Returns shot(page, name): a full-page screenshot test-artifacts/e2e/NN-name.png, numbered in the order taken.
 * Each shot also checks the page's HTML for `forbidden` strings (secrets no page may show).
 */
export function screenshots(forbidden = () => []) {
  let count = 0;
  return async function shot(page, name) {
    count += 1;
    const file = join(ARTIFACTS, `${String(count).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`);
    await page.screenshot({ path: file, fullPage: true });
    const html = await page.content();
    for (const secret of forbidden()) {
      if (secret && html.includes(secret)) throw new Error(`${page.url()} shows a secret it must never show (screenshot ${file})`);
    }
    return file;
  };
}

/** Polls `check` (returning a truthy value when done) until it succeeds or `timeoutMs` passes; then throws `message()`. */
export async function eventually(check, message, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${message()}${last ? ` (last error: ${last.message})` : ""}`);
    await sleep(200);
  }
}

/**
 * Clicks `button` and waits for the page it loads (the console's forms post and redirect). The click is what a person
 * does; the wait is for the next page's load event.
 */
export async function press(page, button, what) {
  const loaded = page.waitForEvent("load", { timeout: 30_000 }).catch(() => {
    throw new Error(`pressing ${what} loaded no new page within 30 s (at ${page.url()})`);
  });
  await button.click();
  await loaded;
}

/**
 * Reads a table: { headers: [text], rows: [{ cells: [text], values: [input values] }] }. Header cells are the th of
 * thead (or of the first row when there is no thead); body rows are the other rows with td cells. Texts are trimmed
 * with white space collapsed.
 */
export async function readTable(page, selector) {
  return page.locator(selector).evaluate((table) => {
    const clean = (text) => (text ?? "").replace(/\s+/g, " ").trim();
    const headRow = table.querySelector("thead tr") ?? [...table.querySelectorAll("tr")].find((tr) => tr.querySelector("th"));
    const headers = headRow ? [...headRow.querySelectorAll("th,td")].map((cell) => clean(cell.innerText)) : [];
    const rows = [...table.querySelectorAll("tr")]
      .filter((tr) => tr !== headRow && tr.querySelector("td"))
      .map((tr) => ({
        cells: [...tr.querySelectorAll("th,td")].map((cell) => clean(cell.innerText)),
        values: [...tr.querySelectorAll("input:not([type=hidden]),select,textarea")].map((input) => clean(input.value)),
      }));
    return { headers, rows };
  });
}

/** The index of the first header matching `pattern`, or -1. */
export const column = (table, pattern) => table.headers.findIndex((header) => pattern.test(header));

/** Whether a row names `name`: a cell whose text is exactly it, or a text field holding it (a rename form). */
export const rowNames = (row, name) => row.cells.includes(name) || row.values.includes(name);

/**
 * A locator for the body row of `selector` that names `name` (see rowNames), found by position; null when none does.
 * The position is read from the same body rows readTable reads.
 */
export async function rowLocator(page, selector, name) {
  const index = await page.locator(selector).evaluate((table, wanted) => {
    const clean = (text) => (text ?? "").replace(/\s+/g, " ").trim();
    const headRow = table.querySelector("thead tr") ?? [...table.querySelectorAll("tr")].find((tr) => tr.querySelector("th"));
    const rows = [...table.querySelectorAll("tr")].filter((tr) => tr !== headRow && tr.querySelector("td"));
    for (const [i, tr] of rows.entries()) tr.setAttribute("data-e2e-row", String(i));
    return rows.findIndex(
      (tr) =>
        [...tr.querySelectorAll("th,td")].some((cell) => clean(cell.innerText) === wanted) ||
        [...tr.querySelectorAll("input:not([type=hidden])")].some((input) => clean(input.value) === wanted),
    );
  }, name);
  return index < 0 ? null : page.locator(`${selector} tr[data-e2e-row="${index}"]`);
}

/** The text of the page's [role=alert] or [role=status] elements, joined ("" when there are none). */
export async function roleText(page, role) {
  const texts = await page.locator(`[role=${role}]`).allInnerTexts();
  return texts
    .map((text) => text.replace(/\s+/g, " ").trim())
    .filter(Boolean)
    .join(" | ");
}

/** Serves one HTML page at http://127.0.0.1:port/ until close() is called. */
export async function serveHtml(port, html) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(html);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `date` as the API's UTC time, Y-m-d\TH:i:s. */
export const utc = (date) => date.toISOString().slice(0, 19);

/** The hidden inputs of the first form in `html`, as [name, value] pairs (a CSRF token, if the form has one). */
export function hiddenInputs(html) {
  const form = html.match(/<form\b[\s\S]*?<\/form>/i)?.[0] ?? "";
  const attribute = (tag, name) => {
    const match = tag.match(new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i"));
    return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
  };
  const decode = (text) =>
    text.replace(
      /&(amp|lt|gt|quot|#39|#x27);/g,
      (_, entity) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" })[entity],
    );
  return [...form.matchAll(/<input\b[^>]*>/gi)]
    .map(([tag]) => tag)
    .filter((tag) => attribute(tag, "type")?.toLowerCase() === "hidden" && attribute(tag, "name"))
    .map((tag) => [attribute(tag, "name"), decode(attribute(tag, "value") ?? "")]);
}

/** The name=value pairs of Set-Cookie headers, as one Cookie header. */
export const cookieHeader = (setCookies) => setCookies.map((line) => line.split(";")[0]).join("; ");
