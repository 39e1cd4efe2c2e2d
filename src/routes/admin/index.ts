import { registerClientRoutes } from "./clients";
import { registerParkMobileRoutes } from "./parkmobile";
import { registerPermitRoutes } from "./permits";
import { registerReportRoutes } from "./reports";
import { registerRetentionRoutes } from "./retention";
import { createAdminApp } from "./route";
import { registerSiteRoutes } from "./sites";
import { registerTaskRoutes } from "./tasks";
import { registerTokenRoutes } from "./tokens";
import { registerWebhookRoutes } from "./webhooks";
import { registerZoneRoutes } from "./zones";

/** The admin API, mounted at /api/admin/v1: one file per resource, each registering its routes. */
export const admin = createAdminApp();

registerSiteRoutes(admin);
registerZoneRoutes(admin);
registerTokenRoutes(admin);
registerClientRoutes(admin);
registerPermitRoutes(admin);
registerParkMobileRoutes(admin);
registerTaskRoutes(admin);
registerRetentionRoutes(admin);
registerReportRoutes(admin);
registerWebhookRoutes(admin);
