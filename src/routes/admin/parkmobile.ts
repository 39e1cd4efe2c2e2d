import { z } from "@hono/zod-openapi";
import { seal, unseal } from "../../auth/sealed";
import { getParkMobileSettings, saveParkMobileSettings } from "../../db/tasks";
import { formatWireTime, nowSeconds } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { DEFAULT_BASE_URL } from "../../parkmobile/client";
import { checkParkMobileConnection, credentialContext } from "../../parkmobile/import";
import { type AdminApp, adminRoute, body, json, SiteParam, siteOf } from "./route";

/** What admins see of a stored secret: that it is set, never any of it. */
const MASK = "••••••••";

export const ParkMobileSettings = z
  .object({
    baseUrl: z.string(),
    username: z
      .string()
      .nullable()
      .openapi({ description: "The account the import uses (not a secret: shown); null when not set or when it cannot be opened." }),
    password: z.string().nullable().openapi({ description: "Masked when set." }),
    apiKey: z.string().nullable().openapi({ description: "Masked when set." }),
    configured: z.boolean(),
    problem: z.string().nullable().openapi({
      description: "Why the stored credentials cannot be used, when they cannot (sealed under another SETTINGS_KEY); null otherwise.",
    }),
    updatedAt: z.string().nullable(),
  })
  .openapi("ParkMobileSettings");

export const ConnectionCheck = z
  .object({
    ok: z.boolean(),
    matched: z.array(z.string()).openapi({ description: "ParkMobile zones a run would import (a lot zone has that name)." }),
    skipped: z.array(z.string()).openapi({ description: "ParkMobile zones a run would skip (no lot zone of that name)." }),
    message: z.string().nullable().openapi({ description: "Why the check failed, in words an admin can act on." }),
  })
  .openapi("ParkMobileConnectionCheck");

/** A site's ParkMobile settings as admins see them: the username, the secrets masked. */
async function settingsView(env: Env, siteId: number): Promise<z.infer<typeof ParkMobileSettings>> {
  const row = await getParkMobileSettings(env.DB, siteId);
  const masked = (v: string | null | undefined) => (v ? MASK : null);
  // Each stored secret is opened, so a problem is reported here rather than by the next run; only the username is shown.
  const open = async (field: "username" | "password" | "apiKey") => {
    const sealed = row?.[field];
    return sealed
      ? unseal(env.SETTINGS_KEY, sealed, credentialContext(siteId, field)).then(
          (value) => ({ value }),
          () => ({ value: null, failed: field }),
        )
      : { value: null };
  };
  const opened = await Promise.all([open("username"), open("password"), open("apiKey")]);
  const failed = opened.flatMap((o) => ("failed" in o ? [o.failed] : []));
  const username = opened[0].value;
  const problem =
    failed.length > 0
      ? `The stored ${failed.join(", ")} cannot be opened (sealed for another site, or SETTINGS_KEY changed): save ${failed.length > 1 ? "them" : "it"} again.`
      : null;
  return {
    baseUrl: row?.baseUrl ?? DEFAULT_BASE_URL,
    username,
    password: masked(row?.password),
    apiKey: masked(row?.apiKey),
    configured: Boolean(row?.username && row.password && row.apiKey),
    problem,
    updatedAt: row ? formatWireTime(row.updatedAt) : null,
  };
}

/** Control characters can never travel in an HTTP header. */
const NO_CONTROLS = /^[^\p{Cc}]*$/u;

// Not trimmed: a credential is used exactly as given. Each is refused on save if it could never be sent.
const Credential = () => z.string().min(1).max(200).regex(NO_CONTROLS, "must not contain control characters");
const Username = Credential()
  .refine((u) => !u.includes(":"), "must not contain a colon (Basic authentication separates the password with one)")
  .optional()
  .openapi({ description: "ParkMobile API username; shown back to admins." });
const Password = Credential()
  .optional()
  .openapi({ description: "ParkMobile API password (any Unicode text, sent as UTF-8); stored sealed, never shown back." });
const ApiKey = Credential()
  .regex(/^[\x21-\x7e]+$/, "must be visible ASCII characters (it travels in the X-API-Key header)")
  .optional()
  .openapi({ description: "ParkMobile X-API-Key; stored sealed, never shown back." });

export const ParkMobileInput = z
  .object({
    username: Username,
    password: Password,
    apiKey: ApiKey,
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
      return c.json(await settingsView(c.env, site.id), 200);
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
      return c.json(await settingsView(c.env, site.id), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/parkmobile/test",
      operationId: "testParkMobileSettings",
      summary: "Check the saved ParkMobile credentials against ParkMobile, without importing",
      description:
        "Reads ParkMobile's zone list with the saved settings and answers which zones a run would import and skip, or why ParkMobile refused (`ok: false` and a message: credentials refused, unreachable, timed out, not set).",
      request: { params: SiteParam },
      responses: { 200: json(ConnectionCheck, "What the check found") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const check = await checkParkMobileConnection(c.env, site.id);
      return c.json(check.ok ? { ...check, message: null } : { ok: false, matched: [], skipped: [], message: check.message }, 200);
    },
  );
}
