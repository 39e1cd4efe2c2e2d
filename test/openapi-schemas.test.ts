import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { resolveSchemas } from "../src/openapi";
import { documented } from "../src/routes/operation";

// How the admin Worker shows a zod/mini schema in the document (src/openapi.ts): the public surfaces' operations and
// the admin answers built on their schemas.
type Document = { paths: unknown; components?: { schemas?: Record<string, unknown> } };

/** A document of `paths` (and components already declared, `schemas`), resolved. */
const resolved = (paths: unknown, schemas?: Record<string, unknown>) =>
  resolveSchemas<Document>({ paths, ...(schemas ? { components: { schemas } } : {}) });

describe("zod/mini schemas in the OpenAPI document", () => {
  const Named = z.object({ n: z.int(), at: z.nullable(z.string()) }).check(z.meta({ id: "Named" }));

  it("shows a named schema as a component and a $ref, with no safe-integer bounds and no ban on extra fields", () => {
    const document = resolved({ "/x": { schema: documented(z.object({ one: Named }), "output") } });
    expect((document.paths as { "/x": { schema: unknown } })["/x"].schema).toEqual({
      type: "object",
      properties: { one: { $ref: "#/components/schemas/Named" } },
      required: ["one"],
    });
    expect(document.components?.schemas?.Named).toEqual({
      type: "object",
      properties: { n: { type: "integer" }, at: { type: ["string", "null"] } },
      required: ["n", "at"],
    });
    // The error body every operation's errors reference is always there.
    expect(document.components?.schemas?.Error).toMatchObject({ type: "object", required: ["status", "ErrorCode", "ErrorMessage"] });
  });

  it("shows a request as it is sent and an answer as it is made", () => {
    const Minutes = z.pipe(
      z.string(),
      z.transform((s) => s.length),
    );
    const paths = resolved({ in: documented(Minutes, "input"), out: documented(z._default(z.int(), 5), "output") }).paths as Record<
      string,
      unknown
    >;
    expect(paths.in).toEqual({ type: "string" });
    expect(paths.out).toEqual({ type: "integer", default: 5 });
  });

  it("refuses a name shown two different ways, and a name also declared in zod's full API", () => {
    const Other = z.object({ other: z.string() }).check(z.meta({ id: "Named" }));
    expect(() => resolved([documented(Named, "output"), documented(Other, "output")])).toThrow(/Named differs/);
    expect(() => resolved(documented(Named, "output"), { Named: {} })).toThrow(/declared twice/);
  });
});
