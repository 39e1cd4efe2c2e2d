import type { Child } from "hono/jsx";
import type { ConsoleSession } from "../../db/console-sessions";
import { type Answer, describeError } from "../admin/client";

const STYLE = `*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#123;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header a{color:#fff}header form{margin-left:auto}main{padding:1rem;max-width:72rem;margin:auto}
nav a{margin-right:.9rem}table{border-collapse:collapse;width:100%;margin:.75rem 0;background:#fff;display:block;overflow-x:auto}
td,th{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}form.inline{display:inline}
input,select,button{font:inherit;padding:.3rem .5rem;margin:.15rem 0}button{cursor:pointer}
[role=status]{background:#e6f4ea;border:1px solid #7c7;padding:.5rem}[role=alert]{background:#fdecea;border:1px solid #d77;padding:.5rem}
output{display:block;font-family:monospace;font-size:1.1rem;background:#fff7d6;padding:.5rem;word-break:break-all}
:focus-visible{outline:3px solid #36c;outline-offset:2px}fieldset{border:1px solid #ccc;background:#fff}label{margin-right:.75rem}`;

/**
 * Every console page: the header with sign-out, the site's navigation, the
 * title, the one-time message, and the error of the admin API answer the
 * page shows (`answer`), if it failed.
 */
export function Page(props: { title: string; session?: ConsoleSession; site?: string; answer?: Answer<unknown>; children: Child }) {
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
            <nav aria-label="Site">
              <strong>{site}:</strong> <a href={`/admin/sites/${site}/zones`}>Lot zones</a>
              <a href={`/admin/sites/${site}/disconnected`}>Disconnected</a>
              <a href={`/admin/sites/${site}/settings`}>Settings</a>
              <a href={`/admin/sites/${site}/tasks`}>Tasks</a>
              <a href={`/admin/sites/${site}/retention`}>Retention</a>
              <a href={`/admin/sites/${site}/paystation`}>Pay Station Status</a>
              <a href={`/admin/sites/${site}/tokens`}>API tokens</a>
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

/** A table: a header row, then one row of cells per item. */
export function Table(props: { id: string; headers: string[]; rows: Child[][] }) {
  return (
    <table id={props.id}>
      <thead>
        <tr>
          {props.headers.map((h) => (
            <th>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((cells) => (
          <tr>
            {cells.map((cell) => (
              <td>{cell}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
