// The benchmark's baselines: a Worker doing the bare D1 work each figure is compared with, on the same database as the
// Worker under test, and called the same way (a service binding from the bench). One route per baseline:
// - POST /insert {id?, plate}: a bare one-row insert;
// - POST /update {id}: a bare one-row update, by primary key;
// - POST /read {sql, params}: one read statement, its rows answered as JSON (the plain indexed reads the feed is
//   compared with);
// - POST /limit {key}: one call of a Rate Limiting binding configured as the bench configures the Worker's (a limit
//   no run reaches, vitest.bench.config.ts), and nothing else: what counting a request costs where the bench runs;
// - POST /limited-insert {key, plate}: that call, then the bare insert.
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const body = await request.json();
    const insert = () =>
      env.DB.prepare("INSERT INTO bench_rows (id, plate, at) VALUES (?, ?, ?)")
        .bind(body.id ?? crypto.randomUUID(), body.plate, Date.now())
        .run();
    if (pathname === "/insert") {
      await insert();
      return Response.json({ status: "success" });
    }
    if (pathname === "/limit" || pathname === "/limited-insert") {
      const { success } = await env.RATE_LIMIT.limit({ key: body.key });
      if (!success) return new Response("limited", { status: 429 });
      if (pathname === "/limit") return Response.json({ status: "success" });
      await insert();
      return Response.json({ status: "success" });
    }
    if (pathname === "/update") {
      await env.DB.prepare("UPDATE bench_rows SET at = ? WHERE id = ?").bind(Date.now(), body.id).run();
      return Response.json({ status: "success" });
    }
    if (pathname === "/read") {
      const { results } = await env.DB.prepare(body.sql)
        .bind(...body.params)
        .all();
      return Response.json({ rows: results });
    }
    return new Response("not found", { status: 404 });
  },
};
