import { Hono, type MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { AppError, answerError, ErrorCode } from "../../errors";
import { acceptBody } from "../../http";
import { registerClientsPage } from "./clients";
import { registerDisconnectedPage } from "./disconnected";
import { Page } from "./layout";
import { registerPayStationPage } from "./paystation";
import { registerPermitPage } from "./permit";
import { registerReportsPage } from "./reports";
import { registerRetentionPage } from "./retention";
import { type ConsoleEnv, registerSession, requireSite } from "./session";
import { registerSettingsPage } from "./settings";
import { registerSitesPage } from "./sites";
import { registerStandardPage } from "./standard";
import { registerTasksPage } from "./tasks";
import { registerTokensPage } from "./tokens";
import { registerWebhooksPage } from "./webhooks";
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

const checkOrigin = csrf();

/** Refuses a form posted from another site (hono's csrf(): the Origin, or Sec-Fetch-Site), saying so. */
const sameOrigin: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  let allowed = false;
  await checkOrigin(c, async () => {
    allowed = true;
  }).catch(() => undefined);
  if (!allowed) throw new AppError(ErrorCode.Unparseable, "Refused: this form was posted from another site.", { status: 403 });
  await next();
};

// Cross-site form posts are refused before anything runs; frames and sniffing are off; forms are small and UTF-8.
consoleApp.use(sameOrigin, secureHeaders(), acceptBody(MAX_FORM_BYTES));

// People read the console's errors: a page with the error's message, with the status and request id of the API's.
consoleApp.onError(async (err, c) => {
  const answer = answerError(err, c);
  const body = (await answer.clone().json()) as { ErrorCode: number; ErrorMessage: string; requestId?: string };
  return c.html(
    <Page title="That did not work">
      <p role="alert">
        {body.ErrorMessage} (error {body.ErrorCode}
        {body.requestId ? `, request ${body.requestId}` : ""})
      </p>
      <p>
        <a href="/admin">Back to the console</a>
      </p>
    </Page>,
    answer.status as 400,
  );
});

registerSession(consoleApp);
consoleApp.use("/sites/:site/*", requireSite);
registerSitesPage(consoleApp);
registerZonesPage(consoleApp);
registerDisconnectedPage(consoleApp);
registerSettingsPage(consoleApp);
registerTasksPage(consoleApp);
registerRetentionPage(consoleApp);
registerReportsPage(consoleApp);
registerPayStationPage(consoleApp);
registerStandardPage(consoleApp);
registerPermitPage(consoleApp);
registerTokensPage(consoleApp);
registerClientsPage(consoleApp);
registerWebhooksPage(consoleApp);

// Last: a console address no page answers is a page saying so (the API's unknown routes answer JSON, the console's HTML).
consoleApp.all("*", (c) =>
  c.html(
    <Page title="No such page" session={c.get("session")}>
      <p>
        <a href="/admin">Back to the console</a>
      </p>
    </Page>,
    404,
  ),
);
