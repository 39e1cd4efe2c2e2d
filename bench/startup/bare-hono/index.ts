// The baseline of `npm run bench:startup`: a Hono app with one route and nothing else, built by the same wrangler as
// the Worker it is compared with, so the ratio says what this project adds to Hono's own start-up.
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.json({ ok: true }));

export default app;
