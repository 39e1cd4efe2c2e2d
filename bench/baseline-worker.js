// The benchmark's baseline: a Worker whose one route is a bare one-row D1 insert, on the same database.
export default {
  async fetch(request, env) {
    const { plate } = await request.json();
    await env.DB.prepare("INSERT INTO bench_rows (id, plate, at) VALUES (?, ?, ?)").bind(crypto.randomUUID(), plate, Date.now()).run();
    return Response.json({ status: "success" });
  },
};
