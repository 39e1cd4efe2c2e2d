// The admin console at /admin, driven in Chromium as a person would: sign in, lot zones, API tokens, the ParkMobile
// task, Pay Station Status, settings, disconnected records, and the session's defences. Runs against the sandbox
// (npm start's), started here on ports 8801 (Worker) and 8802 (fake ParkMobile); 8803 serves a page on another
// origin. The sandbox keeps its data in test-artifacts/e2e/sandbox, its own and new for each run.
// Screenshots of every page visited: test-artifacts/e2e/.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ARTIFACTS,
  BASE,
  column,
  cookieHeader,
  eventually,
  freshArtifacts,
  hiddenInputs,
  launchBrowser,
  newPage,
  OTHER_ORIGIN_PORT,
  PARKMOBILE_URL,
  press,
  readTable,
  roleText,
  rowLocator,
  rowNames,
  runCli,
  SANDBOX_DIR,
  screenshots,
  serveHtml,
  startSandbox,
  userSandboxSnapshot,
  utc,
} from "./harness.mjs";

/** Unique to this run: the sandbox's data outlives it. */
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296)
  .toString(36)
  .padStart(2, "0")}`;
const SITE = "demo";
const SITE_PATH = `/admin/sites/${SITE}`;
/** The fake ParkMobile's password and X-API-Key in the sandbox (scripts/parkmobile-server.ts): never shown. */
const PARKMOBILE_SECRETS = ["sandbox-password", "sandbox-key"];
const TOKEN_PATTERN = /pe-[A-Za-z0-9]{43}/;
const TEST = { timeout: 120_000 };

let sandbox;
let browser;
/** The signed-in tab most flows share. */
let session;
/** Why the console cannot be tested (it answers no sign-in page), or null. */
let consoleMissing = null;
const shot = screenshots(() => [sandbox?.adminSecret]);

const url = (path) => `${BASE}${path}`;
const pathOf = (page) => new URL(page.url()).pathname;

/** Fails the calling test at once, with the reason, when the console is not there. */
function needConsole() {
  if (consoleMissing) assert.fail(consoleMissing);
}

/** Opens `path` in `page` and screenshots it as `name`. */
async function visit(page, path, name) {
  const response = await page.goto(url(path));
  await shot(page, name);
  return response;
}

/** Fills the sign-in form of /admin/login with `secret` and presses "Sign in". */
async function signIn(page, secret) {
  if (pathOf(page) !== "/admin/login") await page.goto(url("/admin/login"));
  await page.locator('input[name="secret"]').fill(secret);
  await press(page, page.getByRole("button", { name: "Sign in" }), '"Sign in"');
}

/** Makes sure the shared tab is signed in (signing in through the form if flow a did not), and returns its page. */
async function signedIn() {
  await session.page.goto(url("/admin"));
  if (pathOf(session.page) === "/admin/login") await signIn(session.page, sandbox.adminSecret);
  assert.equal(pathOf(session.page), "/admin", `after signing in, the console shows ${session.page.url()} instead of /admin`);
  return session.page;
}

/** The session cookie of a context, whatever its path, or undefined. */
async function sessionCookie(context) {
  return (await context.cookies()).find((cookie) => cookie.name === "pe_session");
}

/**
 * What a person reads on the page: its rendered text, plus what the form fields show (their values, or their
 * placeholders when empty).
 */
async function visibleText(page) {
  const fields = await page
    .locator("input:not([type=hidden]),textarea,select")
    .evaluateAll((elements) => elements.map((element) => element.value || element.placeholder || ""));
  return [await page.locator("body").innerText(), ...fields].join("\n");
}

/** One admin API call with the admin secret, for checks behind the console's back. */
async function adminApi(path) {
  const response = await fetch(url(`/api/admin/v1${path}`), { headers: { authorization: `Bearer ${sandbox.adminSecret}` } });
  assert.equal(response.status, 200, `GET /api/admin/v1${path} answered ${response.status}`);
  return response.json();
}

/** The enforcement lookup with `token`, as a handheld would call it; returns the HTTP status. */
async function lookupStatus(token) {
  const response = await fetch(url("/api/v1/lookup?plate=ABC"), { headers: { authorization: `Bearer ${token}` } });
  await response.body?.cancel();
  return response.status;
}

/**
 * Runs one flow; on failure, screenshots the shared tab (NN-<flow>-failed.png) and adds the page it was on to the
 * error, so a failure says what a person would have seen.
 */
async function flow(name, body) {
  needConsole();
  try {
    await body();
  } catch (error) {
    const page = session?.page;
    if (page && !page.isClosed()) {
      const file = await shot(page, `${name}-failed`).catch(() => "(no screenshot)");
      const original = error.message;
      error.message = `${original}\n    on page ${page.url()} (screenshot ${file})`;
      if (typeof error.stack === "string") error.stack = error.stack.replace(original, error.message);
    }
    throw error;
  }
}

/**
 * Opens /docs at `width` px in a context of its own where every request to another origin is refused (and recorded),
 * as if the machine had no network but the sandbox. Returns the page, the refused requests and the page's errors
 * (a script that failed, a Content-Security-Policy violation).
 */
async function offlineDocs(width) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const foreign = [];
  await context.route("**/*", (route) => {
    const requested = route.request().url();
    if (new URL(requested).origin === BASE) return route.continue();
    foreign.push(requested);
    return route.abort("internetdisconnected");
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url("/docs"));
  await page.locator(".opblock").first().waitFor();
  return { context, page, foreign, errors };
}

/** The docs page's block of the operation at `path` (`method` when a path has several). */
function docsOperation(page, path, method) {
  const block = page.locator(".opblock", { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) });
  return method ? block.and(page.locator(`.opblock-${method}`)) : block;
}

/** Opens an operation's block, presses Execute (Try it out is on), and returns the status and body of its answer. */
async function execute(operation) {
  if (!(await operation.locator(".opblock-body").count())) await operation.locator(".opblock-summary-control").click();
  await operation.getByRole("button", { name: "Execute" }).click();
  const status = operation.locator(".live-responses-table tr.response .response-col_status").first();
  await status.waitFor();
  return {
    status: (await status.innerText()).trim(),
    body: await operation.locator(".live-responses-table tr.response .response-col_description pre").first().innerText(),
    requestUrl: (await operation.locator(".request-url pre").innerText()).trim(),
  };
}

/** The Authorize dialog's section of the security scheme `name`. */
async function authSection(page, name) {
  if (!(await page.locator(".dialog-ux .modal-ux").count())) await page.locator(".auth-wrapper button.authorize").click();
  return page.locator(".dialog-ux .auth-container").filter({ has: page.locator("h4", { hasText: new RegExp(`^${name}\\b`) }) });
}

describe("admin console (e2e, Chromium)", () => {
  /** The user's sandbox before the run: the run must leave it exactly so. */
  let userSandbox;

  before(async () => {
    userSandbox = userSandboxSnapshot();
    freshArtifacts();
    sandbox = await startSandbox();
    browser = await launchBrowser();
    session = await newPage(browser);
    const response = await fetch(url("/admin/login"), { redirect: "manual" });
    const type = response.headers.get("content-type") ?? "";
    const text = await response.text();
    if (response.status !== 200 || !type.includes("text/html") || !/name=["']?secret/.test(text)) {
      consoleMissing = `The admin console is missing: GET /admin/login answered ${response.status} ${type} (${text.slice(0, 160).replace(/\s+/g, " ")}), not a sign-in page with an input name="secret".`;
    }
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await sandbox?.stop();
    assert.deepEqual(userSandboxSnapshot(), userSandbox, "the end-to-end run changed the user's sandbox in .wrangler");
  });

  it("a. sign in: a wrong secret is refused, the right one lists the sites", TEST, () =>
    flow("a-sign-in", async () => {
      const { page, context } = session;
      await page.goto(url("/admin"));
      assert.equal(pathOf(page), "/admin/login", `/admin without a session shows ${page.url()}, not the sign-in page`);
      await shot(page, "a-sign-in-page");

      await signIn(page, `wrong-${RUN}`);
      await page.locator("[role=alert]").first().waitFor();
      const alert = await roleText(page, "alert");
      assert.ok(alert, "a wrong secret shows no error text in [role=alert]");
      await shot(page, "a-wrong-secret");
      assert.equal(await sessionCookie(context), undefined, "a wrong secret still set a pe_session cookie");
      await page.goto(url("/admin"));
      assert.equal(pathOf(page), "/admin/login", "after a wrong secret, /admin opens without signing in");

      await signIn(page, sandbox.adminSecret);
      assert.equal(pathOf(page), "/admin", `after signing in the console shows ${page.url()}, not /admin`);
      await shot(page, "a-sites");
      const siteLinks = page.locator('a[href*="/admin/sites/"]');
      assert.ok((await siteLinks.count()) > 0, "/admin lists no site as a link to /admin/sites/…");
      const demo = page.getByRole("link", { name: SITE, exact: true });
      assert.equal(await demo.count(), 1, `/admin has no (single) link named "${SITE}"`);
      await press(page, demo, `the "${SITE}" link`);
      assert.match(pathOf(page), new RegExp(`^${SITE_PATH}(/|$)`), `the "${SITE}" link opened ${page.url()}, not a page of the site`);
      await shot(page, "a-site-demo");
    }),
  );

  it("b. lot zones: add, rename, remove", TEST, () =>
    flow("b-zones", async () => {
      const page = await signedIn();
      const name = `E2E Zone ${RUN}`;
      const renamed = `E2E Zone ${RUN} renamed`;
      await visit(page, `${SITE_PATH}/zones`, "b-zones");
      await page.locator("table#zones").waitFor();

      const addForm = page.locator("form", { has: page.getByRole("button", { name: "Add lot zone" }) });
      await addForm.locator('input[name="name"]').fill(name);
      await press(page, addForm.getByRole("button", { name: "Add lot zone" }), '"Add lot zone"');
      assert.ok(
        (await readTable(page, "table#zones")).rows.some((row) => rowNames(row, name)),
        `table#zones has no row "${name}" after "Add lot zone"`,
      );
      assert.ok(await roleText(page, "status"), 'adding a lot zone shows no message in [role="status"]');
      await shot(page, "b-zone-added");

      const row = await rowLocator(page, "table#zones", name);
      await row.locator('input[name="name"]').fill(renamed);
      await press(page, row.getByRole("button", { name: "Rename" }), '"Rename"');
      const afterRename = await readTable(page, "table#zones");
      assert.ok(
        afterRename.rows.some((r) => rowNames(r, renamed)),
        `table#zones has no row "${renamed}" after "Rename"`,
      );
      assert.ok(!afterRename.rows.some((r) => rowNames(r, name)), `table#zones still has "${name}" after renaming it`);
      assert.ok(await roleText(page, "status"), 'renaming a lot zone shows no message in [role="status"]');
      await shot(page, "b-zone-renamed");

      const renamedRow = await rowLocator(page, "table#zones", renamed);
      await press(page, renamedRow.getByRole("button", { name: "Remove" }), '"Remove"');
      // Removing asks first, on a page of its own; "Cancel" would go back.
      await shot(page, "b-zone-remove-confirm");
      await press(page, page.getByRole("button", { name: `Remove lot zone ${renamed}` }), `"Remove lot zone ${renamed}"`);
      assert.ok(
        !(await readTable(page, "table#zones")).rows.some((r) => rowNames(r, renamed)),
        `table#zones still has "${renamed}" after "Remove"`,
      );
      assert.ok(await roleText(page, "status"), 'removing a lot zone shows no message in [role="status"]');
      await shot(page, "b-zone-removed");
      const zones = await adminApi(`/sites/${SITE}/zones`);
      assert.ok(!JSON.stringify(zones).includes(`E2E Zone ${RUN}`), "the admin API still lists the removed lot zone");
    }),
  );

  it("c. API tokens: issue (secret shown once), use, revoke", TEST, () =>
    flow("c-tokens", async () => {
      const page = await signedIn();
      const label = `e2e ${RUN}`;
      await visit(page, `${SITE_PATH}/tokens`, "c-tokens");
      const form = page.locator("form", { has: page.getByRole("button", { name: "Issue token" }) });
      for (const scope of ["push", "lookup"]) await form.locator(`input[name="scopes"][value="${scope}"]`).check();
      await form.locator('input[name="label"]').fill(label);
      await press(page, form.getByRole("button", { name: "Issue token" }), '"Issue token"');

      const output = page.locator("output#new-token");
      await output.waitFor();
      const secret = (await output.innerText()).match(TOKEN_PATTERN)?.[0];
      assert.ok(secret, `output#new-token shows no token (pe- and 43 letters or digits): "${await output.innerText()}"`);
      await shot(page, "c-token-issued");
      const listed = await readTable(page, "table#tokens");
      assert.ok(
        listed.rows.some((row) => row.cells.includes(label)),
        `table#tokens has no row labelled "${label}"`,
      );
      assert.equal(await lookupStatus(secret), 200, "the issued token (scopes push, lookup) is refused by GET /api/v1/lookup");

      await page.reload();
      await shot(page, "c-tokens-reloaded");
      assert.ok(!(await page.content()).includes(secret), "the token's secret is shown again after a reload");

      const row = await rowLocator(page, "table#tokens", label);
      assert.ok(row, `after the reload, table#tokens has no row labelled "${label}"`);
      await press(page, row.getByRole("button", { name: "Revoke" }), '"Revoke"');
      await shot(page, "c-token-revoke-confirm");
      await press(page, page.getByRole("button", { name: /^Revoke token tk_/ }), '"Revoke token …"');
      const revokedRow = (await readTable(page, "table#tokens")).rows.find((r) => r.cells.includes(label));
      assert.ok(revokedRow, `after "Revoke", table#tokens has no row labelled "${label}"`);
      assert.match(
        revokedRow.cells.join(" | "),
        /revoked/i,
        `the revoked token's row does not say revoked: ${revokedRow.cells.join(" | ")}`,
      );
      await shot(page, "c-token-revoked");
      let status = 0;
      await eventually(
        async () => {
          status = await lookupStatus(secret);
          return status === 401;
        },
        () => `GET /api/v1/lookup with the revoked token answered ${status}, not 401`,
        7_000,
      );
    }),
  );

  it("d. tasks: RUN adds a succeeded run, 2 zones matched, 1 skipped", TEST, () =>
    flow("d-tasks", async () => {
      const page = await signedIn();
      await visit(page, `${SITE_PATH}/tasks`, "d-tasks");
      const runsBefore = (await page.locator("table#runs").count()) ? (await readTable(page, "table#runs")).rows : [];
      const topBefore = runsBefore[0]?.cells.join(" | ");

      const run = page.getByRole("button", { name: "RUN", exact: true });
      await press(page, run, '"RUN"');
      // A cron run of the sandbox may be under way at that moment (the console then says so): one more try.
      if (/already|under way|in progress/i.test(await roleText(page, "alert"))) {
        await page.waitForTimeout(3_000);
        await press(page, page.getByRole("button", { name: "RUN", exact: true }), '"RUN" (again)');
      }
      await page.locator("table#runs").waitFor();
      const table = await readTable(page, "table#runs");
      await shot(page, "d-task-run");
      const top = table.rows[0];
      assert.ok(top, "table#runs has no row after RUN");
      const text = top.cells.join(" | ");
      assert.notEqual(text, topBefore, `table#runs has no new top row after RUN (top row: ${text})`);
      assert.match(text, /succeeded/i, `the new run's outcome is not succeeded: ${text}`);
      assert.equal(countIn(table, top, /matched/i), 2, `the new run does not show 2 zones matched: ${table.headers.join(" | ")} / ${text}`);
      assert.equal(countIn(table, top, /skipped/i), 1, `the new run does not show 1 zone skipped: ${table.headers.join(" | ")} / ${text}`);
    }),
  );

  it("e. Pay Station Status: ParkMobile permits, one permit's history", TEST, () =>
    flow("e-paystation", async () => {
      const page = await signedIn();
      await visit(page, `${SITE_PATH}/paystation`, "e-paystation");
      const form = page.locator("form", { has: page.getByRole("button", { name: "Search" }) });
      assert.equal(((await form.getAttribute("method")) ?? "get").toLowerCase(), "get", "the search form's method is not GET");
      for (const name of ["plate", "zone", "from", "to", "promoCode"]) {
        assert.equal(await form.locator(`input[name="${name}"]`).count(), 1, `the search form has no input name="${name}"`);
      }
      const source = form.locator('select[name="source"]');
      assert.equal(await source.count(), 1, 'the search form has no select name="source"');
      const options = await source.locator("option").allInnerTexts();
      assert.ok(
        options.some((o) => o.trim() === "ParkMobile"),
        `select name="source" offers no ParkMobile: ${options.join(", ")}`,
      );
      await source.selectOption({ label: "ParkMobile" });
      await press(page, form.getByRole("button", { name: "Search" }), '"Search"');
      assert.ok(new URL(page.url()).searchParams.has("source"), `the search did not put source in the URL: ${page.url()}`);
      await page.locator("table#permits").waitFor();
      await shot(page, "e-paystation-parkmobile");

      const permits = await readTable(page, "table#permits");
      const sourceColumn = column(permits, /^source$/i);
      assert.ok(sourceColumn >= 0, `table#permits has no column "Source": ${permits.headers.join(" | ")}`);
      assert.ok(column(permits, /^promo code$/i) >= 0, `table#permits has no column "Promo Code": ${permits.headers.join(" | ")}`);
      assert.ok(permits.rows.length > 0, "searching source ParkMobile lists no permit (the sandbox imports some at start)");
      const others = permits.rows.map((row) => row.cells[sourceColumn]).filter((cell) => cell !== "ParkMobile");
      assert.deepEqual(others, [], "some Source cells of a ParkMobile search do not say ParkMobile");

      const referenceColumn = column(permits, /reference/i);
      const firstRow = page.locator("table#permits tbody tr").first();
      const link = referenceColumn >= 0 ? firstRow.locator("td,th").nth(referenceColumn).locator("a") : firstRow.locator("a");
      assert.ok(await link.count(), "the first permit's row has no reference link");
      await press(page, link.first(), "the first permit's reference link");
      await page.locator("table#history").waitFor();
      await shot(page, "e-permit");
      const history = await readTable(page, "table#history");
      assert.ok(
        history.rows.some((row) => row.cells.some((cell) => /\bcreate\b/i.test(cell))),
        `table#history has no "create" row: ${history.rows.map((r) => r.cells.join(" | ")).join(" / ")}`,
      );
    }),
  );

  it("f. settings: the ParkMobile base URL and account, the secrets saved but never shown", TEST, () =>
    flow("f-settings", async () => {
      const page = await signedIn();
      await visit(page, `${SITE_PATH}/settings`, "f-settings");
      const text = await visibleText(page);
      const html = await page.content();
      assert.ok(text.includes(PARKMOBILE_URL), `the settings page does not show the ParkMobile base URL ${PARKMOBILE_URL}`);
      assert.match(text, /API password\s*\(saved; leave blank to keep\)/, "the settings page does not say the password is saved");
      assert.ok(text.includes("sandbox"), "the settings page does not show the ParkMobile account (username)");
      for (const secret of PARKMOBILE_SECRETS)
        assert.ok(!html.includes(secret), `the settings page shows the ParkMobile secret "${secret}"`);
      assert.ok(!html.includes(sandbox.adminSecret), "the settings page shows the admin secret");
    }),
  );

  it("g. disconnected records: listed by zone name, reconnected by creating the lot zone", TEST, () =>
    flow("g-disconnected", async () => {
      const page = await signedIn();
      const zone = `E2E Unknown ${RUN}`;
      const now = Date.now();
      const push = await fetch(url("/api/OC-TOMA/v1/permits/push"), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          apiToken: sandbox.token,
          plate: `E2E${RUN}`.slice(0, 25).toUpperCase(),
          zone,
          startTime: utc(new Date(now - 5 * 60_000)),
          endTime: utc(new Date(now + 60 * 60_000)),
        }),
      });
      const pushed = await push.json();
      assert.equal(push.status, 200, `the push answered ${push.status}: ${JSON.stringify(pushed)}`);
      assert.equal(pushed.disconnected, true, `the push to "${zone}" is not disconnected: ${JSON.stringify(pushed)}`);

      await visit(page, `${SITE_PATH}/disconnected`, "g-disconnected");
      const table = await readTable(page, "table#disconnected");
      const row = table.rows.find((r) => r.cells.includes(zone));
      assert.ok(row, `table#disconnected has no row "${zone}"`);
      const countColumn = column(table, /count|records|permits/i);
      const count =
        countColumn >= 0 ? row.cells[countColumn] : row.cells.filter((cell) => cell !== zone).find((cell) => /^\d+$/.test(cell));
      assert.equal(count, "1", `the row "${zone}" does not count 1 record: ${table.headers.join(" | ")} / ${row.cells.join(" | ")}`);

      const rowLoc = await rowLocator(page, "table#disconnected", zone);
      await press(page, rowLoc.getByRole("button", { name: "Create lot zone" }), '"Create lot zone"');
      await shot(page, "g-reconnected");
      const afterwards = (await page.locator("table#disconnected").count()) ? await readTable(page, "table#disconnected") : { rows: [] };
      assert.ok(!afterwards.rows.some((r) => r.cells.includes(zone)), `"${zone}" is still listed after "Create lot zone"`);
      const status = await roleText(page, "status");
      assert.match(status, /reconnected\D{0,3}1\b|\b1\b[^.|]{0,30}reconnected/i, `[role=status] does not say reconnected 1: "${status}"`);
    }),
  );

  it("h1. a form posted from another site while signed in changes nothing", TEST, () =>
    flow("h1-cross-site", async () => {
      const page = await signedIn();
      const evil = `evil ${RUN}`;
      const attacker = await serveHtml(
        OTHER_ORIGIN_PORT,
        `<!doctype html><title>Win a prize</title><form id="f" method="post" action="${url(`${SITE_PATH}/zones`)}">` +
          `<input name="name" value="${evil}"></form><script>document.getElementById("f").submit()</script>`,
      );
      try {
        await page.goto(attacker.url);
        await page.waitForURL((u) => u.origin === BASE, { timeout: 15_000 });
        await page.waitForLoadState("load");
        await shot(page, "h1-cross-site-post");
      } finally {
        await attacker.close();
      }
      const zones = await adminApi(`/sites/${SITE}/zones`);
      assert.ok(!JSON.stringify(zones).includes(evil), `a cross-site form POST created the lot zone "${evil}"`);
      await visit(page, `${SITE_PATH}/zones`, "h1-zones-after");
      assert.ok(
        !(await readTable(page, "table#zones")).rows.some((r) => rowNames(r, evil)),
        `table#zones lists "${evil}" after the cross-site POST`,
      );
    }),
  );

  it("h2. a forged session cookie is sent to the sign-in page", TEST, () =>
    flow("h2-forged-cookie", async () => {
      const forged = await newPage(browser);
      try {
        await forged.context.addCookies([{ name: "pe_session", value: `forged-${RUN}-0123456789abcdef`, url: BASE }]);
        await forged.page.goto(url("/admin"));
        await shot(forged.page, "h2-forged-cookie");
        assert.equal(pathOf(forged.page), "/admin/login", `a forged pe_session opened ${forged.page.url()}`);
      } finally {
        await forged.context.close();
      }
    }),
  );

  it("h3. the session cookie is HttpOnly, Secure, SameSite=Strict and expires", TEST, () =>
    flow("h3-cookie-attributes", async () => {
      const loginPage = await fetch(url("/admin/login"));
      const html = await loginPage.text();
      const form = new URLSearchParams(hiddenInputs(html));
      form.set("secret", sandbox.adminSecret);
      const pageCookies = cookieHeader(loginPage.headers.getSetCookie());
      const response = await fetch(url("/admin/login"), {
        method: "POST",
        redirect: "manual",
        headers: {
          origin: BASE,
          "content-type": "application/x-www-form-urlencoded",
          ...(pageCookies ? { cookie: pageCookies } : {}),
        },
        body: form,
      });
      await response.body?.cancel();
      const setCookie = response.headers.getSetCookie().find((line) => /^pe_session=[^;]+/.test(line));
      assert.ok(setCookie, `signing in (HTTP ${response.status}) set no pe_session cookie: ${response.headers.getSetCookie().join(" / ")}`);
      const attributes = setCookie.split(";").slice(1).join(";");
      assert.match(attributes, /(^|;)\s*HttpOnly\s*(;|$)/i, `pe_session is not HttpOnly: ${attributes}`);
      assert.match(attributes, /(^|;)\s*Secure\s*(;|$)/i, `pe_session is not Secure: ${attributes}`);
      assert.match(attributes, /(^|;)\s*SameSite=Strict\s*(;|$)/i, `pe_session is not SameSite=Strict: ${attributes}`);
      assert.match(attributes, /(^|;)\s*(Max-Age=\d+|Expires=[^;]+)/i, `pe_session has neither Max-Age nor Expires: ${attributes}`);

      // The cookie is a working session (so the refusals of h2 and h4 are not refusals of every cookie).
      const value = setCookie.split(";")[0];
      const admin = await fetch(url("/admin"), { redirect: "manual", headers: { cookie: value } });
      await admin.body?.cancel();
      assert.equal(admin.status, 200, `GET /admin with the new session answered ${admin.status} ${admin.headers.get("location") ?? ""}`);
    }),
  );

  it("h4. sign out: /admin asks to sign in, and the old cookie no longer works", TEST, () =>
    flow("h4-sign-out", async () => {
      const page = await signedIn();
      const old = await sessionCookie(session.context);
      assert.ok(old, "the signed-in tab has no pe_session cookie");
      await shot(page, "h4-before-sign-out");
      await press(page, page.getByRole("button", { name: "Sign out" }), '"Sign out"');
      await shot(page, "h4-signed-out");
      await page.goto(url("/admin"));
      assert.equal(pathOf(page), "/admin/login", `after "Sign out", /admin shows ${page.url()}`);

      const replay = await fetch(url("/admin"), { redirect: "manual", headers: { cookie: `pe_session=${old.value}` } });
      await replay.body?.cancel();
      const location = replay.headers.get("location") ?? "";
      assert.ok(
        replay.status >= 300 && replay.status < 400 && new URL(location, BASE).pathname === "/admin/login",
        `the signed-out cookie replayed: GET /admin answered ${replay.status} ${location}, not a redirect to /admin/login`,
      );
      const replayTab = await newPage(browser);
      try {
        await replayTab.context.addCookies([{ name: "pe_session", value: old.value, url: BASE }]);
        await replayTab.page.goto(url("/admin"));
        await shot(replayTab.page, "h4-old-cookie-replayed");
        assert.equal(pathOf(replayTab.page), "/admin/login", `the signed-out cookie opened ${replayTab.page.url()}`);
      } finally {
        await replayTab.context.close();
      }
    }),
  );

  it("j. the CLI: the usage of what is typed, errors named by their flags, CSV files as people save them", TEST, () =>
    flow("j-cli", async () => {
      const group = await runCli(["site"]);
      assert.equal(group.code, 2, `"site" alone exits ${group.code}, not 2`);
      assert.match(group.stderr, /site needs a command/);
      assert.ok(group.stderr.includes("site create") && !group.stderr.includes("token create"), `"site" alone prints: ${group.stderr}`);

      const badStart = await runCli([
        "permit",
        "add",
        "--site",
        SITE,
        "--plate",
        "X1",
        "--zone",
        "Lot 4",
        "--start",
        "2026-02-30T00:00:00",
        "--end",
        "2027-01-01T00:00:00",
      ]);
      assert.equal(badStart.code, 1);
      assert.match(badStart.stderr, /^error 9033: --start must be a real UTC time/, `a bad --start reads: ${badStart.stderr}`);
      assert.ok(!badStart.stderr.includes("permits.0"), `the error names the API's field: ${badStart.stderr}`);

      const taken = await runCli(["zone", "add", "--site", SITE, "Lot 4"]);
      assert.match(taken.stderr, /^error 9022 \(<name>\): Lot zone Lot 4 already exists/, `a taken zone reads: ${taken.stderr}`);

      const semicolons = join(ARTIFACTS, `semicolons-${RUN}.csv`);
      writeFileSync(semicolons, "plate;zone;startTime;endTime\nAB1;Lot 4;2026-09-01T00:00:00;2027-04-30T23:59:59\n");
      const hinted = await runCli(["permit", "import", "--site", SITE, semicolons]);
      assert.equal(hinted.code, 1);
      assert.match(hinted.stderr, /separated by semicolons/, `a semicolon file gets no hint: ${hinted.stderr}`);

      // "Montréal" as Windows-1252 writes it (é is 0xE9): refused, never imported with replacement characters.
      const legacy = join(ARTIFACTS, `legacy-${RUN}.csv`);
      writeFileSync(
        legacy,
        Buffer.from("plate,zone,startTime,endTime\nMTL1,Montr\xe9al,2026-09-01T00:00:00,2027-04-30T23:59:59\n", "latin1"),
      );
      const notUtf8 = await runCli(["permit", "import", "--site", SITE, legacy]);
      assert.equal(notUtf8.code, 1);
      assert.match(notUtf8.stderr, /not UTF-8 text\. Save it as "CSV UTF-8"/, `a Windows-1252 file reads: ${notUtf8.stderr}`);

      const upper = join(ARTIFACTS, `upper-${RUN}.csv`);
      writeFileSync(upper, `Plate,ZONE,StartTime,EndTime,PermitNo\nCLI ${RUN},Lot 4,2026-09-01T00:00:00,2027-04-30T23:59:59,C-${RUN}\n`);
      const imported = await runCli(["permit", "import", "--site", SITE, upper]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /Created 1 standard permit/);
      const listed = await runCli(["permit", "list", "--site", SITE, "--type", "standard", "--plate", `CLI ${RUN}`]);
      assert.match(listed.stdout, /1 of 1 permit/, listed.stdout);

      const run = await runCli(["task", "run", "--site", SITE, "parkmobile"]);
      assert.ok(!/\.\./.test(run.stdout), `the run's message has a doubled period: ${run.stdout}`);

      const wrong = await runCli(["site", "list"], { ADMIN_TOKEN: "not-the-secret" });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /ADMIN_TOKEN environment variable was sent instead of the sandbox's secret/);
    }),
  );

  it(
    "k. /docs with every other origin blocked: real calls with the sandbox's token, in the body, and by OAuth client credentials",
    TEST,
    () =>
      flow("k-docs", async () => {
        const document = await (await fetch(url("/openapi.json"))).json();
        const operations = Object.values(document.paths).flatMap((item) => Object.values(item));
        // Swagger UI shows the webhook events (the document's `webhooks`) as operations too, in their own section.
        const events = Object.values(document.webhooks ?? {}).flatMap((item) => Object.values(item));
        const inBody = operations.filter((op) => op["x-body-token"]);
        const desk = await offlineDocs(1366);
        try {
          const { page } = desk;
          await shot(page, "k-docs");
          assert.equal(await page.locator("#docs-server").innerText(), BASE, "the page does not name the server it is served from");
          assert.equal(await page.locator(".servers select").inputValue(), BASE, "Swagger UI's server is not the one the page came from");
          assert.equal(
            await page.locator(".opblock").count(),
            operations.length + events.length,
            "the page does not show every operation and webhook event of /openapi.json",
          );
          assert.equal(await page.locator(".opblock .body-token").count(), inBody.length, "the body-token operations are not all marked");
          assert.ok(inBody.length >= 5, `only ${inBody.length} operations take their token in the body`);

          // A header credential: the sandbox's API token as a bearer, through the Authorize dialog.
          const bearer = await authSection(page, "bearer");
          await bearer.locator("input").fill(sandbox.token);
          await bearer.getByRole("button", { name: "Apply credentials" }).click();
          await bearer.getByText("Authorized", { exact: true }).waitFor();
          await shot(page, "k-docs-authorized");
          await page.locator(".dialog-ux .close-modal").click();
          const zones = docsOperation(page, "/api/v1/zones");
          const listed = await execute(zones);
          assert.equal(listed.requestUrl, `${BASE}/api/v1/zones`, "the call did not go to the server the page came from");
          assert.equal(listed.status, "200", `GET /api/v1/zones from the docs answered ${listed.status}: ${listed.body}`);
          assert.match(listed.body, /"Lot 4"/, `GET /api/v1/zones from the docs does not list Lot 4: ${listed.body}`);
          await shot(page, "k-docs-zones-1366");

          // OPS-COM's token in the body: the reader puts it there.
          const stats = docsOperation(page, "/api/OC-TOMA/v1/permits/stats");
          await stats.locator(".opblock-summary-control").click();
          await stats.locator("textarea.body-param__text").fill(JSON.stringify({ apiToken: sandbox.token, zones: "Lot 4" }));
          const counted = await execute(stats);
          assert.equal(counted.status, "200", `permits/stats from the docs answered ${counted.status}: ${counted.body}`);
          assert.match(counted.body, /"zone": "Lot 4"/, `permits/stats from the docs counts no Lot 4: ${counted.body}`);
          await shot(page, "k-docs-stats-1366");

          // The same page on a phone, answers open: nothing wider than the screen.
          await page.setViewportSize({ width: 360, height: 800 });
          await zones.scrollIntoViewIfNeeded();
          await shot(page, "k-docs-answers-360");
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `/docs with answers open at 360 px is ${overflow} px wider than the screen`);
          assert.deepEqual(desk.foreign, [], "the docs page asked another origin for something");
          assert.deepEqual(desk.errors, [], "the docs page reported errors");
        } finally {
          await desk.context.close();
        }

        // OAuth 2.0 client credentials: the page gets an access token from /oauth/token and calls with it.
        const phone = await offlineDocs(360);
        try {
          const { page } = phone;
          const clientId = readFileSync(join(SANDBOX_DIR, "sandbox-client-id"), "utf8").trim();
          const clientSecret = readFileSync(join(SANDBOX_DIR, "sandbox-client-secret"), "utf8").trim();
          const oauth = await authSection(page, "oauth2");
          await oauth.locator('input[data-name="clientId"]').fill(clientId);
          await oauth.locator('input[data-name="clientSecret"]').fill(clientSecret);
          const issued = page.waitForResponse((response) => new URL(response.url()).pathname === "/oauth/token");
          await oauth.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
          const tokenResponse = await issued;
          assert.equal(tokenResponse.status(), 200, `/oauth/token answered the docs page ${tokenResponse.status()}`);
          const { access_token: accessToken } = await tokenResponse.json();
          await oauth.getByText("Authorized", { exact: true }).waitFor();
          await shot(page, "k-docs-oauth-360");
          await page.locator(".dialog-ux .close-modal").click();
          const sent = page.waitForRequest((request) => new URL(request.url()).pathname === "/api/v1/zones");
          const listed = await execute(docsOperation(page, "/api/v1/zones"));
          assert.equal((await sent).headers().authorization, `Bearer ${accessToken}`, "the call did not carry the OAuth access token");
          assert.equal(listed.status, "200", `GET /api/v1/zones with the OAuth token answered ${listed.status}: ${listed.body}`);
          await shot(page, "k-docs-oauth-zones-360");
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `/docs at 360 px is ${overflow} px wider than the screen`);
          assert.deepEqual(phone.foreign, [], "the docs page asked another origin for something");
          assert.deepEqual(phone.errors, [], "the docs page reported errors");
        } finally {
          await phone.context.close();
        }
      }),
  );

  it("l. reports: the day's transactions downloaded from the console and the CLI, a refused range explained", TEST, () =>
    flow("l-reports", async () => {
      const page = await signedIn();
      await visit(page, `${SITE_PATH}/reports`, "l-reports");
      // Yesterday to today (UTC, the demo site's time zone): the sandbox imported from ParkMobile at start.
      const today = utc(new Date()).slice(0, 10);
      const yesterday = utc(new Date(Date.now() - 86_400_000)).slice(0, 10);
      const form = page.locator("form", { has: page.getByRole("button", { name: "Download" }) });
      await form.locator('input[name="from"]').fill(yesterday);
      await form.locator('input[name="to"]').fill(today);
      const [download] = await Promise.all([page.waitForEvent("download"), form.getByRole("button", { name: "Download" }).click()]);
      const file = join(ARTIFACTS, `transactions-${RUN}.csv`);
      await download.saveAs(file);
      assert.match(download.suggestedFilename(), new RegExp(`^${SITE}-transactions-${yesterday}-to-${today}\\.csv$`));
      const lines = readFileSync(file, "utf8").split("\r\n");
      assert.equal(
        lines[0],
        "time_utc,time_local,time_zone,operation,reference,version,type,source,plate,zone,amount,amount_minor,currency,actor,permit_no,ticket_number",
      );
      assert.ok(
        lines.some((line) => /,import,.*,ParkMobile,/.test(line)),
        `the report has no ParkMobile import row:\n${lines.slice(0, 5).join("\n")}`,
      );

      const cli = await runCli(["report", "transactions", "--site", SITE, "--from", yesterday, "--to", today, "--source", "ParkMobile"]);
      assert.equal(cli.code, 0, cli.stderr);
      const cliLines = cli.stdout.split("\r\n").filter(Boolean);
      assert.equal(cliLines[0], lines[0]);
      assert.ok(cliLines.length > 1 && cliLines.slice(1).every((line) => line.includes(",ParkMobile,")), cli.stdout.slice(0, 500));
      const tooLong = await runCli(["report", "transactions", "--site", SITE, "--from", "2026-01-01", "--to", "2026-03-01"]);
      assert.equal(tooLong.code, 1);
      assert.match(tooLong.stderr, /^error 9030 \(--to\): The range must be at most 31 days long/, `a long range reads: ${tooLong.stderr}`);

      await form.locator('input[name="from"]').fill("2026-01-01");
      await form.locator('input[name="to"]').fill("2026-03-01");
      await press(page, form.getByRole("button", { name: "Download" }), '"Download"');
      await shot(page, "l-reports-refused");
      assert.match(await roleText(page, "alert"), /at most 31 days long.*9030/, "a refused range shows no reason");
      assert.equal(await form.locator('input[name="from"]').inputValue(), "2026-01-01", "the refused form lost its from");
    }),
  );

  it("m. webhooks: register an endpoint (secret once), a push reaches it signed, its deliveries, redeliver, disable", TEST, () =>
    flow("m-webhooks", async () => {
      const page = await signedIn();
      // The sandbox's receiver: where the demo endpoint posts. This run's endpoint posts to a path of its own there.
      const receiver = new URL((await adminApi(`/webhooks/${sandbox.webhookId}`)).url).origin;
      const path = `/e2e-${RUN}`;
      await visit(page, `${SITE_PATH}/webhooks`, "m-webhooks");
      const form = page.locator("form", { has: page.getByRole("button", { name: "Register endpoint" }) });
      await form.locator('input[name="url"]').fill(`${receiver}${path}`);
      await form.locator('input[name="description"]').fill(`e2e ${RUN}`);
      for (const box of await form.locator('input[name="events"]').all()) await box.uncheck();
      await form.locator('input[name="events"][value="permit.created"]').check();
      await press(page, form.getByRole("button", { name: "Register endpoint" }), '"Register endpoint"');
      const output = page.locator("output#new-secret");
      await output.waitFor();
      const secret = (await output.innerText()).trim();
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/, `output#new-secret shows no whsec_ secret: "${secret}"`);
      await shot(page, "m-webhook-registered");
      await page.reload();
      assert.ok(!(await page.content()).includes(secret), "the signing secret is shown again after a reload");
      const endpoint = (await adminApi(`/sites/${SITE}/webhooks`)).endpoints.find((e) => e.description === `e2e ${RUN}`);
      assert.ok(endpoint, "the registered endpoint is not in the admin API's list");
      assert.deepEqual(endpoint.events, ["permit.created"]);
      // The receiver verifies this path's deliveries with the secret the page showed.
      const told = await fetch(`${receiver}/_receiver/secrets`, { method: "PUT", body: JSON.stringify({ path, secret }) });
      assert.equal(told.status, 204);

      const start = new Date(Date.now() - 60_000);
      const pushed = await fetch(url("/api/OC-TOMA/v1/permits/push"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          apiToken: sandbox.token,
          LicencePlate: `WH ${RUN}`.slice(0, 25),
          zone: "Lot 4",
          permitNo: `WH-${RUN}`,
          startTime: utc(start),
          endTime: utc(new Date(start.getTime() + 3_600_000)),
        }),
      });
      assert.equal(pushed.status, 200, `the push answered ${pushed.status}`);
      const got = await eventually(
        async () => {
          const list = await (await fetch(`${receiver}/_receiver/received?${new URLSearchParams({ path })}`)).json();
          return list.length > 0 ? list : null;
        },
        () => `the receiver got nothing at ${path} within 10 s of the push`,
      );
      assert.equal(got[0].type, "permit.created");
      assert.equal(got[0].verified, true, `the delivery's signature did not verify: ${got[0].problem}`);

      await visit(page, `${SITE_PATH}/webhooks/${endpoint.id}`, "m-webhook-deliveries");
      await eventually(
        async () => {
          await page.reload();
          return (await readTable(page, "table#deliveries")).rows.some((row) => row.cells.includes("delivered"));
        },
        () => "the endpoint's deliveries page shows no delivered delivery",
      );
      await shot(page, "m-webhook-deliveries");
      await press(page, page.getByRole("link", { name: "permit.created" }).first(), '"permit.created"');
      const attempts = await readTable(page, "table#attempts");
      assert.equal(attempts.rows.length, 1, `table#attempts has ${attempts.rows.length} rows, not 1`);
      assert.ok(attempts.rows[0].cells.includes("200"), `the attempt's row does not say 200: ${attempts.rows[0].cells.join(" | ")}`);
      await shot(page, "m-webhook-delivery");
      await press(page, page.getByRole("button", { name: "Redeliver now" }), '"Redeliver now"');
      assert.match(await roleText(page, "status"), /Redelivering permit\.created msg_\w+ now \(round 2\)/);
      await eventually(
        async () => (await (await fetch(`${receiver}/_receiver/received?${new URLSearchParams({ path })}`)).json()).length === 2,
        () => "the redelivery did not reach the receiver",
      );
      const [first, second] = await (await fetch(`${receiver}/_receiver/received?${new URLSearchParams({ path })}`)).json();
      assert.equal(second.id, first.id, "the redelivery carries another webhook-id");

      await visit(page, `${SITE_PATH}/webhooks`, "m-webhooks-list");
      const row = await rowLocator(page, "table#webhooks", `e2e ${RUN}`);
      assert.ok(row, `table#webhooks has no row described "e2e ${RUN}"`);
      await press(page, row.getByRole("button", { name: "Disable" }), '"Disable"');
      assert.equal((await adminApi(`/webhooks/${endpoint.id}`)).enabled, false, "the endpoint is still enabled after Disable");
      await shot(page, "m-webhook-disabled");

      const cli = await runCli(["webhook", "deliveries", endpoint.id]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /delivered/, `webhook deliveries prints: ${cli.stdout}`);
      const refused = await runCli(["webhook", "create", "--site", SITE, "https://169.254.169.254/latest", "--events", "permit.created"]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error 9033: <url> must not name a link-local address \(169\.254\.169\.254\)/, refused.stderr);
    }),
  );

  it("i. every page fits a 360 px phone and a 1366 px desk, without sideways scrolling", TEST, () =>
    flow("i-widths", async () => {
      const page = await signedIn();
      const found = await adminApi(`/sites/${SITE}/permits?source=ParkMobile`);
      const reference = found.permits[0]?.reference_id;
      assert.ok(reference, "the demo site has no ParkMobile permit to open");
      const zoneName = (await adminApi(`/sites/${SITE}/zones`)).zones[0]?.name;
      const delivery = (await adminApi(`/webhooks/${sandbox.webhookId}/deliveries?limit=1`)).deliveries[0]?.id;
      assert.ok(delivery, "the demo site's webhook endpoint has no delivery to open");
      const paths = [
        "/docs",
        "/admin",
        `${SITE_PATH}/zones`,
        `${SITE_PATH}/disconnected`,
        `${SITE_PATH}/paystation`,
        `${SITE_PATH}/standard`,
        `${SITE_PATH}/settings`,
        `${SITE_PATH}/tasks`,
        `${SITE_PATH}/retention`,
        `${SITE_PATH}/reports`,
        `${SITE_PATH}/tokens`,
        `${SITE_PATH}/clients`,
        `${SITE_PATH}/zones/${encodeURIComponent(zoneName)}`,
        `${SITE_PATH}/permits/${reference}`,
        `${SITE_PATH}/permits/${reference}/end`,
        `${SITE_PATH}/webhooks`,
        `${SITE_PATH}/webhooks/${sandbox.webhookId}`,
        `${SITE_PATH}/webhooks/${sandbox.webhookId}/deliveries/${delivery}`,
        `${SITE_PATH}/webhooks/${sandbox.webhookId}/rotate`,
      ];
      try {
        for (const width of [360, 1366]) {
          await page.setViewportSize({ width, height: 800 });
          for (const path of paths) {
            await page.goto(url(path));
            // The docs page draws itself with its script: measure it drawn.
            if (path === "/docs") await page.locator(".opblock").first().waitFor();
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            await shot(page, `i-${width}-${path.replace(/^\/admin\/sites\/demo\//, "").replace(/[^a-z0-9]+/gi, "-")}`);
            assert.ok(overflow <= 0, `${path} at ${width} px is ${overflow} px wider than the screen`);
          }
        }
      } finally {
        await page.setViewportSize({ width: 1280, height: 800 });
      }
    }),
  );
});

/**
 * A count of a runs-table row: from the column whose header names `label` ("Zones matched", or a combined "Zones
 * matched / skipped" whose cell reads "2 / 1 (9999)"), else from the row's text ("zones 2 matched", "matched: 2",
 * "2 zones matched"). NaN when neither says.
 */
function countIn(table, row, label) {
  const index = table.headers.findIndex((header) => label.test(header));
  if (index >= 0) {
    const parts = table.headers[index].split("/");
    const part = parts.findIndex((p) => label.test(p));
    const cell = parts.length > 1 ? (row.cells[index].split("/")[part] ?? "") : row.cells[index];
    return Number(cell.match(/\d+/)?.[0]);
  }
  const text = row.cells.join(" ");
  const word = label.source;
  const match = text.match(new RegExp(`(\\d+)\\s*(?:zones?\\s*)?${word}|${word}\\s*:?\\s*(\\d+)`, "i"));
  return match ? Number(match[1] ?? match[2]) : Number.NaN;
}
