"""The prediction for people: the same blocks as the capacity report (report/render.py) as Markdown
and HTML, and a short terminal summary."""

from __future__ import annotations

from rich.table import Table

from sim.core import console

from .. import render as report_render

LABELS = {"drain_s": "drain (first landing -> last file in Parquet)", "end_to_end_p50_s": "end-to-end p50",
          "end_to_end_p95_s": "end-to-end p95", "max_pending_files": "most files pending a manifest",
          "max_queue_depth": "deepest queue (visible + in flight)"}


def _s(x) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.0f} s" if abs(x) >= 100 else f"{x:,.1f} s"


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def headline(doc: dict) -> list[str]:
    pr, other = doc["prediction"], doc["compared_with"]
    st = pr["settings"]
    e2e = pr["end_to_end_s"]
    first = pr["first_saturated"]
    lines = [
        f"{pr['profile']} at {pr['multiplier']:g}x of {pr['file_size_bytes'] / 2**20:g} MiB files ({pr['files']:,} files, "
        f"uploads over {_s(pr['uploads_end_s'])}) on AWS with the {st['name']} settings (MaxConcurrentRuns "
        f"{st['max_concurrent_runs'] or 'unlimited'}, {st['files_per_manifest']} files per manifest, MaximumConcurrency "
        f"{st['maximum_concurrency'] or 'not set'}).",
        f"Every full manifest converted by {_s(pr['drain_before_flush_s'])}; the last file by {_s(pr['drain_s'])}"
        + (f" ({pr['files_held_for_flush']:,} files went into partial manifests that the scheduled flush builds once "
           f"their oldest file has waited FLUSH_MAX_WAIT_SECONDS, {st['flush_max_wait_s']:.0f} s)."
           if pr["files_held_for_flush"] else "."),
        f"End-to-end (landed -> in Parquet): p50 {_s(e2e['p50'])}, p95 {_s(e2e['p95'])}, p99 {_s(e2e['p99'])}; "
        f"deepest queue {pr['max_queue_depth']:,} message(s); at most {pr['max_pending_files']:,} files pending a manifest.",
        (f"First to saturate: {first['resource']}, at {_s(first['at_s'])}." if first else
         "Nothing saturates: no work waited a second for any limit."),
        f"Cost of the load: ${pr['cost_usd']:,.4f} (Glue ${_row(pr, 'Glue'):,.4f}); storage is monthly, in sim report.",
        f"With the {other['settings']} settings: every full manifest by {_s(other['drain_before_flush_s'])}, the last file by "
        f"{_s(other['drain_s'])}, p95 {_s(other['end_to_end_s']['p95'])}, ${other['cost_usd']:,.4f}.",
    ]
    return lines


def _row(pr: dict, component: str) -> float:
    return next((r["usd"] for r in pr["cost"]["rows"] if r["component"] == component), 0.0)


