import { buildApp } from "./app";
import { runScheduledTasks } from "./scheduled";

export { PermitSequencer } from "./durable/permit-sequencer";

const app = buildApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await runScheduledTasks(env, controller.cron);
  },
} satisfies ExportedHandler<Env>;
