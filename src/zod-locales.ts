// What both Workers' bundles have for zod's `locales` module (`[alias]` in their wrangler files): English only.
// zod's `z` namespace re-exports every locale (`z.locales`, `z.core.locales`: about 40 languages, 38 KiB gzip), and
// @hono/zod-openapi hands that whole namespace to zod-to-openapi, so no bundler can drop the unused ones. The API
// speaks English: zod itself registers `en` as its default locale (from its own `locales/en.js`, the same module as
// here), so every message stays word for word what zod says; scripts/zod-locales.test.ts checks it on wrangler's own
// build.
export { default as en } from "zod/v4/locales/en.js";