def blocks(doc: dict) -> list[tuple]:
    pr, cal = doc["prediction"], doc["calibration"]
    out: list[tuple] = [("h1", f"Predicted on AWS: {pr['profile']} {pr['multiplier']:g}x, {pr['settings']['name']} settings")]
    out.append(("p", doc["verdict"]))
    out.append(("ul", headline(doc)))
    out.append(("chart", "predicted", "Files by stage on AWS"))
    out.append(("chart", "predicted_all", "Files by stage on AWS, until the flush"))  # when the run needs it
    if pr["saturations"]:
        out.append(("h2", "What waited, and for what"))
        out.append(("table", ["Resource", "First at", "Waits over 1 s", "Longest wait"],
                    [[s["resource"], _s(s["at_s"]), f"{s['waits']:,}", _s(s["longest_wait_s"])] for s in pr["saturations"]]))
    out.append(("h2", "Cost of the load"))
    out.append(("table", ["Component", "USD", "Basis"],
                [[r["component"], f"${r['usd']:,.4f}", r["basis"]] for r in pr["cost"]["rows"]]
                + [["Total", f"${pr['cost']['total_usd']:,.4f}", pr["cost"]["note"]]]))
    out.append(("h2", f"Calibration on {cal['run']}"))
    out.append(("p", f"The model replayed the run's {cal['files']:,} landings ({cal['profile']}, "
                     f"{(cal['file_size_bytes'] or 0) / 2**20:g} MiB files) on the embedded engine's limits and the service "
                     "times the run measured, and was read at the run's own sample times. Errors are (model - recorded) / "
                     "recorded."))
    out.append(("table", ["Figure", "Recorded", "Model", "Error", "Tolerance", ""],
                [[LABELS[k], _fig(k, cal["recorded"][k]), _fig(k, cal["model"][k]), _pct(cal["errors"][k]),
                  f"{cal['tolerances'][k]:.0%}", "ok" if k not in cal["misses"] else "MISS"] for k in LABELS]))
    m = cal["measured"]
    out.append(("ul", [
        f"Builder: {m['builder_s_per_call']['p50']:.3f} s per SDK call at the median, {m['builder_s_per_call']['p95']:.3f} s "
        f"at p95 (the engine slows while uploads land); up to {m['builder_invocations_at_once_max']} invocations at once; "
        f"{m['invocation_gap_s'] * 1000:.0f} ms between a worker's invocations; StartExecution {m['start_execution_s'] * 1000:.0f} ms.",
        f"Glue: {m['glue_slots']} slots; start-up {m['glue_startup_s']:.1f} s; {m['glue_mb_per_s']['p50']:.1f} MB/s per run at the "
        f"median ({m['glue_mb_per_s']['min']:.1f}-{m['glue_mb_per_s']['max']:.1f}); polled every {m['poll_s']:g} s.",
        f"The run: {cal['achieved_files_per_s'] or 'n/a'} files/s achieved of {cal['target_files_per_s'] or 'n/a'} "
        f"(limited by: {cal['rate_limited_by'] or 'nothing'}).",
    ]))
    out.append(("chart", "recorded", "Recorded locally"))
    out.append(("chart", "replayed", "The model's replay"))
    if doc.get("sweep"):
        sw = doc["sweep"]
        out.append(("h2", "Sweep: one setting at a time"))
        out.append(("p", f"Moves drain most (last full manifest): {sw['moves_drain_most']}. Moves the last file most: "
                         f"{sw['moves_last_file_most']}. Moves cost most: {sw['moves_cost_most']}."))
        out.append(("table", ["Setting", "Value", "Full manifests by", "Last file by", "Held for flush", "p95", "Cost", "First saturated"],
                    [[r["setting"], "not set" if r["value"] is None else f"{r['value']:g}" + (" (base)" if r["is_base"] else ""),
                      _s(r["drain_before_flush_s"]), _s(r["drain_s"]), f"{r['files_held_for_flush']:,}", _s(r["end_to_end_p95_s"]),
                      f"${r['cost_usd']:,.4f}", r["first_saturated"] or "nothing"] for r in sw["rows"]]))
    w = doc["measured_for_aws"]
    out.append(("h2", "Inputs"))
    out.append(("ul", [f"Converter on AWS: {w['converter_mb_per_s']:.1f} MB/s per run ({w['converter_basis']}).",
                       f"Builder's own time on AWS: {w['builder_batch_own_s'] * 1000:.0f} ms per batch, "
                       f"{w['builder_manifest_own_s'] * 1000:.0f} ms more per manifest, plus each SDK call."]))
    out.append(("table", ["Id", "Value", "Unit", "What", "Status", "Source"],
                [[a["id"], "none" if a["value"] is None else f"{a['value']:g}", a["unit"], a["item"], a["status"], a["source"]]
                 for a in doc["assumptions"]]))
    return out


def _fig(key: str, value) -> str:
    if value is None:
        return "n/a"
    return _s(value) if key.endswith("_s") else f"{value:,}"


def markdown(report_blocks: list[tuple], chart_files: dict[str, str]) -> str:
    return report_render.markdown_of(report_blocks, chart_files)


def html(report_blocks: list[tuple], title: str, svgs: dict[str, str]) -> str:
    return report_render.html_of(report_blocks, title, svgs)


def print_summary(doc: dict) -> None:
    out = console.out
    for line in headline(doc):
        out.print(line, highlight=False)
    cal = doc["calibration"]
    t = Table(title=f"calibration on {cal['run']} (model replay vs recorded)")
    for col in ("figure", "recorded", "model", "error", "tolerance"):
        t.add_column(col)
    for k, label in LABELS.items():
        err = cal["errors"][k]
        style = "green" if k not in cal["misses"] else "red"
        t.add_row(label, _fig(k, cal["recorded"][k]), _fig(k, cal["model"][k]), f"[{style}]{_pct(err)}[/]",
                  f"{cal['tolerances'][k]:.0%}")
    out.print(t)
    if doc.get("sweep"):
        sw = doc["sweep"]
        t = Table(title="sweep (one setting at a time)")
        for col in ("setting", "value", "full manifests by", "last file by", "p95", "cost"):
            t.add_column(col)
        for r in sw["rows"]:
            t.add_row(r["setting"], "not set" if r["value"] is None else f"{r['value']:g}" + (" *" if r["is_base"] else ""),
                      _s(r["drain_before_flush_s"]), _s(r["drain_s"]), _s(r["end_to_end_p95_s"]), f"${r['cost_usd']:,.4f}")
        out.print(t)
        out.print(f"moves drain most: [bold]{sw['moves_drain_most']}[/]; the last file: [bold]{sw['moves_last_file_most']}[/]; "
                  f"cost: [bold]{sw['moves_cost_most']}[/]")
    out.print(doc["verdict"], highlight=False)
    out.print(f"report: {doc['files']['html']}")
    out.print(console.verdict(doc["pass"]))
