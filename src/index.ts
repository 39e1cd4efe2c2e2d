import { buildApp } from "./app";
import { runScheduledTasks } from "./scheduled";
import { consumeWebhooks } from "./webhooks/consumer";
import type { WebhookMessage } from "./webhooks/publish";

export { PermitSequencer } from "./durable/permit-sequencer";

const app = buildApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await runScheduledTasks(env, controller.cron);
  },
  async queue(batch, env) {
    await consumeWebhooks(batch, env);
  },
} satisfies ExportedHandler<Env, WebhookMessage>;
