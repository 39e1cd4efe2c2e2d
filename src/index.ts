import { buildApp } from "./app";

export { PermitSequencer } from "./durable/permit-sequencer";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
