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
