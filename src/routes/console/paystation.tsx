import { permitListCsv, permitListPage } from "./permit-list";
import type { ConsoleApp } from "./session";

/** Pay Station Status: temporary permits by plate, zone, date range, source, promo code and active now; CSV of a search. */
export function registerPayStationPage(app: ConsoleApp) {
  app.get("/sites/:site/paystation", (c) => permitListPage(c, { type: "temp", page: "paystation", title: "Pay Station Status" }));
  app.get("/sites/:site/paystation.csv", (c) => permitListCsv(c, "temp"));
}
