"""The report for people: one list of blocks (headings, paragraphs, tables, charts) rendered as
Markdown (charts as links to the SVG files beside it) and as one self-contained HTML page (the
same SVG inline).
"""

from __future__ import annotations

import html as html_mod

from . import fmt

VERDICT_STYLE = {"holds": "ok", "wrong": "bad", "cannot tell": "unk"}


_usd, _pct, _mult = fmt.usd, fmt.pct, fmt.multiple


def _num(x) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    return fmt.sig(x, 3)


def _requests_line(per_file: dict | None) -> list[str]:
    if not per_file or not per_file.get("by_service"):
        return []
    services = ", ".join(f"{s} {_num(n)}" for s, n in per_file["by_service"].items())
    return [f"Requests per landed file by service: {services}."]


CPU_PARTS = (("engine", "Engine (MiniStack: S3, SQS, DynamoDB, Step Functions)"), ("builder", "Builder Lambda"),
             ("converter", "Converter (Glue runs)"), ("validation", "Validation"), ("load_generator", "Load generator (Locust)"),
             ("harness", "sim itself (watching, recording)"))


def cpu_blocks(cpu: dict) -> list[tuple]:
    """The CPU each part of a load run used, sampled from its processes (sim/ops/priority.py), and
    what no process used (older load.json files have neither the last upload's column nor idle)."""
    whole, drained, nice = cpu["whole_run"], cpu.get("until_drained") or {}, cpu.get("nice") or {}
    uploads, idle = cpu.get("until_last_upload") or {}, cpu.get("idle") or {}

    def sec(x) -> str:
        return "not measured" if x is None else f"{x:.1f}"

    rows = [[label, sec(whole.get(part)), sec(drained.get(part)) if drained else "n/a"]
            + ([sec(uploads.get(part))] if uploads else []) + [str(nice.get(part, 0))]
            for part, label in CPU_PARTS if part in whole]
    head = (["Part", "CPU s, whole run", "CPU s, until drained"] + (["CPU s, until the last upload"] if uploads else [])
            + ["Nice"])
    if idle.get("until_last_upload") is not None:
        rows.append(["Idle (no process, all cores)", sec(idle.get("until_verdict")), sec(idle.get("until_drained"))]
                    + ([sec(idle.get("until_last_upload"))] if uploads else []) + [""])
    return [("h3", "CPU by part"),
            ("p", "CPU seconds each part used over the run, sampled from its own processes; the builder, the "
                  "converter and validation ran at a lower priority (a higher nice value) than the engine and the "
                  "load generator, so the front door kept the CPU it needed. Idle is what no process used: little "
                  "idle after the last upload means the drain and the checks were bound by the machine's cores."),
            ("table", head, rows)]


