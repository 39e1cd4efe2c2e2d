import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { Scope } from "../src/auth/scopes";
import seed001Push from "./fixtures/seed-001-push.json";

export const ADMIN = "test-admin-secret";
const BASE = "http://permits.test";

/** A request through the Worker's own fetch handler. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

/** POSTs JSON (any value: tests send ugly bodies too). */
export function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Calls the admin API with ADMIN_TOKEN (or another bearer). */
export function adminCall(method: string, path: string, body?: unknown, bearer = ADMIN): Promise<Response> {
  return call(`/api/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

let sites = 0;

/** A fresh site with lot zones and a token holding `scopes`, so tests never share data. */
export async function newSite(options: { zones?: string[]; scopes?: Scope[]; currencies?: string[] } = {}) {
  const slug = `site-${++sites}-${crypto.randomUUID().slice(0, 8)}`;
  const created = await adminCall("POST", "/sites", { slug, currencies: options.currencies });
  if (created.status !== 201) throw new Error(`site create: ${created.status} ${await created.text()}`);
  for (const name of options.zones ?? ["Lot 4", "Lot 01", "Lot 02"]) {
    const res = await adminCall("POST", `/sites/${slug}/zones`, { name });
    if (res.status !== 201) throw new Error(`zone add: ${res.status} ${await res.text()}`);
  }
  const res = await adminCall("POST", `/sites/${slug}/tokens`, {
    scopes: options.scopes ?? ["push", "update", "delete", "stats", "lookup"],
  });
  const token = (await res.json()) as { id: string; token: string };
  return { slug, token: token.token, tokenId: token.id };
}

/** Counts rows straight from D1, to prove what was (not) written. */
export async function count(table: string, where = "1", ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The seed 001 push example (test/fixtures/seed-001-push.json), verbatim but for the token. */
export function seedPush(token: string): Record<string, unknown> {
  return { ...seed001Push, apiToken: token };
}

/** Pushes seed 001's example (with `overrides`) through OC-TOMA and returns the reference; the push must succeed. */
export async function pushed(token: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await post("/api/OC-TOMA/v1/permits/push", { ...seedPush(token), ...overrides });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reference_id: string }).reference_id;
}

/** POSTs an OC-TOMA call (`update`, `delete`, …) that must succeed, and returns its JSON answer. */
export async function ocTomaOk(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await post(`/api/OC-TOMA/v1/permits/${path}`, body);
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** Registers an OAuth client on a site through the admin API; returns its id and secret. */
export async function newClient(slug: string, options: { scopes?: string[]; label?: string } = {}) {
  const res = await adminCall("POST", `/sites/${slug}/clients`, {
    label: options.label ?? "ParkOnce",
    scopes: options.scopes ?? ["sessions", "lookup"],
  });
  if (res.status !== 201) throw new Error(`client create: ${res.status} ${await res.text()}`);
  const client = (await res.json()) as { clientId: string; clientSecret: string };
  return { clientId: client.clientId, clientSecret: client.clientSecret };
}

/** POSTs a form-encoded body (what RFC 6749 clients send). */
export function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** HTTP Basic credentials of a client (RFC 6749 §2.3.1: each half form-urlencoded first). */
export function basic(clientId: string, clientSecret: string): Record<string, string> {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return { authorization: `Basic ${btoa(`${enc(clientId)}:${enc(clientSecret)}`)}` };
}

/** An access token for a client (client credentials, HTTP Basic); the request must succeed. */
export async function accessToken(client: { clientId: string; clientSecret: string }, scope?: string): Promise<string> {
  const res = await postForm(
    "/oauth/token",
    { grant_type: "client_credentials", ...(scope ? { scope } : {}) },
    basic(client.clientId, client.clientSecret),
  );
  const json = (await res.json()) as { access_token: string };
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json.access_token;
}

/** The Authorization header of a bearer token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A site set up for sessions: lot zone "Lot 4" numbered 104 (2.50 CAD an hour, at most 240 minutes, America/Toronto,
 * capacity 120), "Lot 01" without a number, a client "ParkOnce" (sessions, lookup) with an access token, and an API
 * token with every non-admin scope.
 */
export async function sessionSite() {
  const site = await newSite({ scopes: ["push", "update", "delete", "stats", "lookup", "sessions"] });
  const res = await adminCall("PATCH", `/sites/${site.slug}/zones/Lot%204`, {
    number: "104",
    ratePerHour: "2.50",
    maxMinutes: 240,
    timeZone: "America/Toronto",
    capacity: 120,
  });
  if (res.status !== 200) throw new Error(`zone update: ${res.status} ${await res.text()}`);
  const client = await newClient(site.slug);
  return { ...site, client, access: await accessToken(client) };
}

/**
 * `read` once `ok` holds of its value: for work the Worker does after its
 * answer (`waitUntil`), polled for up to 2 s; the last value otherwise.
 */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The statements a read sends, captured from the D1 binding it is given, each
 * with its query plan (`EXPLAIN QUERY PLAN`, same parameters), in order.
 */
export async function queryPlans(read: (d1: D1Database) => Promise<unknown>): Promise<{ sql: string; plan: string }[]> {
  const sent: { sql: string; params: unknown[] }[] = [];
  const capturing = new Proxy(env.DB, {
    get(target, key) {
      if (key === "prepare") {
        return (sql: string) =>
          new Proxy(target.prepare(sql), {
            get(statement, k) {
              if (k === "bind") {
                return (...params: unknown[]) => {
                  sent.push({ sql, params });
                  return statement.bind(...params);
                };
              }
              const value = Reflect.get(statement, k);
              return typeof value === "function" ? value.bind(statement) : value;
            },
          });
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  await read(capturing);
  return Promise.all(
    sent.map(async ({ sql, params }) => {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...params)
        .all<{ detail: string }>();
      return { sql, plan: results.map((r) => r.detail).join("\n") };
    }),
  );
}

/** The origin the console's forms are posted from (the same origin, as a browser sends it). */
export const CONSOLE_ORIGIN = "http://permits.test";

/** Signs in to the console with the admin secret: the Set-Cookie header as sent, and the session cookie to send back. */
export async function consoleSignIn(): Promise<{ cookie: string; session: string }> {
  const res = await call("/admin/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: CONSOLE_ORIGIN },
    body: new URLSearchParams({ secret: ADMIN }),
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  const cookie = res.headers.get("set-cookie") ?? "";
  return { cookie, session: cookie.split(";")[0] as string };
}

/** A console page, signed in, redirects not followed. */
export function consolePage(path: string, session: string): Promise<Response> {
  return call(path, { headers: { cookie: session }, redirect: "manual" });
}

/** The CSRF token of the (first) form on a console page. */
export async function csrfOf(path: string, session: string): Promise<string> {
  return /name="_csrf" value="([^"]+)"/.exec(await (await consolePage(path, session)).text())?.[1] as string;
}

/** Posts a console form, as a browser would (fields as an object, or as pairs when a name repeats). */
export function consoleSubmit(
  path: string,
  session: string,
  fields: Record<string, string> | [string, string][] | URLSearchParams,
  origin = CONSOLE_ORIGIN,
): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin, cookie: session },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
}
