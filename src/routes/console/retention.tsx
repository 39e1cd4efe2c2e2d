import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { admin } from "../admin";
import { describeCounts, describeError } from "../admin/client";
import type { RetentionCountsView } from "../admin/tasks";
import { Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, done, formField, formNumber, outcome, refilled, runOutcome } from "./session";

/** Retention: the site's policy, the daily task with its run log, and the archives in R2 (downloadable). */
export function registerRetentionPage(app: ConsoleApp) {
  app.get("/sites/:site/retention", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const [policy, runs, archives] = await Promise.all([
      api(c).getRetention(site),
      api(c).listRuns(site, "retention", 30),
      api(c).listArchives(site),
    ]);
    const p = policy.ok ? policy.data : undefined;
    // This page shows retention's runs, whose counts are retention's.
    const list = (runs.ok ? runs.data.runs : []).map((r) => ({ ...r, counts: r.counts as z.infer<typeof RetentionCountsView> }));
    return c.html(
      <Page title="Retention" session={session} site={site} current="retention" answer={policy}>
        <p>
          Plates of permits that ended more than N days ago are removed (the record and its amounts stay). Permits that ended more than M
          months ago are archived to R2 by whole months, with their history, then deleted from D1. The task runs daily
          {p ? (
            <>
              {" "}
              (Cron Trigger <code>{p.schedule}</code>) and is <strong>{p.enabled ? "enabled" : "disabled"}</strong> for this site
            </>
          ) : null}
          .
        </p>
        <Form action={`/admin/sites/${site}/retention`} session={session} label="Retention policy">
          <div class="fields">
            <label>
              Anonymize plates after (days, 1 to 3650)
              <input
                name="anonymizeAfterDays"
                type="number"
                min={1}
                max={3650}
                required
                value={refilled(c, "anonymizeAfterDays") || (p ? String(p.anonymizeAfterDays) : "")}
              />
            </label>
            <label>
              Archive and delete after (months, 1 to 120)
              <input
                name="archiveAfterMonths"
                type="number"
                min={1}
                max={120}
                required
                value={refilled(c, "archiveAfterMonths") || (p ? String(p.archiveAfterMonths) : "")}
              />
            </label>
          </div>
          <p>
            <button type="submit">Save policy</button>
          </p>
        </Form>
        <p>
          {p ? (
            <Form
              action={`/admin/sites/${site}/retention/${p.enabled ? "disable" : "enable"}`}
              session={session}
              inline
              label="Switch retention"
            >
              <button type="submit">{p.enabled ? "Disable the daily run" : "Enable the daily run"}</button>
            </Form>
          ) : null}{" "}
          <Form action={`/admin/sites/${site}/retention/run`} session={session} inline label="Run retention now">
            <button type="submit">Run retention now</button>
          </Form>
        </p>
        <h2>Run log</h2>
        {runs.ok ? null : <p role="alert">{describeError(runs.error)}</p>}
        <Table
          id="retention-runs"
          empty="No runs yet."
          headers={["Run", "Trigger", "Started (UTC)", "Finished", "Outcome", "What it did", "Message"]}
          alerts={list.map((r) => r.outcome === "failed")}
          rows={list.map((r) => [
            r.number,
            r.trigger,
            <Time utc={r.startedAt} />,
            r.finishedAt ? <Time utc={r.finishedAt} /> : "running",
            r.outcome === "failed" ? <strong>failed</strong> : r.outcome,
            describeCounts(r),
            r.message ?? "",
          ])}
        />
        <h2>Archives</h2>
        {archives.ok ? null : <p role="alert">{describeError(archives.error)}</p>}
        <Table
          id="archives"
          empty="No archives yet: nothing has ended long enough ago."
          headers={["Month", "Permits", "Size (bytes)", "Written (UTC)", "Download"]}
          rows={(archives.ok ? archives.data.archives : []).map((a) => [
            a.month,
            a.permits,
            a.bytes,
            <Time utc={a.uploadedAt} />,
            <a href={`/admin/sites/${site}/archives/${a.month}`}>{`${site}-${a.month}.ndjson.gz`}</a>,
          ])}
        />
      </Page>,
    );
  });

  app.post("/sites/:site/retention", async (c) => {
    const site = c.req.param("site");
    const answer = await api(c).setRetention(site, {
      anonymizeAfterDays: await formNumber(c, "anonymizeAfterDays"),
      archiveAfterMonths: await formNumber(c, "archiveAfterMonths"),
    });
    const values = {
      anonymizeAfterDays: await formField(c, "anonymizeAfterDays"),
      archiveAfterMonths: await formField(c, "archiveAfterMonths"),
    };
    return done(
      c,
      `/admin/sites/${site}/retention`,
      outcome(
        answer,
        (p) => `Saved: plates removed after ${p.anonymizeAfterDays} days, records archived after ${p.archiveAfterMonths} months.`,
        values,
      ),
    );
  });

  for (const action of ["enable", "disable"] as const) {
    app.post(`/sites/:site/retention/${action}`, async (c) => {
      const site = c.req.param("site");
      const answer = await api(c).setTaskEnabled(site, "retention", action === "enable");
      return done(
        c,
        `/admin/sites/${site}/retention`,
        outcome(answer, () => `The daily retention run is ${action}d.`),
      );
    });
  }

  app.post("/sites/:site/retention/run", async (c) => {
    const site = c.req.param("site");
    return done(c, `/admin/sites/${site}/retention`, runOutcome(await api(c).runTask(site, "retention")));
  });

  // The download goes through the admin API in-process, like every console action.
  app.get("/sites/:site/archives/:month", async (c) => {
    const { site, month } = c.req.param();
    const res = await admin.request(
      `/sites/${encodeURIComponent(site)}/archives/${encodeURIComponent(month)}`,
      { headers: { authorization: `Bearer ${c.env.ADMIN_TOKEN}` } },
      c.env,
    );
    if (res.ok) return res;
    const error = (await res.json()) as Parameters<typeof describeError>[0];
    return c.html(
      <Page title="Archive" session={c.get("session")} site={site}>
        <p role="alert">{describeError(error)}</p>
      </Page>,
      res.status as ContentfulStatusCode,
    );
  });
}