def blocks(r: dict) -> list[tuple]:
    run, cap, cost, claims = r["run"], r["capacity"], r["cost"], r["seed_claims"]
    p = r["inputs"]["params"]
    first = cap["first_bottleneck"]
    ms = r["measured"]
    v = r["verdicts"]
    out: list[tuple] = [("h1", f"Capacity and cost: {run['name']}")]
    pipeline = r.get("pipeline") or {"own": True}
    if not pipeline.get("own", True):
        out.append(("p", f"Pipeline: {pipeline['name']} ({pipeline['path']}), described by its own file: its deployed "
                         "settings are that description's, its work was counted by sim's fault bundle around its code."))
    out.append(("p", f"Measured on a {run['kind']} run of {ms['files_landed']:,} files "
                     f"({ms['bytes_landed'] / 2**20:,.1f} MiB) in {ms['manifests']} manifest(s); validation "
                     f"{'passed' if run['validated'] else 'failed' if run['validated'] is False else 'not recorded'}; "
                     f"engine {run['engine']} when the metrics were collected. Scaled to {p['files_per_day']:,.0f} files/day "
                     f"of {p['file_size_bytes'] / 2**20:g} MiB ({p['peak_hour_files']:,.0f} in the peak hour), "
                     f"{p['batch_size']} files per manifest, Glue runs of {p['glue_run_minutes']:g} min on AWS."))
    out.append(("h2", "Headline"))
    out.append(("ul", [
        f"Monthly cost: {_usd(cost['monthly_total_usd'])} in month {cost['month']} (first month {_usd(cost['month1_total_usd'])}; "
        f"{_usd(cost['with_lifecycle_total_usd'])} in month {cost['month']} with landed files expired after "
        f"{cost['landing_retention_days']} days). The plan says ~$270.",
        f"First to saturate: {first['component']}, {first['limit']}, at {_mult(first['multiple_of_today'])} today's load "
        f"({(first['files_per_day'] or 0):,.0f} files/day). The plan says 600x (4.8M files/day)."
        if first["component"] else "No limit saturates in the model.",
        f"The plan's claims: {v['holds']} hold, {v['wrong']} are wrong, {v['cannot tell']} cannot be told from a local run.",
    ]))
    out.append(("h2", "Capacity"))
    out.append(("p", "Utilization at the peak hour, today and at 600x. Where a quota is a concurrency, the demand is "
                     "Little's law: arrival rate x time in the system."))
    out.append(("h3", "The plan's table beside the model"))
    out.append(("table", ["Component", "Capacity (plan)", "Capacity (model)", "Current use (plan)", "Current use (model)",
                          "Utilization (plan)", "Utilization (model)", "At 600x"],
                [[t["component"], t["plan_capacity"], t["model_capacity"], t["plan_current_use"], t["model_current_use"],
                  t["plan_utilization"], t["model_utilization"], t["model_utilization_600x"]] for t in cap["plan_table"]]))
    out.append(("h3", "Every limit"))
    out.append(("table", ["Component", "Limit", "Quota", "Unit", "Demand at peak", "1x", "600x", "Saturates at", "How"],
                [[row["component"], row["limit"], f"{row['quota']:,g}" if row["quota"] is not None else "none",
                  row["unit"], _num(row["demand"]["1x"]), _pct(row["utilization"]["1x"]), _pct(row["utilization"]["600x"]),
                  _mult(row["saturates_at_multiple"]), row["how"]] for row in cap["rows"]]))
    out.append(("chart", "utilization", "Utilization of each limit"))
    out.append(("h2", f"Cost per month (us-east-1{', free tier applied' if cost['free_tier_applied'] else ', no free tier'})"))
    rows = [[c["component"], _usd(c["plan_usd"]), _usd(c["month1_usd"]), _usd(c["monthly_usd"]), c["basis"]]
            for c in cost["rows"]]
    rows.append(["Total", _usd(cost["plan_total_usd"]), _usd(cost["month1_total_usd"]), _usd(cost["monthly_total_usd"]), ""])
    out.append(("table", ["Component", "Plan", "Model, month 1", f"Model, month {cost['month']}", "Basis"], rows))
    out.append(("chart", "cost", "Monthly cost per component"))
    out.append(("h3", "Optimizations"))
    out.append(("table", ["Optimization", "Plan's saving", "Model's saving", "Valid", "Why"],
                [[o["name"], _usd(o["plan_saving_usd"]), _usd(o["monthly_saving_usd"]),
                  ("yes (deployed)" if o.get("already_applied") else "yes") if o["valid"] else "no", o["note"]]
                 for o in cost["optimizations"]]))
    out.append(("p", f"Valid savings not yet in the bill, together: {_usd(cost['total_valid_saving_usd'])} a month (where two act on the same "
                     f"bill, such as tiering and the lifecycle rule, only the larger counts). The plan says ~$220."))
    load_charts = (("work_by_stage", "Where the work waits, by stage"), ("queue_depth", "Queue depth over time"),
                   ("latency_cdf", "End-to-end latency"))
    cpu = r.get("load_cpu")
    if cpu or any(name in r["files"]["charts"] for name, _ in load_charts):
        out.append(("h2", "Load run"))
        for name, title in load_charts:
            if name in r["files"]["charts"]:
                out.append(("chart", name, title))
        if cpu:
            out += cpu_blocks(cpu)
    out.append(("h2", "The plan's claims"))
    out.append(("table", ["Section", "Claim", "Plan", "Model", "Verdict", "Reason"],
                [[c["section"], c["claim"], _num(c["seed_value"]), _num(c["model_value"]), ("verdict", c["verdict"]),
                  c["reason"] + (" The plan's point still stands." if c.get("conclusion_holds") else "")]
                 for c in claims]))
    out.append(("h2", "Measured work"))
    pf = ms["per_file"]
    aws = ms["aws_side"]
    conv = ms["conversion"]
    out.append(("ul", [
        f"Per landed file: {pf['dynamodb_write_units']} WRU, {pf['dynamodb_read_units']} RRU, {pf['s3_put']} S3 PUT, "
        f"{pf['s3_get']} S3 GET, {pf['sqs_requests']} SQS requests (in this run's batches).",
        f"Builder: {ms['builder']['invocations']} invocations, {ms['builder']['records_per_batch']} records per SQS batch, "
        f"median {_num(ms['builder']['duration_ms']['p50'])} ms, peak memory {_num(ms['builder']['max_rss_mb'])} MB.",
        f"Conversion: {conv['runs']} run(s), mean {_num((conv['duration_ms'] or {}).get('mean'))} ms, "
        f"peak memory {_num(conv['peak_rss_mb'])} MB; Parquet is {ms['parquet_to_ndjson']:.0%} of the NDJSON.",
        f"Workflow: {_num(ms['transitions_per_execution'])} state transitions per execution locally (2 s polling); "
        f"{aws['transitions_per_execution']:.0f} on AWS with {p['poll_seconds']} s polling and {p['glue_run_minutes']:g}-minute runs.",
        f"AWS-side estimates: an SQS batch {aws['batch_ms_1_record']:.0f} ms (1 record) to {aws['batch_ms_10_records']:.0f} ms "
        f"(10); assembling a {p['batch_size']}-file manifest {aws['manifest_ms']:.0f} ms ({p['aws_call_ms']:g} ms per SDK call).",
    ] + _requests_line(ms.get("requests_per_file")) + [f"Assumed: {a}" for a in r["assumed"]]
      + [f"Not measured: {n['figure']}: {n['reason']}" for n in r.get("not_measured", [])]))
    out.append(("h2", "Inputs"))
    out.append(("p", "Overridden: " + (", ".join(r["inputs"]["overridden"]) or "nothing") +
                ". Change any figure with --price ID=VALUE, --quota ID=VALUE or --overrides FILE."))
    out.append(("table", ["Quota", "Value", "Unit", "Status", "Source", "Date"],
                [[q["id"], _num(q["value"]) if q["value"] is not None else "none", q["unit"], q["status"], q["source"], q["date"]]
                 for q in r["inputs"]["quotas"]]))
    out.append(("table", ["Price", "Value", "Unit", "Status", "Source", "Date"],
                [[q["id"], f"{q['value']:g}", q["unit"], q["status"], q["source"], q["date"]] for q in r["inputs"]["prices"]]))
    return out


