// A reference of `npm run bench:startup`: as ../hono-zod, with the same schema in `zod/mini`, zod's tree-shakable API
// (the same validation core and issues; functions instead of methods, so a bundle keeps only what it calls). Unlike
// the full API, zod/mini sets no locale by itself: English is configured here, so its messages are the same too.
import { Hono } from "hono";
import * as z from "zod/mini";

z.config(z.locales.en());

const Body = z.object({
  plate: z.string().check(z.minLength(1), z.maxLength(12)),
  minutes: z.number().check(z.int(), z.positive()),
  zone: z.optional(z.enum(["A", "B"])),
});

const app = new Hono();
app.post("/", async (c) => c.json(Body.parse(await c.req.json())));

export default app;
