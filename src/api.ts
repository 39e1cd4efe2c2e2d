import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { answerError, answerNotFound } from "./errors";
import type { AppEnv } from "./http";
import { BOOKMARK_HEADER, sendBookmark } from "./routes/bookmark";
import { recordCredentialUse } from "./routes/caller";
import { lookup } from "./routes/lookup";
import { me } from "./routes/me";
import { oauth } from "./routes/oauth";
import { ocToma } from "./routes/oc-toma";
import { pbp } from "./routes/pbp";
import { sendRateLimit } from "./routes/rate-limit";
import { sessions } from "./routes/sessions";
import { validatePlate } from "./routes/validate-plate";

/**
 * The paths the admin Worker answers (wrangler.admin.toml): the admin API, the console, the docs page and the OpenAPI
 * document. The public Worker hands them to it unchanged through its service binding `ADMIN`, so it never bundles or
 * builds them. /docs/assets/* are the public Worker's static assets, served before any Worker code runs.
 */
export const ADMIN_PATHS = ["/api/admin/*", "/admin", "/admin/*", "/docs", "/openapi.json"] as const;

/**
 * The middleware and the surfaces that pay stations, aggregators and enforcement call, added to `app`: what both
 * Workers serve the same way (the admin Worker adds its own surfaces, and documents these).
 */
export function addApiSurfaces(app: OpenAPIHono<AppEnv>) {
  app.use(requestId());
  // The seeds' examples call from browsers (XMLHttpRequest): preflight must pass for any origin.
  app.use(
    "/api/*",
    cors({
      origin: "*",
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: [
        "Content-Type",
        "Accept",
        "Cache-Control",
        "Authorization",
        "Idempotency-Key",
        "X-Api-Key",
        "X-ApiKey",
        BOOKMARK_HEADER,
      ],
      exposeHeaders: [
        "Idempotent-Replayed",
        "X-Request-Id",
        "WWW-Authenticate",
        BOOKMARK_HEADER,
        "Retry-After",
        "RateLimit",
        "RateLimit-Policy",
        "Deprecation",
        "Sunset",
        "Link",
      ],
      maxAge: 86400,
    }),
  );
  // Every answer of a surface that read or wrote through a D1 session carries its bookmark (routes/bookmark.ts).
  app.use("/api/*", sendBookmark());
  // A credential's last use is recorded after a call that worked, off the answer's path (routes/caller.ts).
  app.use("/api/*", recordCredentialUse());
  // Every answer to a call counted against a credential's rate limit says the limit and what is left (routes/rate-limit.ts).
  app.use("/api/*", sendRateLimit());

  app.route("/api/OC-TOMA/v1", ocToma);
  for (const { prefix, surface } of SURFACES) app.route(prefix, surface.app);
  app.route("/api/v1", sessions);
  app.route("/oauth", oauth);
  app.route("/api/v1", validatePlate);
  app.route("/api/pbp/v2014-06", pbp);
  app.get("/", (c) => c.redirect("/docs"));
}

/** The public surfaces and the prefixes they are mounted at, for the admin Worker's document (src/openapi.ts). */
export const SURFACES = [
  { prefix: "/api/v1", surface: lookup },
  { prefix: "/api/v1", surface: me },
] as const;

/** Each app's routes as patterns and methods, compiled on its first unknown path (its routes are all added by then). */
const routeTables = new WeakMap<OpenAPIHono<AppEnv>, { pattern: RegExp; method: string }[]>();

/** The methods some route of `app` takes at `path` (a GET also answers HEAD), from its route table; middleware is not a route. */
function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  let table = routeTables.get(app);
  if (!table) {
    table = app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => ({
        method: route.method,
        pattern: new RegExp(
          `^${route.path
            .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
            .replace(/\/:[^/]+/g, "/[^/]+")
            .replace(/\*/g, ".*")}$`,
        ),
      }));
    routeTables.set(app, table);
  }
  const methods = new Set(table.filter((route) => route.pattern.test(path)).map((route) => route.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}

/** The last handlers of either Worker's app: an unknown path or method (404, or 405 with `Allow`), and the one error handler. */
export function addFallbacks(app: OpenAPIHono<AppEnv>) {
  app.notFound((c) => answerNotFound(c, allowedMethods(app, new URL(c.req.url).pathname)));
  app.onError(answerError);
}

/**
 * The public Worker's app: the admin Worker's paths forwarded to it first (before any middleware, so they run once,
 * there), then the API surfaces.
 */
export function buildPublicApp() {
  const app = new OpenAPIHono<AppEnv>();
  for (const path of ADMIN_PATHS) app.all(path, (c) => c.env.ADMIN.fetch(c.req.raw));
  addApiSurfaces(app);
  addFallbacks(app);
  return app;
}
