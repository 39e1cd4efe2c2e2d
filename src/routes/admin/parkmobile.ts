import { z } from "@hono/zod-openapi";
import { seal } from "../../auth/sealed";
import { getParkMobileSettings, saveParkMobileSettings } from "../../db/tasks";
import { formatWireTime, nowSeconds } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { DEFAULT_BASE_URL } from "../../parkmobile/client";
import { credentialContext } from "../../parkmobile/import";
import { type AdminApp, adminRoute, body, json, SiteParam, siteOf } from "./route";

/** What admins see of a stored secret: that it is set, never any of it. */
const MASK = "••••••••";

export const ParkMobileSettings = z
  .object({
    baseUrl: z.string(),
    username: z.string().nullable(),
    password: z.string().nullable(),
    apiKey: z.string().nullable(),
    configured: z.boolean(),
    updatedAt: z.string().nullable(),
  })
  .openapi("ParkMobileSettings");

/** A site's ParkMobile settings as admins see them: the secrets masked. */
async function settingsView(d1: D1Database, siteId: number): Promise<z.infer<typeof ParkMobileSettings>> {
  const row = await getParkMobileSettings(d1, siteId);
  const masked = (v: string | null | undefined) => (v ? MASK : null);
  return {
    baseUrl: row?.baseUrl ?? DEFAULT_BASE_URL,
    username: masked(row?.username),
    password: masked(row?.password),
    apiKey: masked(row?.apiKey),
    configured: Boolean(row?.username && row.password && row.apiKey),
    updatedAt: row ? formatWireTime(row.updatedAt) : null,
  };
}

// Not trimmed: a credential is used exactly as given.
const Secret = (name: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: `${name}; stored sealed, never shown back.` });

export const ParkMobileInput = z
  .object({
    username: Secret("ParkMobile API username"),
    password: Secret("ParkMobile API password"),
    apiKey: Secret("ParkMobile X-API-Key"),
    baseUrl: z
      .string()
      .url()
      .max(200)
      .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL")
      .optional()
      .openapi({ example: DEFAULT_BASE_URL }),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), "needs at least one of username, password, apiKey, baseUrl");

/** A site's ParkMobile credentials and base URL, which the import uses. */
export function registerParkMobileRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/parkmobile",
      operationId: "getParkMobileSettings",
      summary: "Read a site's ParkMobile settings (secrets masked)",
      request: { params: SiteParam },
      responses: { 200: json(ParkMobileSettings, "Settings") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json(await settingsView(c.env.DB, site.id), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "put",
      path: "/sites/{site}/parkmobile",
      operationId: "setParkMobileSettings",
      summary: "Set a site's ParkMobile credentials and base URL",
      description:
        "Fields left out keep their value; the first save needs all three credentials. Credentials are sealed with AES-GCM under the SETTINGS_KEY secret and never shown back.",
      request: {
        params: SiteParam,
        body: body(ParkMobileInput),
      },
      responses: { 200: json(ParkMobileSettings, "Saved") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const input = c.req.valid("json");
      const current = await getParkMobileSettings(c.env.DB, site.id);
      const sealed = async (field: "username" | "password" | "apiKey") => {
        const value = input[field];
        return value === undefined ? (current?.[field] ?? null) : seal(c.env.SETTINGS_KEY, value, credentialContext(site.id, field));
      };
      const row = {
        siteId: site.id,
        baseUrl: input.baseUrl ?? current?.baseUrl ?? DEFAULT_BASE_URL,
        username: await sealed("username"),
        password: await sealed("password"),
        apiKey: await sealed("apiKey"),
        updatedAt: nowSeconds(),
      };
      const missing = (["username", "password", "apiKey"] as const).filter((f) => !row[f]);
      if (missing.length > 0) {
        throw new AppError(ErrorCode.Required, `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} required on the first save.`, {
          field: missing[0],
        });
      }
      await saveParkMobileSettings(c.env.DB, row);
      return c.json(await settingsView(c.env.DB, site.id), 200);
    },
  );
}
