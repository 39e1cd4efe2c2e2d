import type { z } from "zod";
import type { ZoneUpdate } from "../admin/zones";
import { Confirm, Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, type ConsoleContext, done, formField, outcome, refilled } from "./session";

/** Adds a lot zone (from the zones page or the disconnected page) and reports what it reconnected. */
export async function addZone(c: ConsoleContext, site: string, back: string) {
  const name = await formField(c, "name");
  const number = (await formField(c, "number")).trim();
  const answer = await api(c).addZone(site, { name, ...(number ? { number } : {}) });
  return done(
    c,
    back,
    outcome(answer, (zone) => `Added lot zone ${zone.name}; reconnected ${zone.reconnected} disconnected record(s).`, { name, number }),
  );
}

/** A whole number typed in a form, as the API takes it; anything else is passed on for the API to name the rule. */
const whole = (value: string) => (/^\d{1,9}$/.test(value) ? Number(value) : value);

/**
 * The details form's fields as an update: every field is sent, a blank one
 * clears the value (null). Text that is not a number goes to the API as it
 * is, which refuses it naming the field.
 */
async function detailsForm(c: ConsoleContext): Promise<z.input<typeof ZoneUpdate>> {
  const field = async (name: string) => (await formField(c, name)).trim();
  const orNull = <T,>(value: string, as: (v: string) => T) => (value === "" ? null : as(value));
  return {
    name: await field("name"),
    number: orNull(await field("number"), String),
    ratePerHour: orNull(await field("ratePerHour"), String),
    currency: orNull(await field("currency"), String),
    maxMinutes: orNull(await field("maxMinutes"), whole) as number | null,
    timeZone: orNull(await field("timeZone"), String),
    capacity: orNull(await field("capacity"), whole) as number | null,
  };
}

/**
 * A zone's console address, by its name (unique in its site): the admin API
 * finds a zone by name before id, so an id in the path could name another
 * zone whose name is that number.
 */
const zonePath = (site: string, zone: { name: string }) => `/admin/sites/${site}/zones/${encodeURIComponent(zone.name)}`;

