import { describeError, describeRun } from "../admin/client";
import { Failure, Form, Page } from "./layout";
import { api, type ConsoleApp, done, outcome } from "./session";

/** System tasks: "Fetch ParkMobile Stats" with Enable/Disable, RUN, and its run log. */
export function registerTasksPage(app: ConsoleApp) {
  app.get("/sites/:site/tasks", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const [tasks, runs] = await Promise.all([api(c).listTasks(site), api(c).listRuns(site, "parkmobile", 50)]);
    const task = tasks.ok ? tasks.data.tasks[0] : undefined;
    const list = runs.ok ? runs.data.runs : [];
    return c.html(
      <Page title="System tasks" session={session} site={site}>
        <Failure answer={tasks} />
        {task ? (
          <p>
            <strong>{task.name}</strong>: run by the Cron Trigger <code>{task.schedule}</code>,{" "}
            <strong>{task.enabled ? "enabled" : "disabled"}</strong>.{" "}
            <Form
              action={`/admin/sites/${site}/tasks/${task.enabled ? "disable" : "enable"}`}
              session={session}
              inline
              label="Switch the task"
            >
              <button type="submit">{task.enabled ? "Disable" : "Enable"}</button>
            </Form>{" "}
            <Form action={`/admin/sites/${site}/tasks/run`} session={session} inline label="Run the task now">
              <button type="submit">RUN</button>
            </Form>
          </p>
        ) : null}
        <h2>Run log</h2>
        <table id="runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Trigger</th>
              <th>Started (UTC)</th>
              <th>Finished</th>
              <th>Outcome</th>
              <th>Zones matched / skipped</th>
              <th>Fetched</th>
              <th>Created / updated / unchanged</th>
              <th>Rejected</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr>
                <td>{r.id}</td>
                <td>{r.trigger}</td>
                <td>{r.startedAt}</td>
                <td>{r.finishedAt ?? "running"}</td>
                <td>{r.outcome}</td>
                <td>
                  {r.counts.zonesMatched} / {r.counts.zonesSkipped}
                  {r.counts.skippedZones.length > 0 ? ` (${r.counts.skippedZones.join(", ")})` : ""}
                </td>
                <td>{r.counts.rightsFetched}</td>
                <td>
                  {r.counts.created} / {r.counts.updated} / {r.counts.unchanged}
                </td>
                <td>{r.counts.rejected}</td>
                <td>{r.message ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Page>,
    );
  });

  for (const action of ["enable", "disable"] as const) {
    app.post(`/sites/:site/tasks/${action}`, async (c) => {
      const site = c.req.param("site");
      const answer = await api(c).setTaskEnabled(site, "parkmobile", action === "enable");
      return done(
        c,
        `/admin/sites/${site}/tasks`,
        outcome(answer, () => `Task ${action}d.`),
      );
    });
  }

  app.post("/sites/:site/tasks/run", async (c) => {
    const site = c.req.param("site");
    const answer = await api(c).runTask(site, "parkmobile");
    return done(
      c,
      `/admin/sites/${site}/tasks`,
      answer.ok
        ? { kind: answer.data.outcome === "failed" ? "error" : "ok", text: describeRun(answer.data) }
        : { kind: "error", text: describeError(answer.error) },
    );
  });
}
