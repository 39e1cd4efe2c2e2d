#!/usr/bin/env node

// A webhook receiver stand-in: what an operator's system would run to take this Worker's webhooks. It verifies every
// delivery's signature with the Standard Webhooks library (`standardwebhooks`, as any receiver could), prints what it
// got, and answers as the URL it was called at asks, so retries, timeouts and 410 can be watched:
//
//   /any/path                   200
//   ?status=503                 that status, every time (?status=410 has the Worker disable the endpoint)
//   ?fail=2                     503 to the first 2 attempts of each message (its webhook-id), then 200
//   ?retryAfter=30              with Retry-After: 30 on the failures
//   ?hang=1                     no answer at all (the Worker gives up after 15 s and retries)
//   ?redirect=1                 302 to the same path (the Worker follows no redirect: a failure)
//
//   npm run webhook-receiver                        standalone on 127.0.0.1:$WEBHOOK_RECEIVER_PORT (default 8789),
//                                                   verifying with $WEBHOOK_SECRET (the whsec_… shown at registration)
//   startWebhookReceiver({ port, secrets })         in-process, as `npm start` and the tests run it
//
// It also answers two control calls: PUT /_receiver/secrets {"path": "/flaky", "secret": "whsec_…"} (verify that
// path's deliveries with that secret; path "*" for any path), and GET /_receiver/received?path=/flaky (what came).

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The Standard Webhooks library is CommonJS: required as Node requires it (the test runner's module loader would
// otherwise transform it, and complain of source maps the package does not ship).
const { Webhook } = createRequire(import.meta.url)("standardwebhooks") as typeof import("standardwebhooks");

export const DEFAULT_RECEIVER_PORT = 8789;

/** The port `WEBHOOK_RECEIVER_PORT` asks for (0: any free one), else {@link DEFAULT_RECEIVER_PORT}. */
export const receiverPort = () => Number(process.env.WEBHOOK_RECEIVER_PORT || DEFAULT_RECEIVER_PORT);

/** One delivery as the receiver got it. */
export interface ReceivedWebhook {
  path: string;
  /** The webhook-id, webhook-timestamp and webhook-signature headers. */
  id: string | null;
  timestamp: string | null;
  signature: string | null;
  /** The event's type, read from the body. */
  type: string | null;
  body: string;
  /** Whether the signature verified with the path's secret (the Standard Webhooks library's verdict). */
  verified: boolean;
  /** Why it did not verify. */
  problem: string | null;
  /** The status the receiver answered (null: it never answered). */
  answered: number | null;
  /** When it came, epoch ms. */
  at: number;
}

export interface WebhookReceiver {
  url: string;
  /** Verifies the deliveries of `path` ("*": any path without its own) with `secret`. */
  setSecret(path: string, secret: string): void;
  close(): Promise<void>;
}

type Log = (line: string) => void;

/** What the receiver keeps: the latest deliveries. */
const KEEP = 5_000;
const MAX_BODY_BYTES = 1 << 20;

const clock = () => new Date().toISOString().slice(11, 19);

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A few words on what an event was about: the permit's plate and zone, or the run's outcome. */
function summary(body: string): string {
  try {
    const { data } = JSON.parse(body) as { data?: Record<string, unknown> };
    const permit = data?.permit as { plate?: string; zone?: string | null; reference_id?: string; version?: number } | undefined;
    if (permit) return `${permit.plate ?? "?"} in ${permit.zone ?? "no zone"} (${permit.reference_id} v${permit.version})`;
    const run = data?.run as { number?: number; outcome?: string } | undefined;
    if (run) return `run ${run.number} ${run.outcome}`;
  } catch {
    return "(body is not JSON)";
  }
  return "";
}

/**
 * Starts the receiver on `host`:`port` (0: a free port). `secrets` maps a path (or "*") to the `whsec_…` secret
 * its deliveries are verified with. Resolves once it listens.
 */
export async function startWebhookReceiver({
  port,
  host = "127.0.0.1",
  secrets = {},
  log = (line: string) => console.log(`[webhooks] ${clock()} ${line}`),
}: {
  port: number;
  host?: string;
  secrets?: Record<string, string>;
  log?: Log;
}): Promise<WebhookReceiver> {
  const known = new Map(Object.entries(secrets));
  const received: ReceivedWebhook[] = [];
  /** Attempts seen per webhook-id and path, for ?fail=N. */
  const seen = new Map<string, number>();

  const control = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method === "PUT" && url.pathname === "/_receiver/secrets") {
      let body: { path?: unknown; secret?: unknown };
      try {
        body = JSON.parse((await readBody(req)) ?? "{}");
      } catch {
        body = {};
      }
      if (typeof body.path !== "string" || typeof body.secret !== "string" || !body.secret.startsWith("whsec_")) {
        return res.writeHead(400).end('a JSON body {"path": "/…", "secret": "whsec_…"} is required\n');
      }
      known.set(body.path, body.secret);
      return res.writeHead(204).end();
    }
    if (req.method === "GET" && url.pathname === "/_receiver/received") {
      const path = url.searchParams.get("path");
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify(path === null ? received : received.filter((r) => r.path === path)));
    }
    return res.writeHead(404).end();
  };

  // A request that fails (a body cut short, a client gone) is answered 500 and logged: it never stops the process
  // (in `npm start`, the sandbox's).
  const server = createServer((req, res) =>
    handle(req, res).catch((error: Error) => {
      log(`${req.url} failed: ${error.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }),
  );

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://receiver");
    if (url.pathname.startsWith("/_receiver/")) return control(req, res, url);
    const body = await readBody(req);
    if (body === null) return res.writeHead(413).end();
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === "string" ? value : null;
    };
    const id = header("webhook-id");
    const secret = known.get(url.pathname) ?? known.get("*");
    let verified = false;
    let problem: string | null = null;
    if (!secret) problem = `no secret for ${url.pathname}`;
    else {
      try {
        new Webhook(secret).verify(body, {
          "webhook-id": id ?? "",
          "webhook-timestamp": header("webhook-timestamp") ?? "",
          "webhook-signature": header("webhook-signature") ?? "",
        });
        verified = true;
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    let type: string | null = null;
    try {
      type = (JSON.parse(body) as { type?: string }).type ?? null;
    } catch {
      type = null;
    }
    const key = `${url.pathname} ${id}`;
    const attempt = (seen.get(key) ?? 0) + 1;
    if (seen.size >= KEEP) seen.clear();
    seen.set(key, attempt);
    const q = url.searchParams;
    let status = Number(q.get("status") ?? 200);
    if (q.has("fail") && attempt <= Number(q.get("fail"))) status = 503;
    if (q.has("redirect")) status = 302;
    const record: ReceivedWebhook = {
      path: url.pathname,
      id,
      timestamp: header("webhook-timestamp"),
      signature: header("webhook-signature"),
      type,
      body,
      verified,
      problem,
      answered: q.has("hang") ? null : status,
      at: Date.now(),
    };
    received.push(record);
    if (received.length > KEEP) received.splice(0, received.length - KEEP);
    const verdict = verified ? "signature verified" : secret ? `signature NOT verified (${problem})` : `signature not checked (${problem})`;
    log(
      `${url.pathname} ${type ?? "?"} ${id ?? "(no webhook-id)"} attempt ${attempt}: ${verdict}; ${summary(body)} -> ${q.has("hang") ? "no answer" : status}`,
    );
    if (q.has("hang")) return; // Never answered: the connection stays open until the sender gives up.
    const headers: Record<string, string> = { "content-type": "text/plain" };
    if (status >= 300 && q.has("retryAfter")) headers["retry-after"] = q.get("retryAfter") as string;
    if (status === 302) headers.location = url.pathname;
    res.writeHead(status, headers).end(status < 300 ? "ok\n" : "not now\n");
  }

  return new Promise((resolveStart, rejectStart) => {
    server.once("error", rejectStart);
    server.listen(port, host, () => {
      server.off("error", rejectStart);
      const url = `http://${host}:${(server.address() as AddressInfo).port}`;
      server.on("error", (error) => log(`server error: ${error.message}`));
      resolveStart({
        url,
        setSecret: (path, secret) => known.set(path, secret),
        close: () =>
          new Promise<void>((resolveClose) => {
            server.close(() => resolveClose());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Standalone: `npm run webhook-receiver`; Ctrl-C stops it. */
async function main() {
  const secret = process.env.WEBHOOK_SECRET;
  let receiver: WebhookReceiver;
  try {
    receiver = await startWebhookReceiver({ port: receiverPort(), secrets: secret ? { "*": secret } : {} });
  } catch (error) {
    const reason = (error as { code?: string }).code ?? (error as Error).message;
    console.error(`webhook-receiver: cannot listen (${reason}): free the port, or set WEBHOOK_RECEIVER_PORT.`);
    process.exit(1);
  }
  console.log(`Webhook receiver at ${receiver.url}/ (any path)${secret ? "" : "; set WEBHOOK_SECRET=whsec_… to verify signatures"}.`);
  console.log("Ctrl-C stops it.");
  for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => receiver.close().then(() => process.exit(0)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
