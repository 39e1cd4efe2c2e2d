// A reference of `npm run bench:startup`: the bare Hono app plus zod (the full `zod` API the Workers validate with)
// and one request schema, built the way the public Worker is (minified, English locale only). What it adds to the
// bare app is the floor that validating with zod puts under any Worker's start-up, before a single route of ours.
import { Hono } from "hono";
import { z } from "zod";

const Body = z.object({ plate: z.string().min(1).max(12), minutes: z.number().int().positive(), zone: z.enum(["A", "B"]).optional() });

const app = new Hono();
app.post("/", async (c) => c.json(Body.parse(await c.req.json())));

export default app;
