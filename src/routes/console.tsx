import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import type { Child } from "hono/jsx";
import { secureHeaders } from "hono/secure-headers";
import { SCOPES } from "../auth/scopes";
import { secretsEqual } from "../auth/secrets";
import { database } from "../db/client";
import { type ConsoleSession, closeSession, type Flash, openSession, readSession, SESSION_SECONDS, setFlash } from "../db/console-sessions";
import { nowSeconds } from "../domain/time";
import type { AppEnv } from "../http";
import { admin } from "./admin";

/**
 * The admin console, server-rendered at /admin. Every action goes through the
 * admin API (called in-process with ADMIN_TOKEN), so the console applies
 * exactly its rules, errors and cache invalidation; the console adds only
 * pages, a sign-in and its protections:
 * - the session cookie is a random id (only its SHA-256 is stored), HttpOnly,
 *   Secure, SameSite=Strict, limited to /admin, expiring after 8 hours, and
 *   ended server-side by sign-out;
 * - every form POST must come from this origin (Origin check) and carry the
 *   session's anti-forgery token;
 * - every form posts, then redirects (a reload never repeats an action); a
 *   token's secret is shown once, from the session's one-time message.
 */
type ConsoleEnv = AppEnv & { Variables: { session: ConsoleSession } };
export const consoleApp = new Hono<ConsoleEnv>();

const COOKIE = "pe_session";

// Cross-site form posts are refused before anything runs; frames and sniffing are off.
consoleApp.use(csrf(), secureHeaders());

