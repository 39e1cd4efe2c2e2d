import type { Context, Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { secretsEqual } from "../../auth/secrets";
import {
  type ConsoleSession,
  closeSession,
  type Flash,
  openSession,
  readSession,
  SESSION_SECONDS,
  setFlash,
} from "../../db/console-sessions";
import { nowSeconds } from "../../domain/time";
import type { AppEnv } from "../../http";
import { admin } from "../admin";
import { type AdminClient, type Answer, adminClient, describeError, describeRun } from "../admin/client";
import { Page } from "./layout";

export type ConsoleEnv = AppEnv & { Variables: { session: ConsoleSession; site: Data<"getSite"> } };

/** What an admin API call answers when it succeeds. */
export type Data<M extends keyof AdminClient> = Awaited<ReturnType<AdminClient[M]>> extends Answer<infer T> ? T : never;
export type ConsoleApp = Hono<ConsoleEnv>;
export type ConsoleContext = Context<ConsoleEnv>;

const COOKIE = "pe_session";

function loginPage(c: ConsoleContext, error?: string) {
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

/**
 * Sign-in with the admin secret, the session every other page needs, and
 * sign-out. The cookie is a random id (only its SHA-256 is stored),
 * HttpOnly, Secure, SameSite=Strict, limited to /admin, expiring after
 * 8 hours, and ended server-side by sign-out; every form POST must carry the
 * session's anti-forgery token.
 */
export function registerSession(app: ConsoleApp) {
  app.get("/login", (c) => loginPage(c));

  app.post("/login", async (c) => {
    const form = await c.req.parseBody({ all: true });
    const secret = typeof form.secret === "string" ? form.secret : "";
    if (!c.env.ADMIN_TOKEN) return loginPage(c, "This Worker has no ADMIN_TOKEN secret: set it with `wrangler secret put ADMIN_TOKEN`.");
    if (!secret || !(await secretsEqual(secret, c.env.ADMIN_TOKEN))) return loginPage(c, "That is not the admin secret.");
    const id = await openSession(c.env.DB, nowSeconds());
    setCookie(c, COOKIE, id, { path: "/admin", httpOnly: true, secure: true, sameSite: "Strict", maxAge: SESSION_SECONDS });
    return c.redirect("/admin", 303);
  });

  // Everything registered after this needs a live session.
  app.use(async (c, next) => {
    const session = await readSession(c.env.DB, getCookie(c, COOKIE), nowSeconds());
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

  app.post("/logout", async (c) => {
    await closeSession(c.env.DB, c.get("session").idHash);
    deleteCookie(c, COOKIE, { path: "/admin", secure: true });
    return c.redirect("/admin/login", 303);
  });
}

/**
 * The admin API, called in-process with ADMIN_TOKEN: the console applies
 * exactly its rules, errors and cache invalidation.
 */
export function api(c: ConsoleContext) {
  return adminClient(async (method, path, body, extra) => {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${c.env.ADMIN_TOKEN}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const res = await admin.request(path, init, c.env, c.executionCtx);
    const json = res.headers.get("content-type")?.includes("json");
    return { status: res.status, body: json ? await res.json() : await res.text() };
  });
}

/** Post-redirect-get: the outcome of an action waits in the session for the next page. */
export async function done(c: ConsoleContext, to: string, flash: Flash) {
  await setFlash(c.env.DB, c.get("session"), flash);
  return c.redirect(to, 303);
}

/**
 * The message an action leaves: `ok(data)` when the API agreed; otherwise its
 * error, with what the form held (`values`) so the page can fill it in again.
 */
export function outcome<T>(answer: Answer<T>, ok: (data: T) => string, values?: Record<string, string>): Flash {
  return answer.ok ? { kind: "ok", text: ok(answer.data) } : { kind: "error", text: describeError(answer.error), values };
}

/** The message a task run leaves: what it did in one line, as an error when the run failed. */
export function runOutcome(answer: Answer<Parameters<typeof describeRun>[0]>): Flash {
  if (!answer.ok) return { kind: "error", text: describeError(answer.error) };
  return { kind: answer.data.outcome === "failed" ? "error" : "ok", text: describeRun(answer.data) };
}

/** What a refused form held, from the session's message, to fill it in again ("" when nothing was refused). */
export function refilled(c: ConsoleContext, name: string): string {
  return c.get("session").flash?.values?.[name] ?? "";
}

/**
 * The site in the path, for every page under /admin/sites/:site: an unknown
 * site (or one the secret may not manage) is a 404 page with no forms.
 */
export const requireSite: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const answer = await api(c).getSite(c.req.param("site") ?? "");
  if (!answer.ok) {
    return c.html(
      <Page title="No such site" session={c.get("session")} answer={answer}>
        <p>
          <a href="/admin">Choose a site</a>
        </p>
      </Page>,
      404,
    );
  }
  c.set("site", answer.data);
  await next();
};

/**
 * The page for a record the path names under a site that does not hold it
 * (another site's, or none): 404, with nothing to act on.
 */
export function notOfSite(c: ConsoleContext, what: string) {
  const site = c.get("site").slug;
  return c.html(
    <Page title="Not found" session={c.get("session")} site={site}>
      <p role="alert">
        Site {site} has no {what}.
      </p>
    </Page>,
    404,
  );
}

/** Whether the site holds the API token (`kind` "token") or OAuth client of that id. */
export async function siteHolds(c: ConsoleContext, kind: "token" | "client", id: string): Promise<boolean> {
  const site = c.get("site").slug;
  if (kind === "token") {
    const answer = await api(c).listTokens(site);
    return answer.ok && answer.data.tokens.some((t) => t.id === id);
  }
  const answer = await api(c).listClients(site);
  return answer.ok && answer.data.clients.some((cl) => cl.clientId === id);
}

/**
 * One number field of the posted form: a blank or non-numeric entry becomes NaN, which travels as null, so the admin
 * API names the field and the rule ("must be a number").
 */
export async function formNumber(c: ConsoleContext, name: string): Promise<number> {
  const value = (await formField(c, name)).trim();
  return value === "" ? Number.NaN : Number(value);
}

/** One text field of the posted form ("" when absent). */
export async function formField(c: ConsoleContext, name: string): Promise<string> {
  const value = (await c.req.parseBody({ all: true }))[name];
  return typeof value === "string" ? value : "";
}
