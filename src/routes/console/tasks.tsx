import type { z } from "zod";
import type { ImportCountsView } from "../admin/tasks";
import { Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, done, outcome, runOutcome } from "./session";

/** System tasks: "Fetch ParkMobile Stats" with Enable/Disable, RUN, and its run log (failed runs marked; retention has its own page). */
export function registerTasksPage(app: ConsoleApp) {
  app.get("/sites/:site/tasks", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const [tasks, runs] = await Promise.all([api(c).listTasks(site), api(c).listRuns(site, "parkmobile", 50)]);
    const task = tasks.ok ? tasks.data.tasks.find((t) => t.task === "parkmobile") : undefined;
    // This page shows the import's runs, whose counts are the import's.
    const list = (runs.ok ? runs.data.runs : []).map((r) => ({ ...r, counts: r.counts as z.infer<typeof ImportCountsView> }));
    return c.html(
      <Page title="System tasks" session={session} site={site} current="tasks" answer={tasks}>
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
        <Table
          id="runs"
          empty="No runs yet."
          headers={[
            "Run",
            "Trigger",
            "Started (UTC)",
            "Finished",
            "Outcome",
            "Zones matched / skipped",
            "Fetched",
            "Created / updated / unchanged",
            "Rejected",
            "Message",
          ]}
          alerts={list.map((r) => r.outcome === "failed")}
          rows={list.map((r) => [
            r.number,
            r.trigger,
            <Time utc={r.startedAt} />,
            r.finishedAt ? <Time utc={r.finishedAt} /> : "running",
            r.outcome === "failed" ? <strong>failed</strong> : r.outcome,
            `${r.counts.zonesMatched} / ${r.counts.zonesSkipped}${r.counts.skippedZones.length > 0 ? ` (${r.counts.skippedZones.join(", ")})` : ""}`,
            r.counts.rightsFetched,
            `${r.counts.created} / ${r.counts.updated} / ${r.counts.unchanged}`,
            r.counts.rejected,
            r.message ?? "",
          ])}
        />
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
    return done(c, `/admin/sites/${site}/tasks`, runOutcome(await api(c).runTask(site, "parkmobile")));
  });
}
