import type { TestProject } from "vitest/node";
import { DEFAULT_CREDENTIALS, startParkMobileServer } from "../scripts/parkmobile-server.ts";
import { startWebhookReceiver } from "../scripts/webhook-receiver.ts";

/**
 * Runs in Node beside the Workers runtime, for the whole run, each on a free port of 127.0.0.1:
 * - the ParkMobile stand-in of the sandbox, so a test can drive the import over the runtime's own fetch and a real
 *   socket (its demo credentials, zones 4410, 4411 and 9999, eight purchases each; its traffic does not change);
 * - the webhook receiver stand-in, which verifies signatures with the Standard Webhooks library and answers as each
 *   URL asks (a test registers its endpoint's secret for a path of its own, and reads back what came).
 */
export default async function setup(project: TestProject) {
  const server = await startParkMobileServer({
    port: 0,
    credentials: DEFAULT_CREDENTIALS,
    log: () => {},
    trafficIntervalMs: 24 * 60 * 60 * 1000,
  });
  const receiver = await startWebhookReceiver({ port: 0, log: () => {} });
  project.provide("parkMobile", { url: server.url, credentials: server.credentials });
  project.provide("webhookReceiver", { url: receiver.url });
  return async () => {
    await Promise.all([server.close(), receiver.close()]);
  };
}
