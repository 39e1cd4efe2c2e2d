// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
interface Env {
  /** Admin API secret: `wrangler secret put ADMIN_TOKEN`. */
  ADMIN_TOKEN?: string;
}
