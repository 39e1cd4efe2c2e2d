import { Form } from "./layout";
import { permitListCsv, permitListPage } from "./permit-list";
import { api, type ConsoleApp, done, outcome, refilled } from "./session";

const FIELDS = [
  ["plate", "Plate", "text", "PL8RDR"],
  ["zone", "Lot zone", "text", "Lot 4"],
  ["startTime", "Start (UTC)", "text", "2026-09-01T00:00:00"],
  ["endTime", "End (UTC)", "text", "2027-04-30T23:59:59"],
  ["permitNo", "Permit number (optional)", "text", "F-42"],
] as const;

/** Standard (long-term) permits: add one, search them, CSV of a search; each opens on its page, where it can be ended. */
export function registerStandardPage(app: ConsoleApp) {
  app.get("/sites/:site/standard", (c) => {
    const site = c.req.param("site");
    const add = (
      <Form action={`/admin/sites/${site}/standard`} session={c.get("session")} label="Add a standard permit">
        <fieldset>
          <legend>Add a standard permit</legend>
          <div class="fields">
            {FIELDS.map(([name, label, type, example]) => (
              <label>
                {label} <input name={name} type={type} placeholder={example} value={refilled(c, name)} required={name !== "permitNo"} />
              </label>
            ))}
            <span>
              <button type="submit">Add permit</button>
            </span>
          </div>
        </fieldset>
      </Form>
    );
    return permitListPage(c, { type: "standard", page: "standard", title: "Standard permits", before: add });
  });

  app.get("/sites/:site/standard.csv", (c) => permitListCsv(c, "standard"));

  app.post("/sites/:site/standard", async (c) => {
    const site = c.req.param("site");
    const form = await c.req.parseBody({ all: true });
    const values = Object.fromEntries(FIELDS.map(([name]) => [name, typeof form[name] === "string" ? (form[name] as string).trim() : ""]));
    const answer = await api(c).createStandardPermits(site, {
      permits: [
        {
          plate: values.plate ?? "",
          zone: values.zone ?? "",
          startTime: values.startTime ?? "",
          endTime: values.endTime ?? "",
          permitNo: values.permitNo || undefined,
        },
      ],
    });
    const flash = outcome(
      answer,
      (r) => (r.created === 1 ? `Added standard permit ${r.references[0]}.` : "A permit with that number, plate and start exists already."),
      values,
    );
    // The API names the row's fields (permits.0.plate): the form has one row.
    return done(c, `/admin/sites/${site}/standard`, { ...flash, text: flash.text.replace(/permits\.0\./g, "") });
  });
}