/** Lot zones: add, rename, remove (after a confirmation), and each zone's number, rate, longest session, time zone and capacity. */
export function registerZonesPage(app: ConsoleApp) {
  app.get("/sites/:site/zones", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).listZones(site);
    const zones = answer.ok ? answer.data.zones : [];
    return c.html(
      <Page title="Lot zones" session={session} site={site} current="zones" answer={answer}>
        <Form action={`/admin/sites/${site}/zones`} session={session} label="Add lot zone">
          <div class="fields">
            <label>
              New lot zone <input id="new-zone" name="name" required maxlength={200} value={refilled(c, "name")} />
            </label>
            <label>
              Number (optional) <input id="new-number" name="number" maxlength={20} value={refilled(c, "number")} />
            </label>
            <span>
              <button type="submit">Add lot zone</button>
            </span>
          </div>
        </Form>
        <p>Sessions find a zone by its number, or by its name when it has none. "Details" sets the number, rate and limits.</p>
        <Table
          id="zones"
          empty="No lot zones yet."
          headers={["Name", "Number", "Rate / hour", "Max (min)", "Time zone", "Capacity", "Created (UTC)", "Rename", "Details", "Remove"]}
          rows={zones.map((z) => [
            z.name,
            z.number ?? "",
            z.ratePerHour ? <span class="nowrap">{`${z.ratePerHour} ${z.currency ?? ""}`}</span> : "",
            z.maxMinutes ?? "",
            z.timeZone ?? "",
            z.capacity ?? "",
            <Time utc={z.createdAt} />,
            <Form action={`${zonePath(site, z)}/rename`} session={session} inline label={`Rename ${z.name}`}>
              <input name="name" value={z.name} required maxlength={200} aria-label={`New name for ${z.name}`} />{" "}
              <button type="submit">Rename</button>
            </Form>,
            <a href={zonePath(site, z)} aria-label={`Details of ${z.name}`}>
              Details
            </a>,
            <form method="get" action={`${zonePath(site, z)}/remove`} class="inline" aria-label={`Remove ${z.name}`}>
              <button type="submit">Remove</button>
            </form>,
          ])}
        />
      </Page>,
    );
  });

  app.get("/sites/:site/zones/:zone", async (c) => {
    const { site, zone: name } = c.req.param();
    const session = c.get("session");
    const answer = await api(c).listZones(site);
    const zone = answer.ok ? answer.data.zones.find((z) => z.name === name) : undefined;
    const text = (name: string, label: string, value: string | number | null, attrs: Record<string, string | number> = {}) => (
      <label>
        {label} <input name={name} value={value === null ? "" : String(value)} {...attrs} />
      </label>
    );
    return c.html(
      <Page title={zone ? `Lot zone ${zone.name}` : "Lot zone"} session={session} site={site} current="zones" answer={answer}>
        {answer.ok && !zone ? <p role="alert">No lot zone {name} on this site.</p> : null}
        {zone ? (
          <Form action={zonePath(site, zone)} session={session} label={`Details of ${zone.name}`}>
            <fieldset>
              <legend>What sessions need (all optional; empty clears)</legend>
              <div class="fields">
                {text("name", "Name", zone.name, { required: "", maxlength: 200 })}
                {text("number", "Number on the sign", zone.number, { maxlength: 20 })}
                {text("ratePerHour", "Rate per hour", zone.ratePerHour, { placeholder: "2.50", inputmode: "decimal", maxlength: 9 })}
                {text("currency", "Currency", zone.currency, { placeholder: "the site's first", maxlength: 3 })}
                {text("maxMinutes", "Longest session (minutes)", zone.maxMinutes, { inputmode: "numeric" })}
                {text("timeZone", "Time zone (IANA)", zone.timeZone, { placeholder: "America/Toronto", maxlength: 64 })}
                {text("capacity", "Capacity (vehicles)", zone.capacity, { inputmode: "numeric" })}
                <span>
                  <button type="submit">Save</button>
                </span>
              </div>
            </fieldset>
          </Form>
        ) : null}
        <p>
          <a href={`/admin/sites/${site}/zones`}>Back to the lot zones</a>
        </p>
      </Page>,
    );
  });

  app.post("/sites/:site/zones", (c) => addZone(c, c.req.param("site"), `/admin/sites/${c.req.param("site")}/zones`));

  app.post("/sites/:site/zones/:zone", async (c) => {
    const { site, zone } = c.req.param();
    const answer = await api(c).updateZone(site, zone, await detailsForm(c));
    return done(
      c,
      answer.ok ? `/admin/sites/${site}/zones` : zonePath(site, { name: zone }),
      outcome(answer, (zone) => `Saved lot zone ${zone.name}.`),
    );
  });

  app.post("/sites/:site/zones/:zone/rename", async (c) => {
    const { site, zone } = c.req.param();
    const answer = await api(c).updateZone(site, zone, { name: await formField(c, "name") });
    return done(
      c,
      `/admin/sites/${site}/zones`,
      outcome(answer, (zone) => `Renamed the lot zone to ${zone.name}.`),
    );
  });

  app.get("/sites/:site/zones/:zone/remove", async (c) => {
    const { site, zone: name } = c.req.param();
    const answer = await api(c).listZones(site);
    const zone = answer.ok ? answer.data.zones.find((z) => z.name === name) : undefined;
    if (!zone) return c.redirect(`/admin/sites/${site}/zones`, 303);
    return c.html(
      <Confirm
        title={`Remove lot zone ${zone.name}?`}
        session={c.get("session")}
        site={site}
        current="zones"
        question={`Its permits keep the zone name they were sent with and become disconnected; adding lot zone ${zone.name} again${zone.number === null ? "" : `, numbered ${zone.number},`} reconnects them.`}
        action={`${zonePath(site, zone)}/remove`}
        button={`Remove lot zone ${zone.name}`}
        back={`/admin/sites/${site}/zones`}
      />,
    );
  });

  app.post("/sites/:site/zones/:zone/remove", async (c) => {
    const { site, zone } = c.req.param();
    const answer = await api(c).removeZone(site, zone);
    return done(
      c,
      `/admin/sites/${site}/zones`,
      outcome(answer, (r) => `Removed lot zone ${r.removed.name}; ${r.disconnected} record(s) are now disconnected.`),
    );
  });
}