/** One admin API call; the answer's JSON, or its error message. */
async function api(c: Context<ConsoleEnv>, method: string, path: string, body?: unknown) {
  const res = await admin.request(
    path,
    {
      method,
      headers: { authorization: `Bearer ${c.env.ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    c.env,
  );
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) return { ok: false as const, message: `${json.ErrorMessage ?? "The request failed."} (error ${json.ErrorCode})` };
  return { ok: true as const, data: json };
}

// --- pages ---------------------------------------------------------------------

const STYLE = `*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#123;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header a{color:#fff}header form{margin-left:auto}main{padding:1rem;max-width:72rem;margin:auto}
nav a{margin-right:.9rem}table{border-collapse:collapse;width:100%;margin:.75rem 0;background:#fff;display:block;overflow-x:auto}
td,th{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}form.inline{display:inline}
input,select,button{font:inherit;padding:.3rem .5rem;margin:.15rem 0}button{cursor:pointer}
[role=status]{background:#e6f4ea;border:1px solid #7c7;padding:.5rem}[role=alert]{background:#fdecea;border:1px solid #d77;padding:.5rem}
output{display:block;font-family:monospace;font-size:1.1rem;background:#fff7d6;padding:.5rem;word-break:break-all}
:focus-visible{outline:3px solid #36c;outline-offset:2px}fieldset{border:1px solid #ccc;background:#fff}label{margin-right:.75rem}`;

function Page(props: { title: string; session?: ConsoleSession; site?: string; children: Child }) {
  const { session, site, title } = props;
  const flash = session?.flash;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title} · permits-edge admin</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <strong>permits-edge admin</strong>
          {session ? <a href="/admin">Sites</a> : null}
          {session ? (
            <form method="post" action="/admin/logout">
              <input type="hidden" name="_csrf" value={session.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main>
          {site ? (
            <nav aria-label="Site">
              <strong>{site}:</strong> <a href={`/admin/sites/${site}/zones`}>Lot zones</a>
              <a href={`/admin/sites/${site}/disconnected`}>Disconnected</a>
              <a href={`/admin/sites/${site}/settings`}>Settings</a>
              <a href={`/admin/sites/${site}/tasks`}>Tasks</a>
              <a href={`/admin/sites/${site}/paystation`}>Pay Station Status</a>
              <a href={`/admin/sites/${site}/tokens`}>API tokens</a>
            </nav>
          ) : null}
          <h1>{title}</h1>
          {flash ? <p role={flash.kind === "ok" ? "status" : "alert"}>{flash.text}</p> : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A POST form carrying the anti-forgery token. */
function Form(props: { action: string; session: ConsoleSession; inline?: boolean; label?: string; children: Child }) {
  return (
    <form method="post" action={props.action} class={props.inline ? "inline" : undefined} aria-label={props.label}>
      <input type="hidden" name="_csrf" value={props.session.csrf} />
      {props.children}
    </form>
  );
}

// --- sign-in ---------------------------------------------------------------------

function loginPage(c: Context<ConsoleEnv>, error?: string) {
  return c.html(
    <Page title="Sign in">
      {error ? <p role="alert">{error}</p> : null}
      <form method="post" action="/admin/login">
        <label for="secret">Admin secret</label>
        <input id="secret" name="secret" type="password" autocomplete="current-password" required autofocus />
        <button type="submit">Sign in</button>
      </form>
    </Page>,
    error ? 401 : 200,
  );
}

consoleApp.get("/login", (c) => loginPage(c));

consoleApp.post("/login", async (c) => {
  const form = await c.req.parseBody({ all: true });
  const secret = typeof form.secret === "string" ? form.secret : "";
  if (!c.env.ADMIN_TOKEN) return loginPage(c, "This Worker has no ADMIN_TOKEN secret: set it with `wrangler secret put ADMIN_TOKEN`.");
  if (!secret || !(await secretsEqual(secret, c.env.ADMIN_TOKEN))) return loginPage(c, "That is not the admin secret.");
  const id = await openSession(database(c.env.DB), nowSeconds());
  setCookie(c, COOKIE, id, { path: "/admin", httpOnly: true, secure: true, sameSite: "Strict", maxAge: SESSION_SECONDS });
  return c.redirect("/admin", 303);
});

// Everything below needs a live session.
consoleApp.use(async (c, next) => {
  const session = await readSession(database(c.env.DB), getCookie(c, COOKIE), nowSeconds());
  if (!session) {
    deleteCookie(c, COOKIE, { path: "/admin", secure: true });
    return c.redirect("/admin/login", 303);
  }
  if (c.req.method === "POST") {
    const form = await c.req.parseBody({ all: true });
    if (form._csrf !== session.csrf)
      return c.text("This form has expired or did not come from this console: reload the page and try again.", 403);
  }
  c.set("session", session);
  await next();
});

consoleApp.post("/logout", async (c) => {
  await closeSession(database(c.env.DB), c.get("session").idHash);
  deleteCookie(c, COOKIE, { path: "/admin", secure: true });
  return c.redirect("/admin/login", 303);
});

/** Post-redirect-get: the outcome of an action waits in the session for the next page. */
async function done(c: Context<ConsoleEnv>, to: string, flash: Flash) {
  await setFlash(database(c.env.DB), c.get("session"), flash);
  return c.redirect(to, 303);
}

const field = async (c: Context<ConsoleEnv>, name: string) => {
  const value = (await c.req.parseBody({ all: true }))[name];
  return typeof value === "string" ? value : "";
};

// --- sites -----------------------------------------------------------------------

consoleApp.get("/", async (c) => {
  const res = await api(c, "GET", "/sites");
  const sites = res.ok ? (res.data.sites as { slug: string; name: string; currencies: string[] }[]) : [];
  return c.html(
    <Page title="Sites" session={c.get("session")}>
      {res.ok ? null : <p role="alert">{res.message}</p>}
      <p>Choose the site to work on.</p>
      <ul>
        {sites.map((s) => (
          <li>
            <a href={`/admin/sites/${s.slug}/zones`}>{s.slug}</a> {s.name} ({s.currencies.join(", ")})
          </li>
        ))}
      </ul>
    </Page>,
  );
});

consoleApp.get("/sites/:site", (c) => c.redirect(`/admin/sites/${c.req.param("site")}/zones`, 303));

// --- lot zones ---------------------------------------------------------------------

consoleApp.get("/sites/:site/zones", async (c) => {
  const site = c.req.param("site");
  const session = c.get("session");
  const res = await api(c, "GET", `/sites/${site}/zones`);
  const zones = res.ok ? (res.data.zones as { id: number; name: string; createdAt: string }[]) : [];
  return c.html(
    <Page title="Lot zones" session={session} site={site}>
      {res.ok ? null : <p role="alert">{res.message}</p>}
      <Form action={`/admin/sites/${site}/zones`} session={session} label="Add lot zone">
        <label for="new-zone">New lot zone</label>
        <input id="new-zone" name="name" required maxlength={200} />
        <button type="submit">Add lot zone</button>
      </Form>
      <table id="zones">
        <thead>
          <tr>
            <th>Name</th>
            <th>Created (UTC)</th>
            <th>Rename</th>
            <th>Remove</th>
          </tr>
        </thead>
        <tbody>
          {zones.map((z) => (
            <tr>
              <td>{z.name}</td>
              <td>{z.createdAt}</td>
              <td>
                <Form action={`/admin/sites/${site}/zones/${z.id}/rename`} session={session} inline label={`Rename ${z.name}`}>
                  <input name="name" value={z.name} required maxlength={200} aria-label={`New name for ${z.name}`} />
                  <button type="submit">Rename</button>
                </Form>
              </td>
              <td>
                <Form action={`/admin/sites/${site}/zones/${z.id}/remove`} session={session} inline label={`Remove ${z.name}`}>
                  <button type="submit">Remove</button>
                </Form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>,
  );
});

/** Adds a lot zone (from the zones page or the disconnected page) and reports what it reconnected. */
async function addZone(c: Context<ConsoleEnv>, back: string) {
  const site = c.req.param("site") as string;
  const res = await api(c, "POST", `/sites/${site}/zones`, { name: await field(c, "name") });
  return done(
    c,
    back,
    res.ok
      ? { kind: "ok", text: `Added lot zone ${res.data.name}; reconnected ${res.data.reconnected} disconnected record(s).` }
      : { kind: "error", text: res.message },
  );
}

consoleApp.post("/sites/:site/zones", (c) => addZone(c, `/admin/sites/${c.req.param("site")}/zones`));

consoleApp.post("/sites/:site/zones/:id/rename", async (c) => {
  const { site, id } = c.req.param();
  const res = await api(c, "PATCH", `/sites/${site}/zones/${id}`, { name: await field(c, "name") });
  return done(
    c,
    `/admin/sites/${site}/zones`,
    res.ok ? { kind: "ok", text: `Renamed the lot zone to ${res.data.name}.` } : { kind: "error", text: res.message },
  );
});

consoleApp.post("/sites/:site/zones/:id/remove", async (c) => {
  const { site, id } = c.req.param();
  const res = await api(c, "DELETE", `/sites/${site}/zones/${id}`);
  const removed = res.ok ? (res.data.removed as { name: string }) : undefined;
  return done(
    c,
    `/admin/sites/${site}/zones`,
    res.ok
      ? { kind: "ok", text: `Removed lot zone ${removed?.name}; ${res.data.disconnected} record(s) are now disconnected.` }
      : { kind: "error", text: res.message },
  );
});

// --- disconnected records ------------------------------------------------------------

consoleApp.get("/sites/:site/disconnected", async (c) => {
  const site = c.req.param("site");
  const session = c.get("session");
  const res = await api(c, "GET", `/sites/${site}/disconnected`);
  const zones = res.ok ? (res.data.zones as { name: string; count: number; lastSeen: string }[]) : [];
  return c.html(
    <Page title="Disconnected records" session={session} site={site}>
      {res.ok ? null : <p role="alert">{res.message}</p>}
      <p>Zone names that pushes used but no lot zone matches. Creating the lot zone reconnects their records.</p>
      {zones.length === 0 ? <p>None.</p> : null}
      <table id="disconnected">
        <thead>
          <tr>
            <th>Zone name</th>
            <th>Records</th>
            <th>Last seen (UTC)</th>
            <th>Fix</th>
          </tr>
        </thead>
        <tbody>
          {zones.map((z) => (
            <tr>
              <td>{z.name}</td>
              <td>{z.count}</td>
              <td>{z.lastSeen}</td>
              <td>
                <Form action={`/admin/sites/${site}/disconnected`} session={session} inline label={`Create lot zone ${z.name}`}>
                  <input type="hidden" name="name" value={z.name} />
                  <button type="submit">Create lot zone</button>
                </Form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>,
  );
});

consoleApp.post("/sites/:site/disconnected", (c) => addZone(c, `/admin/sites/${c.req.param("site")}/disconnected`));

// --- settings --------------------------------------------------------------------------

consoleApp.get("/sites/:site/settings", async (c) => {
  const site = c.req.param("site");
  const session = c.get("session");
  const res = await api(c, "GET", `/sites/${site}/parkmobile`);
  const s = res.ok
    ? (res.data as { baseUrl: string; username: string | null; password: string | null; apiKey: string | null; updatedAt: string | null })
    : undefined;
  const secret = (name: "username" | "password" | "apiKey", label: string, type: string) => (
    <p>
      <label for={name}>{label}</label>
      <input
        id={name}
        name={name}
        type={type}
        autocomplete="off"
        placeholder={s?.[name] ? `${s[name]} (set; leave blank to keep)` : "not set"}
      />
    </p>
  );
  return c.html(
    <Page title="System settings: ParkMobile" session={session} site={site}>
      {res.ok ? null : <p role="alert">{res.message}</p>}
      <p>
        Credentials ParkMobile supplies. Saved values are stored encrypted and never shown again
        {s?.updatedAt ? `; last saved ${s.updatedAt} UTC` : ""}.
      </p>
      <Form action={`/admin/sites/${site}/settings`} session={session} label="ParkMobile settings">
        {secret("username", "API username", "text")}
        {secret("password", "API password", "password")}
        {secret("apiKey", "X-API-Key", "password")}
        <p>
          <label for="baseUrl">Base URL</label>
          <input id="baseUrl" name="baseUrl" type="url" value={s?.baseUrl ?? ""} required size={40} />
        </p>
        <button type="submit">Save</button>
      </Form>
    </Page>,
  );
});

consoleApp.post("/sites/:site/settings", async (c) => {
  const site = c.req.param("site");
  const form = await c.req.parseBody({ all: true });
  const body: Record<string, string> = {};
  for (const name of ["username", "password", "apiKey", "baseUrl"]) {
    const value = form[name];
    if (typeof value === "string" && value !== "") body[name] = value;
  }
  const res = await api(c, "PUT", `/sites/${site}/parkmobile`, body);
  return done(
    c,
    `/admin/sites/${site}/settings`,
    res.ok ? { kind: "ok", text: "Saved the ParkMobile settings." } : { kind: "error", text: res.message },
  );
});

// --- tasks ---------------------------------------------------------------------------------

interface Run {
  id: number;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
  message: string | null;
  counts: Record<string, number | string[]>;
}

consoleApp.get("/sites/:site/tasks", async (c) => {
  const site = c.req.param("site");
  const session = c.get("session");
  const [tasks, runs] = await Promise.all([
    api(c, "GET", `/sites/${site}/tasks`),
    api(c, "GET", `/sites/${site}/tasks/parkmobile/runs?limit=50`),
  ]);
  const task = tasks.ok ? (tasks.data.tasks as { name: string; schedule: string; enabled: boolean }[])[0] : undefined;
  const list = runs.ok ? (runs.data.runs as Run[]) : [];
  return c.html(
    <Page title="System tasks" session={session} site={site}>
      {tasks.ok ? null : <p role="alert">{tasks.message}</p>}
      {task ? (
        <p>
          <strong>{task.name}</strong>: every 3 minutes (<code>{task.schedule}</code>),{" "}
          <strong>{task.enabled ? "enabled" : "disabled"}</strong>.{" "}
          <Form
            action={`/admin/sites/${site}/tasks/${task.enabled ? "disable" : "enable"}`}
            session={session}
            inline
            label="Switch the task"
          >
            <button type="submit">{task.enabled ? "Disable" : "Enable"}</button>
          </Form>{" "}
          <Form action={`/admin/sites/${site}/tasks/run`} session={session} inline label="Run the task now">
            <button type="submit">RUN</button>
          </Form>
        </p>
      ) : null}
      <h2>Run log</h2>
      <table id="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Trigger</th>
            <th>Started (UTC)</th>
            <th>Finished</th>
            <th>Outcome</th>
            <th>Zones matched / skipped</th>
            <th>Fetched</th>
            <th>Created / updated / unchanged</th>
            <th>Rejected</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {list.map((r) => (
            <tr>
              <td>{r.id}</td>
              <td>{r.trigger}</td>
              <td>{r.startedAt}</td>
              <td>{r.finishedAt ?? "running"}</td>
              <td>{r.outcome}</td>
              <td>
                {r.counts.zonesMatched} / {r.counts.zonesSkipped}
                {(r.counts.skippedZones as string[]).length > 0 ? ` (${(r.counts.skippedZones as string[]).join(", ")})` : ""}
              </td>
              <td>{r.counts.rightsFetched}</td>
              <td>
                {r.counts.created} / {r.counts.updated} / {r.counts.unchanged}
              </td>
              <td>{r.counts.rejected}</td>
              <td>{r.message ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>,
  );
});

for (const action of ["enable", "disable"] as const) {
  consoleApp.post(`/sites/:site/tasks/${action}`, async (c) => {
    const site = c.req.param("site");
    const res = await api(c, "PATCH", `/sites/${site}/tasks/parkmobile`, { enabled: action === "enable" });
    return done(c, `/admin/sites/${site}/tasks`, res.ok ? { kind: "ok", text: `Task ${action}d.` } : { kind: "error", text: res.message });
  });
}

consoleApp.post("/sites/:site/tasks/run", async (c) => {
  const site = c.req.param("site");
  const res = await api(c, "POST", `/sites/${site}/tasks/parkmobile/run`);
  const run = res.ok ? (res.data as unknown as Run) : undefined;
  return done(
    c,
    `/admin/sites/${site}/tasks`,
    run
      ? { kind: run.outcome === "failed" ? "error" : "ok", text: `Run ${run.id}: ${run.outcome}${run.message ? `: ${run.message}` : "."}` }
      : { kind: "error", text: (res as { message: string }).message },
  );
});

// --- Pay Station Status --------------------------------------------------------------------

interface Found {
  reference_id: string;
  source: string;
  plate: string;
  zone: string | null;
  disconnected: boolean;
  amount: string | null;
  currency: string | null;
  start: string;
  end: string;
  permitNo: string | null;
  ticketNumber: string | null;
  promoCode: string | null;
  deleted: boolean;
}

const SEARCH_FIELDS = ["plate", "zone", "from", "to", "source", "promoCode"] as const;

consoleApp.get("/sites/:site/paystation", async (c) => {
  const site = c.req.param("site");
  const session = c.get("session");
  const query = Object.fromEntries(SEARCH_FIELDS.flatMap((f) => (c.req.query(f) ? [[f, c.req.query(f) as string]] : [])));
  const page = Math.max(1, Number(c.req.query("page")) || 1);
  const res = await api(c, "GET", `/sites/${site}/permits?${new URLSearchParams({ ...query, page: String(page) })}`);
  const permits = res.ok ? (res.data.permits as Found[]) : [];
  const link = (p: number) => `/admin/sites/${site}/paystation?${new URLSearchParams({ ...query, page: String(p) })}`;
  return c.html(
    <Page title="Pay Station Status" session={session} site={site}>
      <form method="get" action={`/admin/sites/${site}/paystation`} aria-label="Search temporary permits">
        <fieldset>
          <legend>Search temporary permits</legend>
          <label>
            Plate <input name="plate" value={query.plate ?? ""} maxlength={25} />
          </label>
          <label>
            Zone <input name="zone" value={query.zone ?? ""} maxlength={200} />
          </label>
          <label>
            From (UTC) <input name="from" value={query.from ?? ""} placeholder="2026-11-22T00:00:00" />
          </label>
          <label>
            To (UTC) <input name="to" value={query.to ?? ""} placeholder="2026-11-23T00:00:00" />
          </label>
          <label>
            Source{" "}
            <select name="source">
              <option value="">any</option>
              {["push", "ParkMobile"].map((s) => (
                <option value={s} selected={query.source === s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Promo code <input name="promoCode" value={query.promoCode ?? ""} maxlength={50} />
          </label>
          <button type="submit">Search</button>
        </fieldset>
      </form>
      {res.ok ? null : <p role="alert">{res.message}</p>}
      <table id="permits">
        <thead>
          <tr>
            <th>Reference</th>
            <th>Plate</th>
            <th>Zone</th>
            <th>Start (UTC)</th>
            <th>End (UTC)</th>
            <th>Amount</th>
            <th>Permit / ticket</th>
            <th>Source</th>
            <th>Promo Code</th>
          </tr>
        </thead>
        <tbody>
          {permits.map((p) => (
            <tr>
              <td>
                <a href={`/admin/sites/${site}/permits/${p.reference_id}`}>{p.reference_id}</a>
                {p.deleted ? " (deleted)" : ""}
              </td>
              <td>{p.plate}</td>
              <td>{p.zone ? `${p.zone}${p.disconnected ? " (disconnected)" : ""}` : ""}</td>
              <td>{p.start}</td>
              <td>{p.end}</td>
              <td>{p.amount ? `${p.amount} ${p.currency ?? ""}` : ""}</td>
              <td>{p.permitNo ?? p.ticketNumber ?? ""}</td>
              <td>{p.source}</td>
              <td>{p.promoCode ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {permits.length === 0 && res.ok ? <p>No permits match.</p> : null}
      <nav aria-label="Pages">
        {page > 1 ? <a href={link(page - 1)}>Previous page</a> : null} Page {page}{" "}
        {res.ok && res.data.hasMore ? <a href={link(page + 1)}>Next page</a> : null}
      </nav>
    </Page>,
  );
});

consoleApp.get("/sites/:site/permits/:reference", async (c) => {
  const { site, reference } = c.req.param();
  const res = await api(c, "GET", `/permits/${reference}`);
  const p = res.ok
    ? (res.data as Record<string, unknown> & {
        history: { version: number; action: string; actor: string; at: string; changes: Record<string, [unknown, unknown]> }[];
      })
    : undefined;
  const rows: [string, unknown][] = p
    ? [
        ["Type / source", `${p.type} / ${p.source}`],
        ["Plate", `${p.plate} (${p.plateNormalized})`],
        ["Zone", p.disconnected ? `${p.zone} (disconnected)` : (p.lotZone ?? p.zone ?? "")],
        ["Valid (UTC)", `${p.start} to ${p.end}`],
        ["Amount", p.amount ? `${p.amount} ${p.currency ?? ""}` : ""],
        ["Permit / ticket", `${p.permitNo ?? "-"} / ${p.ticketNumber ?? "-"}`],
        ["Promo code", p.promoCode ?? ""],
        ["Version", p.version],
        ["Deleted", p.deletedAt ?? "no"],
      ]
    : [];
  return c.html(
    <Page title={`Permit ${reference}`} session={c.get("session")} site={site}>
      {res.ok ? null : <p role="alert">{res.message}</p>}
      <table id="permit">
        <tbody>
          {rows.map(([k, v]) => (
            <tr>
              <th>{k}</th>
              <td>{String(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>History</h2>
      <table id="history">
        <thead>
          <tr>
            <th>Version</th>
            <th>Action</th>
            <th>At (UTC)</th>
            <th>By</th>
            <th>Changes (before → after)</th>
          </tr>
        </thead>
        <tbody>
          {(p?.history ?? []).map((h) => (
            <tr>
              <td>{h.version}</td>
              <td>{h.action}</td>
              <td>{h.at}</td>
              <td>{h.actor}</td>
              <td>
                {Object.entries(h.changes)
                  .map(([k, [a, b]]) => `${k}: ${a ?? "-"} → ${b ?? "-"}`)
                  .join("; ")}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>,
  );
});

// --- API tokens ---------------------------------------------------------------------------------

consoleApp.get("/sites/:site/tokens", async (c) => {
  const site = c.req.param("site");
  const session = c.get("session");
  const res = await api(c, "GET", `/sites/${site}/tokens`);
  const tokens = res.ok
    ? (res.data.tokens as {
        id: string;
        prefix: string;
        label: string | null;
        scopes: string[];
        createdAt: string;
        lastUsedAt: string | null;
        revokedAt: string | null;
      }[])
    : [];
  return c.html(
    <Page title="API tokens" session={session} site={site}>
      {res.ok ? null : <p role="alert">{res.message}</p>}
      {session.flash?.secret ? (
        <section aria-label="New token">
          <p>Store this secret now: it is shown this once and cannot be read back, only rotated.</p>
          <output id="new-token">{session.flash.secret}</output>
        </section>
      ) : null}
      <Form action={`/admin/sites/${site}/tokens`} session={session} label="Issue a token">
        <fieldset>
          <legend>Issue a token</legend>
          {SCOPES.map((scope) => (
            <label>
              <input type="checkbox" name="scopes" value={scope} /> {scope}
            </label>
          ))}
          <p>
            <label for="label">Label</label>
            <input id="label" name="label" maxlength={100} />
          </p>
          <button type="submit">Issue token</button>
        </fieldset>
      </Form>
      <table id="tokens">
        <thead>
          <tr>
            <th>Id</th>
            <th>Starts with</th>
            <th>Label</th>
            <th>Scopes</th>
            <th>Created (UTC)</th>
            <th>Last used</th>
            <th>Revoked</th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr>
              <td>{t.id}</td>
              <td>{t.prefix}…</td>
              <td>{t.label ?? ""}</td>
              <td>{t.scopes.join(", ")}</td>
              <td>{t.createdAt}</td>
              <td>{t.lastUsedAt ?? "never"}</td>
              <td>
                {t.revokedAt ? (
                  `revoked ${t.revokedAt}`
                ) : (
                  <Form action={`/admin/sites/${site}/tokens/${t.id}/revoke`} session={session} inline label={`Revoke ${t.id}`}>
                    <button type="submit">Revoke</button>
                  </Form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>,
  );
});

consoleApp.post("/sites/:site/tokens", async (c) => {
  const site = c.req.param("site");
  const form = await c.req.parseBody({ all: true });
  const scopes = ([] as unknown[]).concat(form.scopes ?? []).filter((s): s is string => typeof s === "string");
  const label = typeof form.label === "string" && form.label.trim() ? form.label : undefined;
  const res = await api(c, "POST", `/sites/${site}/tokens`, { scopes, label });
  return done(
    c,
    `/admin/sites/${site}/tokens`,
    res.ok
      ? { kind: "ok", text: `Issued token ${res.data.id} (${scopes.join(", ")}).`, secret: res.data.token as string }
      : { kind: "error", text: scopes.length === 0 ? "Choose at least one scope." : res.message },
  );
});

consoleApp.post("/sites/:site/tokens/:id/revoke", async (c) => {
  const { site, id } = c.req.param();
  const res = await api(c, "DELETE", `/tokens/${id}`);
  return done(
    c,
    `/admin/sites/${site}/tokens`,
    res.ok ? { kind: "ok", text: `Revoked token ${id}.` } : { kind: "error", text: res.message },
  );
});
