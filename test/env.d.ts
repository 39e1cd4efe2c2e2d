declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}

/** A file's text, imported with Vite's `?raw` (the README, wrangler.toml), for tests that check the docs against the code. */
declare module "*?raw" {
  const text: string;
  export default text;
}
