#!/usr/bin/env node
// A local stand-in for ParkMobile's enforcement API: serves scripts/parkmobile-fake.ts over HTTP, with traffic that
// keeps changing (new purchases, an extension, expiries every minute) so the Worker's import has something to do.
//
//   npm run parkmobile                            standalone, on 127.0.0.1:$PARKMOBILE_PORT (default 8788)
//   startParkMobileServer({ port, credentials })  in-process, as `npm start` runs it
//
// Credentials: PARKMOBILE_USERNAME, PARKMOBILE_PASSWORD, PARKMOBILE_API_KEY (defaults sandbox, sandbox-password,
// sandbox-key); every call needs them as Basic auth plus an `x-api-key` header, like ParkMobile's.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { demoParkMobile, ParkMobileFake } from "./parkmobile-fake.ts";

export interface Credentials {
  username: string;
  password: string;
  apiKey: string;
}

/** A running stand-in: where it listens, the credentials it takes, the fake behind it, and how to stop it. */
export interface ParkMobileServer {
  url: string;
  credentials: Credentials;
  fake: ParkMobileFake;
  close(): Promise<void>;
}

type Log = (line: string) => void;

export const DEFAULT_PORT = 8788;
export const DEFAULT_CREDENTIALS: Credentials = { username: "sandbox", password: "sandbox-password", apiKey: "sandbox-key" };

/** How often the traffic changes. */
const TRAFFIC_INTERVAL_MS = 60_000;
/** Purchases that ended longer ago than this are dropped, as ParkMobile lists active rights only. */
const EXPIRE_AFTER_S = 3600;
/** The fake reads GET requests only; bodies are read (to convert the request faithfully) up to this size. */
const MAX_BODY_BYTES = 1 << 20;
/** The fake records every path it serves; keep only the latest ones. */
const KEEP_REQUESTS = 1000;

const PLATES = [
  "BXRT 204",
  "CFKL-881",
  "AAB1234",
  "LMN 456",
  "QRS7788",
  "TUV 991",
  "XYZ-123",
  "GHJ5521",
  "KPL 640",
  "WER-302",
  "CAZT 118",
  "BNMK 732",
  "DRV-4410",
  "HJKL 905",
  "ZXCV 377",
  "PLQ 2209",
];
const DURATIONS_MIN = [30, 60, 60, 90, 120, 180];

/** The credentials from the environment, each falling back to its default. */
export function credentialsFromEnv(env = process.env): Credentials {
  return {
    username: env.PARKMOBILE_USERNAME || DEFAULT_CREDENTIALS.username,
    password: env.PARKMOBILE_PASSWORD || DEFAULT_CREDENTIALS.password,
    apiKey: env.PARKMOBILE_API_KEY || DEFAULT_CREDENTIALS.apiKey,
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * The first parkingRightId of this start: from the clock, four a second since 2023-11-14T22:13:20Z, so a restarted
 * sandbox never offers new purchases under ids the Worker already imported (ParkMobile never reuses an id).
 */
const firstRightId = () => (nowSeconds() - 1_700_000_000) * 4;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const clock = () => new Date().toTimeString().slice(0, 8);

/** Node's request as a web Request (headers kept as sent, body read for methods that have one). */
async function toWebRequest(req: IncomingMessage, origin: string): Promise<Request | null> {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  let body: Buffer | undefined;
  if (req.method !== "GET" && req.method !== "HEAD") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return null;
      chunks.push(chunk);
    }
    body = Buffer.concat(chunks);
  }
  return new Request(new URL(req.url ?? "/", origin), { method: req.method, headers, body });
}

/** Writes a web Response to Node's response. */
async function sendWebResponse(res: ServerResponse, response: Response, method: string | undefined): Promise<Buffer | null> {
  const body = method === "HEAD" ? null : Buffer.from(await response.arrayBuffer());
  res.statusCode = response.status;
  for (const [name, value] of response.headers) if (name !== "set-cookie") res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  res.end(body ?? undefined);
  return body;
}

/** A few words on what an answer held, for the request log. */
function describeAnswer(status: number, body: Buffer | null): string {
  if (!body || body.length === 0) return "";
  let answer: { zones?: unknown; parkingRights?: unknown; message?: unknown };
  try {
    answer = JSON.parse(body.toString("utf8"));
  } catch {
    return ` (${body.length} bytes, not JSON)`;
  }
  if (Array.isArray(answer?.zones)) return ` (${answer.zones.length} zones)`;
  if (Array.isArray(answer?.parkingRights)) return ` (${answer.parkingRights.length} rights)`;
  if (status >= 400 && typeof answer?.message === "string") return ` (${answer.message})`;
  return "";
}

/**
 * One minute of traffic: one or two new purchases in random zones, one active purchase extended by 30 minutes,
 * and purchases that ended over an hour ago dropped. Logs one line per change.
 */
