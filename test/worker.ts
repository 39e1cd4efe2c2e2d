import adminWorker from "../src/admin";
import publicWorker from "../src/index";
import type { WebhookMessage } from "../src/webhooks/publish";

// Both Workers in the tests' one isolate (vitest.config.ts names this module as the main one): the public Worker's
// handlers, its service binding ADMIN answered by the admin Worker's own fetch handler, and the Durable Object class
// the admin Worker hosts. Every request still takes the public Worker's path, forwarding included; only the hop
// between the two isolates is left out (the end-to-end tests run the two Workers as wrangler does).

export { PermitSequencer } from "../src/admin";

export default {
  fetch(request, env, ctx) {
    const admin = { fetch: (forwarded: Request) => adminWorker.fetch(forwarded, env, ctx) } as Env["ADMIN"];
    return publicWorker.fetch(request, { ...env, ADMIN: admin }, ctx);
  },
  scheduled: publicWorker.scheduled,
  queue: publicWorker.queue,
} satisfies ExportedHandler<Env, WebhookMessage>;
