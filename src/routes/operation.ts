import { type Context, type Env, Hono, type MiddlewareHandler } from "hono";
import { validator } from "hono/validator";
import type * as z from "zod/mini";
import { parseInput } from "../errors";

// The public surfaces' operations: plain data and `zod/mini` schemas, served by plain Hono apps. The public Worker
// never builds the OpenAPI document; the admin Worker documents these operations from the same declarations
// (src/openapi.ts), so what is validated and what is documented cannot drift apart. zod's full API (and
// @hono/zod-openapi, which needs it) stays out of the public Worker's bundle and start-up (README, Performance).

/** A zod schema, of `zod/mini` (the admin Worker's own schemas may also be zod's full API). */
export type Schema = z.core.$ZodType;

/** An object schema: a request's path parameters, query or headers, one parameter per key. */
export type ObjectSchema = z.core.$ZodObject;

/**
 * Where the OpenAPI document shows a zod/mini schema that appears inside a declaration zod-to-openapi reads (the admin
 * Worker's routes): a marker the document resolves to the schema's JSON Schema (src/openapi.ts), as the request
 * (`input`) or the answer (`output`) sees it. An `x-` key, so it is a valid Schema Object where one is expected.
 */
export interface SchemaMarker {
  "x-zod": { schema: Schema; io: "input" | "output" };
}

/** The OpenAPI entry of `schema`, as a request (`input`) or an answer (`output`) sees it. */
export function documented(schema: Schema, io: "input" | "output"): SchemaMarker {
  return { "x-zod": { schema, io } };
}

/** A media type's content: a zod/mini schema, or an OpenAPI Schema or Reference Object as it is. */
export interface Media {
  schema?: Schema | SchemaMarker | Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, unknown>;
}

/** An answer of an operation. */
export interface OperationResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, Media>;
}

/**
 * An operation of a public surface, as OpenAPI describes it, with its path as the surface sees it (OpenAPI's
 * `{param}` form) and its request's parts as zod/mini schemas: `params`, `query` and the JSON `body` are validated
 * before the handler runs (a failure is the one error shape, naming the field: `parseInput`); `headers` are documented
 * only (each header is read and checked where it is used, e.g. `idempotencyKey`).
 */
export interface Operation {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security?: Record<string, string[]>[];
  deprecated?: boolean;
  request?: {
    params?: ObjectSchema;
    query?: ObjectSchema;
    headers?: ObjectSchema;
    body?: { required?: boolean; description?: string; content: Record<string, Media> };
  };
  responses: Record<string | number, OperationResponse>;
  [extension: `x-${string}`]: unknown;
}

type Output<S> = S extends Schema ? z.output<S> : undefined;
type Request<O extends Operation> = NonNullable<O["request"]>;
type JsonBody<O extends Operation> = NonNullable<Request<O>["body"]>["content"]["application/json"]["schema"];

/** What a handler is given: the validated request parts its operation declares. */
export interface Input<O extends Operation> {
  param: Output<Request<O>["params"]>;
  query: Output<Request<O>["query"]>;
  json: Output<JsonBody<O>>;
}

/** An operation with the middleware that runs before its validation (its caller's authentication, its body's gate). */
export type Served = Operation & { middleware?: readonly MiddlewareHandler[] };

const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");
/** Whether `value` is a zod schema (not an OpenAPI Schema Object or a {@link SchemaMarker}). */
export const isSchema = (value: unknown): value is Schema => typeof value === "object" && value !== null && "_zod" in value;

/**
 * A public surface: a Hono app, and the operations it serves, for the admin Worker to document under the prefix the
 * surface is mounted at (src/api.ts).
 */
export class Surface<E extends Env> {
  readonly app: Hono<E>;
  readonly operations: Operation[] = [];

  constructor(app: Hono<E> = new Hono<E>()) {
    this.app = app;
  }

  /** Documents `operation`, served by handlers the surface mounts itself (OC-TOMA's body-token calls, OAuth's forms). */
  document(operation: Operation): void {
    this.operations.push(operation);
  }

  /**
   * Serves and documents `operation`: its middleware, then its path parameters, query and JSON body validated, in that
   * order, then `handle` with what was validated.
   */
  on<const O extends Served>(operation: O, handle: (c: Context<E>, input: Input<O>) => Response | Promise<Response>): void {
    const { middleware = [], ...declared } = operation;
    this.document(declared);
    const { params, query, body } = operation.request ?? {};
    const json = body?.content["application/json"]?.schema;
    const validators: MiddlewareHandler[] = [];
    if (query) validators.push(validator("query", (value) => parseInput(query, value)));
    if (params) validators.push(validator("param", (value) => parseInput(params, value)));
    if (isSchema(json)) validators.push(validator("json", (value) => parseInput(json, value)));
    const targets = { param: !!params, query: !!query, json: isSchema(json) };
    const handlers: MiddlewareHandler[] = [...middleware, ...validators];
    this.app.on([operation.method.toUpperCase()], [honoPath(operation.path)], ...(handlers as []), (c: Context) => {
      const valid = (target: string) => (c.req.valid as (target: string) => unknown).call(c.req, target);
      const input = {
        param: targets.param ? valid("param") : undefined,
        query: targets.query ? valid("query") : undefined,
        json: targets.json ? valid("json") : undefined,
      } as Input<O>;
      return handle(c as unknown as Context<E>, input);
    });
  }
}
