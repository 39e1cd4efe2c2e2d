import type { OpenAPIHono } from "@hono/zod-openapi";

/** The OpenAPI 3.1 document the app serves at /openapi.json. */
type OpenAPIObject = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

type Schema = {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  example?: unknown;
  $ref?: string;
  items?: Schema;
  anyOf?: Schema[];
};

function typeOf(s: Schema): string {
  if (s.$ref) return s.$ref.split("/").pop() ?? "object";
  if (s.anyOf) return s.anyOf.map(typeOf).join(" | ");
  if (s.type === "array" && s.items) return `${typeOf(s.items)}[]`;
  return Array.isArray(s.type) ? s.type.join(" | ") : (s.type ?? "any");
}

function resolve(doc: OpenAPIObject, s: Schema | undefined): Schema | undefined {
  if (s?.$ref) return doc.components?.schemas?.[s.$ref.split("/").pop() ?? ""] as Schema | undefined;
  return s;
}

function Properties({ schema }: { schema: Schema | undefined }) {
  if (!schema?.properties) return null;
  return (
    <table>
      <thead>
        <tr>
          <th>Field</th>
          <th>Type</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(schema.properties).map(([name, p]) => (
          <tr>
            <td>
              <code>{name}</code>
              {schema.required?.includes(name) ? " *" : ""}
            </td>
            <td>{typeOf(p)}</td>
            <td>
              {p.description ?? ""}
              {p.example !== undefined ? (
                <>
                  {" "}
                  e.g. <code>{JSON.stringify(p.example)}</code>
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The docs page: the OpenAPI document rendered on the server, with no script
 * or asset from elsewhere, so it works offline in the sandbox too.
 */
export function docsPage(doc: OpenAPIObject) {
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    (["get", "post", "put", "patch", "delete"] as const).flatMap((method) => {
      const op = item[method];
      return op ? [{ path, method, op }] : [];
    }),
  );
  return (
    "<!doctype html>" +
    (
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{doc.info.title} API</title>
          <style>{`*{box-sizing:border-box}body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;color:#1a1a1a}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}h1,h2,li,p{overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:.5rem 0;table-layout:fixed}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
section{border-top:1px solid #ccc;margin-top:1.5rem}.m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}
@media (max-width:40rem){table,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #ddd;margin-bottom:.5rem}td{border:0}}`}</style>
        </head>
        <body>
          <h1>{doc.info.title}</h1>
          <p>{doc.info.description}</p>
          <p>
            Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI {doc.openapi}).
          </p>
          <nav>
            <ul>
              {operations.map(({ path, method, op }) => (
                <li>
                  <a href={`#${method}-${path}`}>
                    <span class="m">{method}</span>
                    {path}
                  </a>{" "}
                  {op.summary}
                </li>
              ))}
            </ul>
          </nav>
          {operations.map(({ path, method, op }) => {
            const body = resolve(
              doc,
              op.requestBody && "content" in op.requestBody ? (op.requestBody.content["application/json"]?.schema as Schema) : undefined,
            );
            return (
              <section id={`${method}-${path}`}>
                <h2>
                  <span class="m">{method}</span>
                  <code>{path}</code>
                </h2>
                <p>{op.summary}</p>
                {op.description ? <p>{op.description}</p> : null}
                {body ? (
                  <>
                    <h3>Request body</h3>
                    <Properties schema={body} />
                  </>
                ) : null}
                <h3>Responses</h3>
                <ul>
                  {Object.entries(op.responses ?? {}).map(([status, r]) => (
                    <li>
                      <b>{status}</b> {(r as { description?: string }).description}
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </body>
      </html>
    ).toString()
  );
}
