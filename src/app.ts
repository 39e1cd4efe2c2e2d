import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import type { CLIENT_SCOPES } from "./auth/scopes";
import { answerError, answerNotFound } from "./errors";
import type { AppEnv } from "./http";
import { admin } from "./routes/admin";
import { documentWebhookEvents } from "./routes/admin/webhooks";
import { BOOKMARK_HEADER, sendBookmark } from "./routes/bookmark";
import { recordCredentialUse } from "./routes/caller";
import { consoleApp } from "./routes/console";
import { docsPage } from "./routes/docs";
import { lookup } from "./routes/lookup";
import { oauth } from "./routes/oauth";
import { ocToma } from "./routes/oc-toma";
import { pbp } from "./routes/pbp";
import { sessions } from "./routes/sessions";
import { validatePlate } from "./routes/validate-plate";

export const OPENAPI_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "permits-edge",
    version: "1.0.0",
    description: "An OPS-COM-compatible permits API on Cloudflare Workers.",
  },
};

/** The methods some route of `app` takes at `path` (a GET also answers HEAD), from its route table; middleware is not a route. */
function allowedMethods(app: OpenAPIHono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const pattern = route.path
      .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
      .replace(/\/:[^/]+/g, "/[^/]+")
      .replace(/\*/g, ".*");
    if (new RegExp(`^${pattern}$`).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}

/** Builds the Worker's Hono app: middleware, the route groups, one error handler, the OpenAPI document. */
export function buildApp() {
  const app = new OpenAPIHono<AppEnv>();

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
      exposeHeaders: ["Idempotent-Replayed", "X-Request-Id", "WWW-Authenticate", BOOKMARK_HEADER, "Retry-After"],
      maxAge: 86400,
    }),
  );
  // Every answer of a surface that read or wrote through a D1 session carries its bookmark (routes/bookmark.ts).
  app.use("/api/*", sendBookmark());
  // A credential's last use is recorded after a call that worked, off the answer's path (routes/caller.ts).
  app.use("/api/*", recordCredentialUse());

  app.route("/api/OC-TOMA/v1", ocToma);
  app.route("/api/admin/v1", admin);
  app.route("/api/v1", lookup);
  app.route("/api/v1", sessions);
  app.route("/oauth", oauth);
  app.route("/api/v1", validatePlate);
  app.route("/api/pbp/v2014-06", pbp);
  app.route("/admin", consoleApp);

  app.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", {
    type: "http",
    scheme: "bearer",
    description: "The ADMIN_TOKEN secret, or an API token with the admin scope (limited to its own site).",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API token of the site, with the scope the call needs.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", { type: "apiKey", in: "header", name: "X-Api-Key" });
  app.openAPIRegistry.registerComponent("securitySchemes", "oauth2", {
    type: "oauth2",
    description: "OAuth 2.0 client credentials: an access token from /oauth/token, sent as Authorization: Bearer.",
    flows: {
      clientCredentials: {
        tokenUrl: "/oauth/token",
        scopes: {
          sessions: "Run parking sessions and read the zones they need.",
          lookup: "Check plates: the lookup and a plate's rights.",
        } satisfies Record<(typeof CLIENT_SCOPES)[number], string>,
      },
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "clientBasic", {
    type: "http",
    scheme: "basic",
    description: "An OAuth client's client_id and client_secret (RFC 6749 §2.3.1), at the token and revocation endpoints.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "pbpApiKey", {
    type: "apiKey",
    in: "header",
    name: "X-ApiKey",
    description: "Genetec Pay-by-Plate's header: an API token of the site with the lookup scope.",
  });
  documentWebhookEvents(app.openAPIRegistry);
  app.doc31("/openapi.json", OPENAPI_CONFIG);
  app.get("/docs", (c) => c.html(docsPage(app.getOpenAPI31Document(OPENAPI_CONFIG))));
  app.get("/", (c) => c.redirect("/docs"));

  app.notFound((c) => answerNotFound(c, allowedMethods(app, new URL(c.req.url).pathname)));
  app.onError(answerError);

  return app;
}
