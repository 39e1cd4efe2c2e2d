import { OpenAPIHono } from "@hono/zod-openapi";
import { addApiSurfaces, addFallbacks, SURFACES } from "./api";
import type { CLIENT_SCOPES } from "./auth/scopes";
import type { AppEnv } from "./http";
import { documentOperations, resolveSchemas } from "./openapi";
import { admin } from "./routes/admin";
import { documentWebhookEvents } from "./routes/admin/webhooks";
import { consoleApp } from "./routes/console";
import { docsPage } from "./routes/docs";

/**
 * The groups of the document's operations, in the order the docs page shows them. Each says how its operations take
 * their credential, since OpenAPI can describe header credentials but not OPS-COM's token in the body. An operation's
 * tag must be one of these (the OpenAPI lint's `operation-tag-defined`).
 */
export const OPENAPI_TAGS = [
  {
    name: "OC-TOMA permits",
    description:
      "OPS-COM's Permit Create, Update, Delete and Stats, as OPS-COM's clients call them. **The API token travels in the JSON body as `apiToken`**, not in a header: these operations declare no security requirement (the Authorize dialog does not fill them in) and name the field in `x-body-token`. Put the token in the request body.",
  },
  {
    name: "Enforcement",
    description:
      "Is this plate paid for, here, now? The lookup takes the token in a header (`Authorization: Bearer` or `X-Api-Key`); OPS-COM's validate/plate takes it in the body as `api_token`.",
  },
  {
    name: "Genetec Pay-by-Plate",
    description:
      "The feed LPR systems pull, in Genetec AutoVu Pay-by-Plate's shape: an API token with the `lookup` scope in the `X-ApiKey` header.",
  },
  {
    name: "Sessions",
    description:
      "Parking sessions for aggregators: an OAuth 2.0 access token (client credentials at `/oauth/token`) or an API token, as `Authorization: Bearer` or `X-Api-Key`.",
  },
  {
    name: "OAuth 2.0",
    description: "Client credentials (RFC 6749 §4.4) and revocation (RFC 7009): the client authenticates with HTTP Basic or in the form.",
  },
  {
    name: "Credentials",
    description:
      "The calling credential as the server sees it (site, scopes, kind, expiry, rate-limit tier): any API token or OAuth access token, as `Authorization: Bearer` or `X-Api-Key`, so an integration can check its setup before its first call.",
  },
  {
    name: "Webhooks",
    description:
      "The events this server posts to a site's webhook endpoints (registered through the admin API), signed as Standard Webhooks says: verify `webhook-signature` with the endpoint's `whsec_` secret before trusting the body.",
  },
  {
    name: "Admin",
    description:
      "Sites, lot zones, tokens, OAuth clients, permits, reports, ParkMobile, tasks and retention: `Authorization: Bearer` with the ADMIN_TOKEN secret, or an API token with the `admin` scope (its own site).",
  },
];

/**
 * The document's top level for a server at `origin` (scheme, host and port, no trailing slash): the server the
 * document was served from, so that a call made from the docs page goes back to it.
 */
export function openApiConfig(origin: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "permits-edge",
      version: "1.0.0",
      description: [
        "An OPS-COM-compatible permits API on Cloudflare Workers.",
        "",
        "**Credentials.** Operations with a lock take a header credential: press **Authorize** and enter an API token (`bearer` or `apiKey`), an OAuth client's id and secret (`oauth2`, client credentials; the page gets the access token from `/oauth/token`), or the admin secret (`adminBearer`). OPS-COM's own operations (OC-TOMA permits, validate/plate) have no lock: their token goes in the request body (`apiToken`, `api_token`).",
        "",
        "In the local sandbox (`npm start`) the demo site's API token is in `.wrangler/sandbox-token`, its OAuth client in `.wrangler/sandbox-client-id` and `.wrangler/sandbox-client-secret`.",
      ].join("\n"),
      // The project has not been given a public licence: the API and its description are the owner's.
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: origin, description: "this server" }],
    tags: OPENAPI_TAGS,
  };
}

/**
 * The admin Worker's app (wrangler.admin.toml): the API surfaces, for the document (a request for them reaches the
 * public Worker, never this one), and the admin API, the console, the docs page and the OpenAPI document, which the
 * public Worker forwards here (`ADMIN_PATHS`).
 */
export function buildApp() {
  return assemble().app;
}

/** The admin Worker's app, and its OpenAPI document for a caller that reached it at `origin`. */
function assemble() {
  const app = new OpenAPIHono<AppEnv>();
  // The named zod/mini schemas of the document, gathered as it is built (src/openapi.ts).
  const components: Record<string, unknown> = {};

  addApiSurfaces(app);
  documentOperations(
    app.openAPIRegistry,
    SURFACES.map(({ prefix, surface }) => ({ prefix, operations: surface.operations })),
    components,
  );
  app.route("/api/admin/v1", admin);
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
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-Api-Key",
    description: "An API token of the site, with the scope the call needs, in the header aggregators such as ParkOnce send.",
  });
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
  // The document names the server it is served from: its origin as the caller reached it.
  const document = (origin: string) => resolveSchemas(app.getOpenAPI31Document(openApiConfig(origin)), components);
  app.get("/openapi.json", (c) => c.json(document(new URL(c.req.url).origin)));
  app.get("/docs", (c) => docsPage(c, new URL(c.req.url).origin));

  addFallbacks(app);

  return { app, document };
}

/** The OpenAPI document the admin Worker serves at /openapi.json (through the public one) to a caller that reached it at `origin`. */
export function openApiDocument(origin: string) {
  return assemble().document(origin);
}