function changeTraffic(fake: ParkMobileFake, log: Log) {
  const now = nowSeconds();
  // The purchase to extend is chosen among those already listed and still running, before this minute's new ones.
  const running = [...fake.rights.values()].flat().filter((r) => Date.parse(r.endDateUtc ?? "") / 1000 > now);
  const toExtend = running.length > 0 ? pick(running) : undefined;
  const purchases = 1 + Math.floor(Math.random() * 2);
  for (let i = 0; i < purchases; i++) {
    const zone = pick(fake.zones);
    const minutes = pick(DURATIONS_MIN);
    const right = fake.addRight(zone.signageZoneCode, { plate: pick(PLATES), start: now, minutes });
    log(
      `new purchase ${right.parkingRightId}: zone ${zone.signageZoneCode}, plate ${right.lpn}, ${minutes} min, until ${right.endDateUtc}`,
    );
  }
  if (toExtend) {
    const right = fake.extend(toExtend.parkingRightId, 30, now);
    log(`extended ${right.parkingRightId}: zone ${right.signageZoneCode}, plate ${right.lpn}, +30 min, until ${right.endDateUtc}`);
  }
  const before = [...fake.rights.values()].reduce((sum, list) => sum + list.length, 0);
  fake.expire(now - EXPIRE_AFTER_S);
  const after = [...fake.rights.values()].reduce((sum, list) => sum + list.length, 0);
  if (after < before) log(`expired ${before - after} purchase(s) that ended over an hour ago; ${after} listed now`);
}

/**
 * Starts the fake ParkMobile API on 127.0.0.1:`port` with `demoParkMobile`'s zones (4410, 4411, 9999) and rights,
 * and changes its traffic every minute. Resolves once it listens; rejects if it cannot (port taken).
 * Returns { url, credentials, fake, close() }.
 */
export async function startParkMobileServer({
  port = Number(process.env.PARKMOBILE_PORT || DEFAULT_PORT),
  credentials = credentialsFromEnv(),
  host = "127.0.0.1",
  log = (line: string) => console.log(`[parkmobile] ${clock()} ${line}`),
  trafficIntervalMs = TRAFFIC_INTERVAL_MS,
  stateFile,
}: {
  port?: number;
  credentials?: Credentials;
  host?: string;
  log?: Log;
  trafficIntervalMs?: number;
  /** Where the stand-in keeps its purchases between starts (the sandbox's, so a restart changes nothing). */
  stateFile?: string;
} = {}): Promise<ParkMobileServer> {
  const saved = stateFile && existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, "utf8")) : undefined;
  const fake = saved ? ParkMobileFake.restore(credentials, saved) : demoParkMobile(credentials, nowSeconds(), undefined, firstRightId());
  const save = () => stateFile && writeFileSync(stateFile, JSON.stringify(fake.snapshot()));
  save();
  // Known once it listens (port 0 picks a free one).
  let origin = "";

  const server = createServer(async (req, res) => {
    const started = Date.now();
    try {
      const request = await toWebRequest(req, origin);
      if (request === null) {
        res.writeHead(413, { "content-type": "application/json" }).end(JSON.stringify({ message: "Request body too large." }));
        log(`${req.method} ${req.url} -> 413`);
        return;
      }
      const response = await fake.fetch(request);
      const body = await sendWebResponse(res, response, req.method);
      log(`${req.method} ${req.url} -> ${response.status}${describeAnswer(response.status, body)} ${Date.now() - started} ms`);
    } catch (error) {
      log(`${req.method} ${req.url} -> 500: ${(error as Error)?.stack ?? error}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "An error has occurred." }));
    } finally {
      if (fake.requests.length > KEEP_REQUESTS) fake.requests.splice(0, fake.requests.length - KEEP_REQUESTS);
    }
  });

  return new Promise((resolveStart, rejectStart) => {
    server.once("error", rejectStart);
    server.listen(port, host, () => {
      server.off("error", rejectStart);
      origin = `http://${host}:${(server.address() as AddressInfo).port}`;
      server.on("error", (error) => log(`server error: ${error.message}`));
      const timer = setInterval(() => {
        try {
          changeTraffic(fake, log);
          save();
        } catch (error) {
          log(`traffic change failed: ${(error as Error)?.stack ?? error}`);
        }
      }, trafficIntervalMs);
      timer.unref();
      const rights = [...fake.rights.values()].reduce((sum, list) => sum + list.length, 0);
      log(`listening on ${origin}: zones ${fake.zones.map((z) => z.signageZoneCode).join(", ")}, ${rights} rights`);
      resolveStart({
        url: origin,
        credentials,
        fake,
        close: () =>
          new Promise<void>((resolveClose) => {
            clearInterval(timer);
            server.close(() => resolveClose());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Standalone: `npm run parkmobile`; Ctrl-C stops it. */
async function main() {
  const credentials = credentialsFromEnv();
  let server: ParkMobileServer;
  try {
    server = await startParkMobileServer({ credentials });
  } catch (error) {
    const reason = (error as { code?: string }).code ?? (error as Error).message;
    console.error(`parkmobile-server: cannot listen (${reason}): free the port, or set PARKMOBILE_PORT.`);
    process.exit(1);
  }
  const defaults = credentials.password === DEFAULT_CREDENTIALS.password && credentials.apiKey === DEFAULT_CREDENTIALS.apiKey;
  const auth = defaults
    ? `-u ${credentials.username}:${credentials.password} -H 'x-api-key: ${credentials.apiKey}'`
    : `-u "$PARKMOBILE_USERNAME:$PARKMOBILE_PASSWORD" -H "x-api-key: $PARKMOBILE_API_KEY"`;
  console.log(`Fake ParkMobile API at ${server.url}; try:\n  curl -sS ${auth} ${server.url}/nforceapi/zones\n  Ctrl-C stops it.`);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => server.close().then(() => process.exit(0)));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
