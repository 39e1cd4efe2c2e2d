// What test/global-setup.ts provides to every test file (read with vitest's `inject`).
export {};

declare module "vitest" {
  export interface ProvidedContext {
    /** The ParkMobile stand-in of scripts/parkmobile-server.ts: where it listens and the credentials it takes. */
    parkMobile: { url: string; credentials: { username: string; password: string; apiKey: string } };
    /** The webhook receiver stand-in of scripts/webhook-receiver.ts: where it listens (its control calls under /_receiver/). */
    webhookReceiver: { url: string };
  }
}
