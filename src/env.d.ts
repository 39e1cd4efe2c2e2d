// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
interface Env {
  /** Admin API secret: `wrangler secret put ADMIN_TOKEN`. */
  ADMIN_TOKEN?: string;
}
interface Env {
  /** AES-GCM key (base64 of 32 bytes) sealing stored third-party credentials: `wrangler secret put SETTINGS_KEY`. */
  SETTINGS_KEY?: string;
}
interface Env {
  /** HMAC key (at least 32 characters) authenticating the enforcement feed's continuation tokens: `wrangler secret put FEED_TOKEN_KEY`. */
  FEED_TOKEN_KEY?: string;
}
interface Env {
  /** "true" in the sandbox only: webhooks may go to loopback (localhost, 127.0.0.1, [::1]), over HTTP too. */
  WEBHOOKS_ALLOW_LOCALHOST?: string;
}
