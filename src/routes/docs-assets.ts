// The docs page's files: the public Worker's static assets (wrangler.toml `[assets]`, the folder `public/`), served
// from the origin the page is served from (the admin Worker's page, through the public Worker), never from a CDN.
// Read by the page (src/routes/docs.tsx) and by the build step that copies Swagger UI out of its npm package
// (scripts/docs-assets.ts); plain TypeScript, so Node can run that step.

/** The folder of wrangler.toml's `[assets] directory`, from the project's root. */
export const ASSETS_DIRECTORY = "public";

/** Where the docs page's files are served: the only paths static assets answer (wrangler.toml `run_worker_first`). */
export const DOCS_ASSETS_PATH = "/docs/assets";

/** Where Swagger UI's files are served; the build step writes them to this path under {@link ASSETS_DIRECTORY}. */
export const SWAGGER_UI_PATH = `${DOCS_ASSETS_PATH}/swagger-ui`;

/**
 * The files of the npm package swagger-ui-dist that the page needs, and nothing else of it (not its source maps,
 * its demo page or its other builds): the bundle and its stylesheet, with the licences that go with them (Apache
 * 2.0 asks that its licence and notice travel with the files; the bundle's comment points to its LICENSE.txt).
 */
export const SWAGGER_UI_FILES = [
  "swagger-ui-bundle.js",
  "swagger-ui-bundle.js.LICENSE.txt",
  "swagger-ui.css",
  "LICENSE",
  "NOTICE",
] as const;

/** The page's own script and stylesheet, committed under {@link ASSETS_DIRECTORY} at {@link DOCS_ASSETS_PATH}. */
export const DOCS_SCRIPT = `${DOCS_ASSETS_PATH}/try-it.js`;
export const DOCS_STYLESHEET = `${DOCS_ASSETS_PATH}/try-it.css`;
