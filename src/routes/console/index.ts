import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { AppError, answerError, ErrorCode } from "../../errors";
import { acceptBody } from "../../http";
import { registerDisconnectedPage } from "./disconnected";
import { registerPayStationPage } from "./paystation";
import { registerPermitPage } from "./permit";
import { registerRetentionPage } from "./retention";
import { type ConsoleEnv, registerSession } from "./session";
import { registerSettingsPage } from "./settings";
import { registerSitesPage } from "./sites";
import { registerTasksPage } from "./tasks";
import { registerTokensPage } from "./tokens";
import { registerZonesPage } from "./zones";

/**
 * The admin console, server-rendered at /admin. Every action goes through the
 * admin API (called in-process with ADMIN_TOKEN), so the console applies
 * exactly its rules, errors and cache invalidation; the console adds only
 * pages, a sign-in and its protections:
 * - every form POST must come from this origin (Origin check) and carry the
 *   session's anti-forgery token;
 * - every form posts, then redirects (a reload never repeats an action); a
 *   token's secret is shown once, from the session's one-time message.
 */
export const consoleApp = new Hono<ConsoleEnv>();

/** The console's forms are a few fields. */
const MAX_FORM_BYTES = 64 * 1024;

// Cross-site form posts are refused before anything runs; frames and sniffing are off; forms are small and UTF-8.
consoleApp.use(csrf(), secureHeaders(), acceptBody(MAX_FORM_BYTES));

// In the console, the one 403 a middleware raises is csrf()'s: say what it means.
consoleApp.onError((err, c) =>
  answerError(
    err instanceof HTTPException && err.status === 403
      ? new AppError(ErrorCode.Unparseable, "Refused: this form was posted from another site.", { status: 403 })
      : err,
    c,
  ),
);

registerSession(consoleApp);
registerSitesPage(consoleApp);
registerZonesPage(consoleApp);
registerDisconnectedPage(consoleApp);
registerSettingsPage(consoleApp);
registerTasksPage(consoleApp);
registerRetentionPage(consoleApp);
registerPayStationPage(consoleApp);
registerPermitPage(consoleApp);
registerTokensPage(consoleApp);
