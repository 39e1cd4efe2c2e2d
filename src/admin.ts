import { buildApp } from "./app";

// The admin Worker (wrangler.admin.toml): the admin API, the console, the docs page and the OpenAPI document, which
// the public Worker (src/index.ts) forwards here through its service binding; no route or workers.dev address of
// its own. It also hosts the per-reference Durable Object, which both Workers call: so the public Worker depends on
// this one and never the reverse (this one is deployed first), and the object's code is not in the public bundle.

export { PermitSequencer } from "./durable/permit-sequencer";

const app = buildApp();

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
