import type { Child } from "hono/jsx";
import type { ConsoleSession } from "../../db/console-sessions";
import { formatLocalTime } from "../../domain/time";
import { type Answer, describeError } from "../admin/client";

/**
 * One stylesheet, no script. At a phone's width (below 44rem) tables turn
 * into one card per row, each cell labelled with its column, so nothing needs
 * sideways scrolling (one record's fields stay a name and a value a row);
 * forms lay their fields out in a grid that folds to one column.
 */
const STYLE = `*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#123;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header a{color:#fff}header form{margin-left:auto}main{padding:1rem;max-width:76rem;margin:auto}
nav.site{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin-bottom:.5rem}nav.site a{white-space:nowrap}
nav.site a[aria-current]{font-weight:bold;text-decoration:none;border-bottom:3px solid #36c}
h1{font-size:1.6rem;margin:.5rem 0;overflow-wrap:anywhere}
.table{overflow-x:auto;margin:.75rem 0}table{border-collapse:collapse;width:100%;background:#fff}
td,th{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
tr.alert td{background:#fdecea}time,.nowrap{white-space:nowrap}small{color:#555}
form.inline{display:inline}input,select,button{font:inherit;padding:.3rem .5rem;margin:.15rem 0;max-width:100%}button{cursor:pointer}
button.danger{background:#b3261e;color:#fff;border:1px solid #8c1d18;border-radius:3px}
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.25rem 1rem;align-items:end}
.fields label{display:flex;flex-direction:column}.fields label.check{flex-direction:row;gap:.4rem;align-items:center}
[role=status]{background:#e6f4ea;border:1px solid #7c7;padding:.5rem}[role=alert]{background:#fdecea;border:1px solid #d77;padding:.5rem}
output{display:block;font-family:monospace;font-size:1.1rem;background:#fff7d6;padding:.5rem;word-break:break-all}
:focus-visible{outline:3px solid #36c;outline-offset:2px}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #ccc;padding:.5rem}fieldset{border:1px solid #ccc;background:#fff;min-width:0}
@media (max-width:44rem){table,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #bbb;margin:0 0 .75rem;background:#fff}
td{border:0;border-bottom:1px solid #eee;display:grid;grid-template-columns:minmax(6rem,38%) 1fr;gap:.5rem;overflow-wrap:anywhere}
td::before{content:attr(data-label);font-weight:600;color:#444}header form{margin-left:0}
table.record,.record tbody{display:table}.record tr{display:table-row;border:0;margin:0}.record th,.record td{display:table-cell;border:1px solid #ccc}}
.record th{width:38%;font-weight:600}.record td{overflow-wrap:anywhere}`;

/** The pages of a site, in the order the navigation lists them. */
const SITE_PAGES = [
  ["zones", "Lot zones"],
  ["disconnected", "Disconnected"],
  ["paystation", "Pay Station Status"],
  ["standard", "Standard permits"],
  ["settings", "Settings"],
  ["tasks", "Tasks"],
  ["retention", "Retention"],
  ["reports", "Reports"],
  ["tokens", "API tokens"],
  ["clients", "OAuth clients"],
  ["webhooks", "Webhooks"],
] as const;
export type SitePage = (typeof SITE_PAGES)[number][0];

/**
 * Every console page: the header with sign-out, the site's navigation (the
 * current page marked), the title, the one-time message, and the error of
 * the admin API answer the page shows (`answer`), if it failed.
 */
export function Page(props: {
  title: string;
  session?: ConsoleSession;
  site?: string;
  current?: SitePage;
  answer?: Answer<unknown>;
  children: Child;
}) {
  const { session, site, title, answer } = props;
  const flash = session?.flash;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title} · permits-edge admin</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <strong>permits-edge admin</strong>
          {session ? <a href="/admin">Sites</a> : null}
          {session ? (
            <form method="post" action="/admin/logout">
              <input type="hidden" name="_csrf" value={session.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main>
          {site ? (
            <nav class="site" aria-label="Site">
              <strong>{site}:</strong>
              {SITE_PAGES.map(([page, label]) => (
                <a href={`/admin/sites/${site}/${page}`} aria-current={props.current === page ? "page" : undefined}>
                  {label}
                </a>
              ))}
            </nav>
          ) : null}
          <h1>{title}</h1>
          {flash ? <p role={flash.kind === "ok" ? "status" : "alert"}>{flash.text}</p> : null}
          {answer && !answer.ok ? <p role="alert">{describeError(answer.error)}</p> : null}
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A POST form carrying the anti-forgery token. */
export function Form(props: { action: string; session: ConsoleSession; inline?: boolean; label?: string; children: Child }) {
  return (
    <form method="post" action={props.action} class={props.inline ? "inline" : undefined} aria-label={props.label}>
      <input type="hidden" name="_csrf" value={props.session.csrf} />
      {props.children}
    </form>
  );
}

/**
 * A table: a header row, then one row of cells per item; each cell carries
 * its column's name, which a phone shows beside the value. A row may be
 * marked as an alert (a failed run). No rows: a line saying so (`empty`),
 * not a table of headings alone.
 */
export function Table(props: { id: string; headers: string[]; rows: Child[][]; alerts?: boolean[]; empty?: string }) {
  if (props.rows.length === 0) return <p class="empty">{props.empty ?? "None yet."}</p>;
  return (
    <div class="table">
      <table id={props.id}>
        <thead>
          <tr>
            {props.headers.map((h) => (
              <th>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((cells, i) => (
            <tr class={props.alerts?.[i] ? "alert" : undefined}>
              {cells.map((cell, j) => (
                <td data-label={props.headers[j]}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * One record's fields (a permit, an endpoint, a delivery): a name and its
 * value a row, at every width. No rows: a line saying so (`empty`).
 */
export function Details(props: { id: string; rows: [string, Child][]; empty?: string }) {
  if (props.rows.length === 0) return <p class="empty">{props.empty ?? "None yet."}</p>;
  return (
    <div class="table">
      <table id={props.id} class="record">
        <tbody>
          {props.rows.map(([name, value]) => (
            <tr>
              <th scope="row">{name}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A UTC wire time that never breaks at its hyphens; with `zone`, the local time there beneath it. */
export function Time(props: { utc: string | null; epoch?: number; zone?: string }) {
  if (props.utc === null) return null;
  const local = props.zone && props.zone !== "UTC" && props.epoch !== undefined ? formatLocalTime(props.epoch, props.zone) : null;
  return (
    <>
      <time datetime={`${props.utc}Z`}>{props.utc.replace("T", " ")}</time>
      {local ? (
        <>
          <br />
          <small>
            <time datetime={`${props.utc}Z`}>{local.replace("T", " ")}</time> local
          </small>
        </>
      ) : null}
    </>
  );
}

/**
 * A page that asks before an action that cannot be undone (removing a zone,
 * revoking a token, ending a permit): the action posts from here, and
 * "Cancel" goes back.
 */
export function Confirm(props: {
  title: string;
  session: ConsoleSession;
  site: string;
  current?: SitePage;
  question: Child;
  action: string;
  button: string;
  back: string;
}) {
  return (
    <Page title={props.title} session={props.session} site={props.site} current={props.current}>
      <p>{props.question}</p>
      <Form action={props.action} session={props.session} label={props.title}>
        <button type="submit" class="danger">
          {props.button}
        </button>{" "}
        <a href={props.back}>Cancel</a>
      </Form>
    </Page>
  );
}
