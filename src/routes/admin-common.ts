import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authenticate } from "../auth/authenticate";
import { secretsEqual } from "../auth/secrets";
import { database } from "../db/client";
import { getSite, type Site } from "../db/sites";
import { isWellFormedToken } from "../domain/attributes";
import { formatWireTime } from "../domain/time";
import { AppError, ErrorCode } from "../errors";
import { type AppEnv, answerError, limitBody, MAX_ADMIN_BODY_BYTES } from "../http";
import { throwValidationError } from "../validation";

/** Who is calling the admin API: the holder of ADMIN_TOKEN (every site) or a token with the admin scope (its own site). */
export type AdminCaller = { kind: "root" } | { kind: "site"; siteId: number };

export type AdminEnv = AppEnv & { Variables: { admin: AdminCaller } };

/**
 * The admin API app, mounted at /api/admin/v1: validation errors in the one
 * error shape, the admin body limit, and the admin authentication. Every
 * business rule lives behind it; the CLI and the console are its clients.
 */
export function createAdminApp() {
  const app = new OpenAPIHono<AdminEnv>({ defaultHook: throwValidationError });
  // Mounted, the root app's handler answers errors; called directly (by the console), this one does the same.
  app.onError(answerError);
  app.use(limitBody(MAX_ADMIN_BODY_BYTES));
  app.use(authenticateAdmin);
  return app;
}

/** ADMIN_TOKEN as a bearer is root; an API token with the admin scope manages its own site. */
async function authenticateAdmin(c: Context<AdminEnv>, next: () => Promise<void>) {
  const header = c.req.header("authorization");
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!bearer) throw new AppError(ErrorCode.TokenMissing, "Authorization: Bearer <admin token> is required.", { field: "Authorization" });
  if (c.env.ADMIN_TOKEN && (await secretsEqual(bearer, c.env.ADMIN_TOKEN))) {
    c.set("admin", { kind: "root" });
  } else {
    if (!isWellFormedToken(bearer)) {
      throw new AppError(ErrorCode.NoPermission, "The admin token is not valid.", { field: "Authorization" });
    }
    const { grant } = await authenticate(c.env, bearer, "admin").catch((error: unknown) => {
      if (error instanceof AppError && error.code === ErrorCode.NoPermission) {
        throw new AppError(error.code, error.message.replace("apiToken", "The bearer token"), {
          field: "Authorization",
          status: error.status,
        });
      }
      throw error;
    });
    c.set("admin", { kind: "site", siteId: grant.siteId });
  }
  await next();
}

export type AdminContext = Context<AdminEnv>;

export function requireRoot(c: AdminContext) {
  if (c.get("admin").kind !== "root") throw new AppError(ErrorCode.NoPermission, "Only ADMIN_TOKEN may do this.", { status: 403 });
}

/** The site named in the path, if the caller may manage it. */
export async function siteOf(c: AdminContext, slug: string): Promise<Site> {
  const caller = c.get("admin");
  const site = await getSite(database(c.env.DB), slug);
  if (caller.kind === "site" && caller.siteId !== site.id) {
    // Same answer as a missing site: a site admin cannot probe other sites' slugs.
    throw new AppError(ErrorCode.NotFound, `Site ${slug} does not exist.`, { field: "site" });
  }
  return site;
}

export function time(epoch: number): string;
export function time(epoch: number | null): string | null;
export function time(epoch: number | null) {
  return epoch === null ? null : formatWireTime(epoch);
}

export const Slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit")
  .openapi({ example: "demo" });
export const SiteParam = z.object({ site: Slug.openapi({ param: { name: "site", in: "path" } }) });

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
export const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
export const security = [{ adminBearer: [] }];
export const tags = ["Admin"];
