import type { Context } from "hono";
import { DOCS_SCRIPT, DOCS_STYLESHEET, SWAGGER_UI_PATH } from "./docs-assets";

/**
 * What the docs page may load, and where it may send: this server only. `connect-src 'self'` is what keeps a call
 * made from the page on the server that served it (and the page usable with no other network at all); the
 * document's `servers` names this same origin. Swagger UI draws some icons as data: URIs and sets style attributes.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/**
 * The docs page: Swagger UI on the OpenAPI document at /openapi.json, with "Try it out" making real calls to
 * `origin`, the server the page is served from (and which the document names in `servers`). Its files are Workers
 * static assets under /docs/assets (src/routes/docs-assets.ts), never a CDN's, so it works offline in the sandbox.
 */
export function docsPage(c: Context, origin: string) {
  c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  return c.html(
    "<!doctype html>" +
      (
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>permits-edge API</title>
            <link rel="icon" href="data:," />
            <link rel="stylesheet" href={`${SWAGGER_UI_PATH}/swagger-ui.css`} />
            <link rel="stylesheet" href={DOCS_STYLESHEET} />
            <script src={`${SWAGGER_UI_PATH}/swagger-ui-bundle.js`} defer />
            <script src={DOCS_SCRIPT} defer />
          </head>
          <body>
            <header class="docs-intro">
              <h1>permits-edge API: try it here</h1>
              <p>
                Every call made from this page goes to <code id="docs-server">{origin}</code>, the server that serves it. The OpenAPI 3.1
                document: <a href="/openapi.json">/openapi.json</a>.
              </p>
              <noscript>
                <p>This page runs Swagger UI, which needs JavaScript; the document itself is plain JSON at /openapi.json.</p>
              </noscript>
            </header>
            <main id="swagger-ui" data-document="/openapi.json" />
          </body>
        </html>
      ).toString(),
  );
}
