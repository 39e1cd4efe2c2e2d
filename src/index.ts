import { buildPublicApp } from "./api";
import { runScheduledTasks } from "./scheduled";
import { consumeWebhooks } from "./webhooks/consumer";
import type { WebhookMessage } from "./webhooks/publish";

// The public Worker (wrangler.toml): what pay stations, aggregators and enforcement call, the Cron Triggers and the
// webhook queue's consumer. The admin API, the console, the docs page and the OpenAPI document are the admin
// Worker's (src/admin.ts), reached through the service binding ADMIN, so that this Worker's bundle and start-up
// carry only what its callers need. The per-reference Durable Object is the admin Worker's too (README, Performance).

const app = buildPublicApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await runScheduledTasks(env, controller.cron);
  },
  async queue(batch, env) {
    await consumeWebhooks(batch, env);
  },
} satisfies ExportedHandler<Env, WebhookMessage>;