def _md_cell(c) -> str:
    if isinstance(c, tuple):
        c = c[1].upper()
    return str(c).replace("|", "\\|").replace("\n", " ")


def markdown(r: dict, chart_files: dict[str, str]) -> str:
    return markdown_of(blocks(r), chart_files)


def markdown_of(report_blocks: list[tuple], chart_files: dict[str, str]) -> str:
    """Blocks (headings, paragraphs, lists, tables, charts) as Markdown; charts link their SVG files."""
    lines = []
    for b in report_blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            lines += ["#" * int(kind[1]) + " " + b[1], ""]
        elif kind == "p":
            lines += [b[1], ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in b[1]] + [""]
        elif kind == "table":
            lines.append("| " + " | ".join(b[1]) + " |")
            lines.append("|" + "---|" * len(b[1]))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b[2]]
            lines.append("")
        elif kind == "chart" and b[1] in chart_files:
            lines += [f"![{b[2]}]({chart_files[b[1]]})", ""]
    return "\n".join(lines)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem;font-size:.88rem}
th,td{border:1px solid #dde1e6;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f5f7}tr:nth-child(even) td{background:#fafbfc}
.ok{color:#1e7b34;font-weight:600}.bad{color:#b3261e;font-weight:600}.unk{color:#8a6d00;font-weight:600}
figure{margin:1rem 0}figcaption{color:#666;font-size:.85rem}
"""


def _html_cell(c) -> str:
    if isinstance(c, tuple):
        return f'<span class="{VERDICT_STYLE.get(c[1], "")}">{html_mod.escape(c[1])}</span>'
    return html_mod.escape(str(c))


def html_page(r: dict, svgs: dict[str, str]) -> str:
    return html_of(blocks(r), f"{r['run']['name']}: capacity and cost", svgs)


def html_of(report_blocks: list[tuple], title: str, svgs: dict[str, str]) -> str:
    """Blocks as one self-contained HTML page, the charts' SVG inline."""
    esc = html_mod.escape
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"]
    for b in report_blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            parts.append(f"<{kind}>{esc(b[1])}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{esc(b[1])}</p>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in b[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{esc(h)}</th>" for h in b[1])
            body = "".join("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>" for row in b[2])
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "chart" and b[1] in svgs:
            parts.append(f"<figure>{svgs[b[1]]}<figcaption>{esc(b[2])}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
