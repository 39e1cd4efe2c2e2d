import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { secretsEqual } from "../../auth/secrets";
import { findSite, type Site } from "../../db/sites";
import { isWellFormedToken } from "../../domain/attributes";
import { AppError, answerError, ErrorCode, type ErrorStatus, errorResponses, throwValidationError } from "../../errors";
import { type AppEnv, acceptBody, MAX_ADMIN_BODY_BYTES } from "../../http";
import { authenticateRequest } from "../caller";
import { type Deprecation, deprecationOf } from "../deprecation";
import { documented, type Schema, type SchemaMarker } from "../operation";

/** Who is calling the admin API: the holder of ADMIN_TOKEN (every site) or a token with the admin scope (its own site). */
export type AdminCaller = { kind: "root" } | { kind: "site"; siteId: number; tokenId: string };

export type AdminEnv = AppEnv & { Variables: { admin: AdminCaller } };
export type AdminApp = OpenAPIHono<AdminEnv>;
export type AdminContext = Context<AdminEnv>;

/**
 * The admin API app, mounted at /api/admin/v1: validation errors in the one
 * error shape, the admin body limit, and the admin authentication. Every
 * business rule lives behind it; the CLI and the console are its clients.
 */
export function createAdminApp(): AdminApp {
  const app = new OpenAPIHono<AdminEnv>({ defaultHook: throwValidationError });
  // Mounted, the root app's handler answers errors; called directly (by the console), this one does the same.
  app.onError(answerError);
  // The credential first: a caller without one learns nothing, not even the body limit.
  app.use(authenticateAdmin);
  app.use(acceptBody(MAX_ADMIN_BODY_BYTES));
  return app;
}

/** ADMIN_TOKEN as a bearer is root; an API token with the admin scope manages its own site. */
async function authenticateAdmin(c: AdminContext, next: () => Promise<void>) {
  const header = c.req.header("authorization");
  const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!bearer) throw new AppError(ErrorCode.TokenMissing, "Authorization: Bearer <admin token> is required.", { field: "Authorization" });
  if (c.env.ADMIN_TOKEN && (await secretsEqual(bearer, c.env.ADMIN_TOKEN))) {
    c.set("admin", { kind: "root" });
  } else {
    if (!isWellFormedToken(bearer)) {
      throw new AppError(ErrorCode.NoPermission, "The admin token is not valid.", { field: "Authorization" });
    }
    // The admin API is not rate limited: its callers are the operator's own (see `Charge`).
    const { grant } = await authenticateRequest(c, bearer, "admin", "Authorization", "unlimited");
    c.set("admin", { kind: "site", siteId: grant.siteId, tokenId: grant.tokenId });
  }
  await next();
}

/** Who a change by this admin caller is recorded as in a permit's history: `admin`, or the admin-scope token. */
export function adminActor(c: AdminContext): string {
  const caller = c.get("admin");
  return caller.kind === "root" ? "admin" : `token:${caller.tokenId}`;
}

/** Refuses a caller other than the holder of ADMIN_TOKEN (9002, 403). */
export function requireRoot(c: AdminContext) {
  if (c.get("admin").kind !== "root") throw new AppError(ErrorCode.NoPermission, "Only ADMIN_TOKEN may do this.", { status: 403 });
}

/** Route middleware: {@link requireRoot} before the request is validated, so another caller learns nothing of its rules. */
export async function rootOnly(c: AdminContext, next: () => Promise<void>) {
  requireRoot(c);
  await next();
}

/** The site named in the path, if the caller may manage it; 9009 otherwise. */
export async function siteOf(c: AdminContext, slug: string): Promise<Site> {
  const caller = c.get("admin");
  const site = await findSite(c.env.DB, slug);
  // Another site's slug answers as a missing one: a site admin cannot probe other sites' slugs.
  if (!site || (caller.kind === "site" && caller.siteId !== site.id)) {
    throw new AppError(ErrorCode.NotFound, `Site ${slug} does not exist.`, { field: "site" });
  }
  return site;
}

export const Slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit")
  .openapi({ example: "demo" });
export const SiteParam = z.object({
  site: Slug.openapi({ param: { name: "site", in: "path" }, description: "The site's slug (the OPS-COM client code)." }),
});

/** A JSON answer of an operation: its schema in zod's full API, or in zod/mini (the public surfaces' schemas, and those built on them). */
export function json<T extends z.ZodType>(
  schema: T,
  description: string,
): { description: string; content: { "application/json": { schema: T } } };
// A zod/mini answer's type is not checked against its handler (zod-openapi types only its own schemas' answers): its
// content is hidden from the route's type, and the handler types what it answers (`z.infer`, `narrow`).
export function json(schema: Schema, description: string): { description: string };
export function json(schema: Schema, description: string) {
  const shown: z.ZodType | SchemaMarker = schema instanceof z.ZodType ? schema : documented(schema, "output");
  return { description, content: { "application/json": { schema: shown } } };
}
/** A required JSON request body. */
export const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/**
 * Declares an admin operation: tagged, secured by the admin bearer, and
 * documenting its error answers: 401 and 403 (authentication) for every
 * operation, and those it lists (400 for a bad request, 404 for a record
 * not found, 409 for a conflict, 413 for a body too large). `deprecated`
 * marks it so (headers and document, routes/deprecation.ts).
 */
export function adminRoute<
  const R extends Omit<RouteConfig, "tags" | "security" | "deprecated"> & {
    operationId: string;
    errors: readonly ErrorStatus[];
    deprecated?: Deprecation;
  },
>(config: R) {
  const { errors, deprecated, ...route } = config;
  const deprecation = deprecationOf(deprecated, route.description);
  const own = route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
  return createRoute({
    ...route,
    ...deprecation.openapi,
    ...(deprecated ? { middleware: [...deprecation.middleware, ...own] } : {}),
    tags: ["Admin"],
    security: [{ adminBearer: [] }],
    responses: { ...route.responses, ...errorResponses([401, 403, ...errors]) },
  });
}
