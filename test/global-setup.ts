import type { TestProject } from "vitest/node";
import { DEFAULT_CREDENTIALS, startParkMobileServer } from "../scripts/parkmobile-server.ts";

/**
 * Runs in Node beside the Workers runtime, for the whole run: the ParkMobile stand-in of the sandbox, on a free port
 * of 127.0.0.1, so a test can drive the import over the runtime's own fetch and a real socket (its demo credentials,
 * zones 4410, 4411 and 9999, eight purchases each; its traffic does not change during the run).
 */
export default async function setup(project: TestProject) {
  const server = await startParkMobileServer({
    port: 0,
    credentials: DEFAULT_CREDENTIALS,
    log: () => {},
    trafficIntervalMs: 24 * 60 * 60 * 1000,
  });
  project.provide("parkMobile", { url: server.url, credentials: server.credentials });
  return () => server.close();
}
