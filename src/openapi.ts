import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "zod/mini";
import { errorBody } from "./errors";
import { documented, isSchema, type Media, type Operation, type Schema, type SchemaMarker } from "./routes/operation";

// The admin Worker's side of the public operations (src/routes/operation.ts): it documents them, and any zod/mini
// schema its own routes show (`documented`), from zod's own JSON Schema output, which OpenAPI 3.1 takes as it is.
// A schema with an `id` in its metadata (`z.meta({ id })`) is one component of the document, referenced by `$ref`.

/** A JSON value of the document. */
type Json = Record<string, unknown>;

const COMPONENTS = "#/components/schemas/";

/**
 * zod's JSON Schema of `schema`, trimmed to what the document means: an object's `additionalProperties: false` (zod
 * writes it for an answer; a client must ignore fields it does not know, so the document never forbids them) and
 * the safe-integer bounds `z.int()` implies are left out.
 */
function jsonSchema(schema: Schema, io: "input" | "output"): Json {
  return z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: ({ jsonSchema: json }) => {
      if (json.additionalProperties === false) delete json.additionalProperties;
      if (json.type === "integer") {
        if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
        if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
      }
    },
  }) as Json;
}

/** `value` with every `#/$defs/<id>` reference pointed at the document's components instead. */
function toComponents(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComponents);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      key === "$ref" && typeof v === "string" && v.startsWith("#/$defs/") ? COMPONENTS + v.slice(8) : toComponents(v),
    ]),
  );
}

/**
 * The document's schema of `schema` as `io` sees it, the named schemas it uses added to `components` (a name used
 * twice must mean the same schema both times: a test builds the whole document).
 */
function resolve(schema: Schema, io: "input" | "output", components: Record<string, unknown>): Json {
  const { $schema: _, $defs, ...json } = jsonSchema(schema, io);
  for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, unknown>)) {
    const shown = toComponents(definition);
    const known = components[id];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(shown)) {
      throw new Error(`the document's schema ${id} differs where it is used (as ${io}): name the two schemas apart`);
    }
    components[id] = shown;
  }
  return toComponents(json) as Json;
}

/** A media type's content, its zod/mini schema marked for {@link resolveSchemas}. */
function content(media: Record<string, Media>, io: "input" | "output"): Record<string, Media> {
  return Object.fromEntries(
    Object.entries(media).map(([type, m]) => [type, isSchema(m.schema) ? { ...m, schema: documented(m.schema, io) } : m]),
  );
}

/** One parameter per key of `object`'s shape, in `location`: its description and example lifted from its schema. */
function parameters(object: z.core.$ZodObject | undefined, location: "path" | "query" | "header", components: Record<string, unknown>) {
  if (!object) return [];
  return Object.entries(object._zod.def.shape).map(([name, field]) => {
    const { description, example, ...schema } = resolve(field, "input", components);
    return {
      name,
      in: location,
      required: location === "path" || field._zod.optin !== "optional",
      ...(description === undefined ? {} : { description }),
      schema,
      ...(example === undefined ? {} : { example }),
    };
  });
}

/**
 * Registers the public surfaces' operations in `registry`, each under the prefix its surface is mounted at; their
 * schemas go into `components` (see {@link resolveSchemas}).
 */
export function documentOperations(
  registry: OpenAPIHono["openAPIRegistry"],
  surfaces: readonly { prefix: string; operations: readonly Operation[] }[],
  components: Record<string, unknown>,
) {
  for (const { prefix, operations } of surfaces) {
    for (const { request, responses, path, ...operation } of operations) {
      const declared = [
        ...parameters(request?.params, "path", components),
        ...parameters(request?.query, "query", components),
        ...parameters(request?.headers, "header", components),
      ];
      registry.registerPath({
        ...operation,
        path: prefix + path,
        ...(declared.length > 0 ? { parameters: declared as never } : {}),
        ...(request?.body ? { request: { body: { ...request.body, content: content(request.body.content, "input") as never } } } : {}),
        responses: Object.fromEntries(
          Object.entries(responses).map(([status, r]) => [status, r.content ? { ...r, content: content(r.content, "output") } : r]),
        ) as never,
      });
    }
  }
}

/**
 * `document` with every zod/mini schema marked in it (`documented`, and the public operations') replaced by its JSON
 * Schema, the named ones among them, the error body's included, added to its components.
 */
export function resolveSchemas<D extends { components?: { schemas?: Record<string, unknown> } }>(
  document: D,
  components: Record<string, unknown> = {},
): D {
  resolve(errorBody(), "output", components);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== "object" || value === null) return value;
    const marker = (value as Partial<SchemaMarker>)["x-zod"];
    if (marker) return resolve(marker.schema, marker.io, components);
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, walk(v)]));
  };
  const resolved = walk(document) as D;
  const schemas = { ...resolved.components?.schemas };
  for (const [id, schema] of Object.entries(components)) {
    if (id in schemas) throw new Error(`the document's schema ${id} is declared twice: in zod's full API and in zod/mini`);
    schemas[id] = schema;
  }
  return { ...resolved, components: { ...resolved.components, schemas } };
}
