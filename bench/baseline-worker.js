// The benchmark's baselines: a Worker doing the bare D1 work each figure is compared with, on the same database as the
// Worker under test, and called the same way (a service binding from the bench). One route per baseline:
// - POST /insert {id?, plate}: a bare one-row insert;
// - POST /update {id}: a bare one-row update, by primary key;
// - POST /read {sql, params}: one read statement, its rows answered as JSON (the plain indexed reads the feed is
//   compared with).
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const body = await request.json();
    if (pathname === "/insert") {
      await env.DB.prepare("INSERT INTO bench_rows (id, plate, at) VALUES (?, ?, ?)")
        .bind(body.id ?? crypto.randomUUID(), body.plate, Date.now())
        .run();
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
