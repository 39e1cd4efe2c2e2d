// The admin API over HTTP, for the CLI and the sandbox: the one admin client (src/routes/admin/client.ts) with fetch
// as its transport, and where to find the sandbox's admin secret.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type AdminClient, adminClient } from "../src/routes/admin/client.ts";

/**
 * Where a sandbox keeps its data and secrets: `.wrangler` (the one `npm start` runs on), or `SANDBOX_DIR` (the
 * end-to-end tests' own, so they never touch it). Its `state/` is wrangler's local D1, KV and Durable Objects.
 */
export const SANDBOX_DIR = process.env.SANDBOX_DIR ? resolve(process.env.SANDBOX_DIR) : join(import.meta.dirname, "..", ".wrangler");

/** The sandbox's admin secret, written by `npm start`. */
export const SANDBOX_SECRET_FILE = join(SANDBOX_DIR, "sandbox-admin-token");

/** The admin API could not be reached, or answered something that is not JSON. */
export class Unreachable extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A client of the admin API of the Worker at `base` (e.g. http://localhost:8787), authenticated with `secret`.
 * A call that cannot reach the Worker, or gets an answer that is not JSON, rejects with {@link Unreachable}.
 */
export function connect(base: string, secret: string, options: { timeoutMs?: number } = {}): AdminClient {
  return adminClient(async (method, path, body, headers) => {
    let response: Response;
    try {
      response = await fetch(`${base}/api/admin/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${secret}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const code = cause?.code ?? (error as { code?: string }).code ?? (error as Error).message;
      throw new Unreachable(`Cannot reach ${base} (${code}).`, code);
    }
    const text = await response.text();
    if (!response.headers.get("content-type")?.includes("json")) {
      if (response.ok && response.headers.get("content-type")?.startsWith("text/csv")) return { status: response.status, body: text };
      throw new Unreachable(`Unexpected answer from ${base} (HTTP ${response.status}): ${text.slice(0, 200)}`);
    }
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      throw new Unreachable(`Unexpected answer from ${base} (HTTP ${response.status}): ${text.slice(0, 200)}`);
    }
  });
}

/** The sandbox's admin secret, or null when the sandbox never started here. */
export function sandboxSecret(): string | null {
  return existsSync(SANDBOX_SECRET_FILE) ? readFileSync(SANDBOX_SECRET_FILE, "utf8").trim() : null;
}
