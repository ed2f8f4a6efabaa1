"""Tables for people (rich) and the bench's markdown report. Machines read the JSON instead."""

from __future__ import annotations

from rich.table import Table

from sim.load.stalls import describe
from sim.workload.sizes import format_size


def _ms(p: dict) -> str:
    return " / ".join("-" if p.get(k) is None else f"{p[k]:.0f}" for k in ("p50", "p95", "p99"))


def _s(p: dict) -> str:
    return " / ".join("-" if p.get(k) is None else f"{p[k]:.1f}" for k in ("p50", "p95", "p99"))


def load_table(r: dict) -> Table:
    verdict = "[bold green]PASS[/]" if r["pass"] else "[bold red]FAIL[/]"
    table = Table(title=f"load {r['profile']}: {verdict}", show_header=False)
    table.add_column("measure", style="bold")
    table.add_column("value")
    table.add_row("target rate", f"{r['target_files_per_s']:.2f} files/s")
    table.add_row("achieved rate", f"{r['achieved_files_per_s']:.2f} files/s ({r['rate_ratio']:.1%} of target)")
    table.add_row("peak window", peak_text(r))
    table.add_row("files", f"{r['files_uploaded']} uploaded of {r['files_scheduled']} scheduled, "
                           f"{r['upload_failures']} failed, {format_size(r['file_size_bytes'])} each")
    table.add_row("upload latency p50/p95/p99", _ms(r["upload_ms"]) + " ms")
    table.add_row("start lateness p50/p95/p99", " / ".join(
        "-" if r["lateness_s"].get(k) is None else f"{r['lateness_s'][k]:.2f}" for k in ("p50", "p95", "p99")) + " s")
    table.add_row("end to end p50/p95/p99", _s(r["end_to_end_s"]) + " s (landed -> in Parquet)")
    table.add_row("deepest queue", f"{r['max_queue_depth']} messages (DLQ max {r['max_dlq_depth']})")
    table.add_row("most pending files", str(r["max_pending_files"]))
    table.add_row("drain after last upload", f"{r['drain_after_last_upload_s']:.1f} s")
    if r.get("verdict_after_last_upload_s") is not None:
        table.add_row("verdict after last upload", f"{r['verdict_after_last_upload_s']:.1f} s (the drain, then validation)")
    table.add_row("longest stall", stall_text(r))
    timeouts = r.get("builder_timeouts")
    table.add_row("builder timeouts", "not counted (no engine log)" if timeouts is None else str(timeouts))
    if r.get("raw_put_ceiling_files_per_s"):
        table.add_row("raw PUT ceiling", f"{r['raw_put_ceiling_files_per_s']:.1f} files/s (measured before the load)")
    sizing = r.get("users_sizing") or {}
    if sizing:
        table.add_row("Locust users", f"{sizing['start']} at the start, {sizing['max']} at most (cap {sizing['limit']}), "
                                      f"{sizing['peak_in_flight']} busy at once at most")
    if r.get("rate_limited_by"):
        table.add_row("rate limited by", r["rate_limited_by"])
    if r.get("cpu_s"):
        table.add_row("CPU seconds by part", cpu_text(r["cpu_s"], r.get("cpu_nice") or {}))
        if r.get("cpu_s_until_last_upload"):
            table.add_row("  of which until the last upload", cpu_text(r["cpu_s_until_last_upload"], {}))
        if r.get("cpu_s_until_drained"):
            table.add_row("  of which until drained", cpu_text(r["cpu_s_until_drained"], {}))
        idle = r.get("cpu_idle_s") or {}
        if idle.get("until_last_upload") is not None:
            table.add_row("machine idle (all cores)", idle_text(idle))
    return table


CPU_LABELS = {"engine": "engine", "builder": "builder", "converter": "converter", "validation": "validation",
              "load_generator": "load generator", "harness": "sim itself"}


def cpu_text(cpu: dict, nice: dict) -> str:
    """`engine 41.2 s, builder 5.1 s (nice 5), ...`: the CPU each part used (sim/ops/priority.py)."""
    def one(part: str) -> str:
        value = cpu.get(part)
        shown = "not measured" if value is None else f"{value:.1f} s"
        early = nice.get(f"{part}_while_draining")
        niced = f" (nice {nice[part]}" + (f", {early} while the run drains)" if early else ")") if nice.get(part) else ""
        return f"{CPU_LABELS[part]} {shown}{niced}"
    return ", ".join(one(p) for p in CPU_LABELS if p in cpu)


def idle_text(idle: dict) -> str:
    """What no process used, cumulative: a run CPU-bound after its uploads shows little growth there."""
    marks = (("until_last_upload", "until the last upload"), ("until_drained", "until drained"),
             ("until_verdict", "until the verdict"))
    return ", ".join(f"{idle[k]:.1f} s {label}" for k, label in marks if idle.get(k) is not None)


def peak_text(r: dict) -> str:
    """The peak window's figure and verdict (sim/load/peak.py); older load.json files carry only the figures."""
    p = r.get("peak_window")
    if not p:
        return f"{r['peak_window_achieved_files_per_s']:.2f} of {r['peak_window_target_files_per_s']:.2f} files/s"
    lo, hi = p["window_s"]
    held = ("the raw PUT ceiling" if p["limit"] == "raw_put_ceiling" else "its target")
    mark = "[green]reached[/]" if p["pass"] else "[red]missed[/]"
    return (f"{p['achieved_files_per_s']:.2f} of {p['target_files_per_s']:.2f} files/s ({lo:.0f}-{hi:.0f} s); "
            f"{mark} {p['required_files_per_s']:.2f} (95% of {held}, {p['limit_files_per_s']:.2f})")


def stall_text(r: dict) -> str:
    stall = r.get("longest_stall") or {"seconds": r.get("longest_stall_s", 0)}
    return describe(stall) if stall.get("seconds") else "none (something moved every sample while work was in hand)"


def bench_table(r: dict) -> Table:
    table = Table(title="bench (" + format_size(r["file_size_bytes"]) + " files)", show_header=False)
    table.add_column("measure", style="bold")
    table.add_column("value")
    for label, value in bench_rows(r):
        table.add_row(label, value)
    return table


def bench_rows(r: dict) -> list[tuple[str, str]]:
    rows = [
        ("raw S3 PUT ceiling", f"{r['raw_put_ceiling_files_per_s']:.1f} files/s ({r['raw_put_ceiling_mb_per_s']:.1f} MB/s)"),
        ("converter (standalone)", f"{r['converter_mb_per_s']:.1f} MB/s, peak RSS {r['converter_peak_rss_mb']:.0f} MB "
                                   f"for a manifest of {r['converter']['files']} files"),
        ("pyarrow baseline (same files)", _baseline(r)),
        ("sustained end to end", f"{r['sustained_files_per_s']:.2f} files/s = "
                                 f"{r['sustained_multiple_of_production']:.0f}x production"),
        ("ratio to the ceiling", f"{r['ratio_to_ceiling']:.2f}"),
        ("validation", _validation(r)),
    ]
    for step in r["steps"]:
        rows.append((f"  step {step['multiple']:.0f}x", f"{'kept up' if step['sustained'] else 'fell behind'}: "
                     f"{step['achieved_files_per_s']:.2f}/{step['target_files_per_s']:.2f} files/s, "
                     f"drained {step['drain_after_last_upload_s']:.1f} s after the last upload"
                     + (f" ({step['why']})" if step.get("why") else "")))
    per = r["requests_per_file"]
    services = ", ".join(f"{k} {v}" for k, v in per.get("by_service", {}).items())
    rows.append(("requests per file", services))
    return rows


def _baseline(r: dict) -> str:
    base = (r.get("converter") or {}).get("baseline") or {}
    if not r.get("converter_baseline_mb_per_s"):
        return "not measured"
    ratio = r.get("converter_ratio_to_baseline")
    return (f"{r['converter_baseline_mb_per_s']:.1f} MB/s, peak RSS {base.get('peak_rss_mb', 0):.0f} MB; "
            f"the converter runs at {ratio:.2f} of it" if ratio is not None else "-")


def _validation(r: dict) -> str:
    v = r.get("validation")
    if not v or r.get("validation_ratio_to_baseline") is None:
        return "not measured"
    return (f"{r['validation_s']:.1f} s for {v['records']:,} records = {r['validation_ratio_to_baseline']:.2f}x "
            f"a plain read-and-parse of the same data ({r['validation_baseline_s']:.1f} s, {v['workers']} processes)")


def bench_markdown(r: dict) -> str:
    size = format_size(r["file_size_bytes"])
    lines = [
        f"# Bench: {size} files",
        "",
        f"Run `{r['run_dir']}`, engine {r.get('target')} at {r.get('endpoint')}. "
        f"Verdict: {'PASS' if r['pass'] else 'FAIL'}.",
        "",
        f"**Headline:** the pipeline sustained **{r['sustained_multiple_of_production']:.0f}x production** "
        f"({r['sustained_files_per_s']:.2f} files/s of {size}) end to end with nothing lost; "
        f"that is **{r['ratio_to_ceiling']:.2f}** of the engine's raw S3 PUT ceiling "
        f"({r['raw_put_ceiling_files_per_s']:.1f} files/s).",
        "",
        f"**Converter:** {r['converter_mb_per_s']:.1f} MB/s standalone (peak RSS {r['converter_peak_rss_mb']:.0f} MB), "
        + (f"**{r['converter_ratio_to_baseline']:.2f}** of a plain pyarrow read-and-write of the same files "
           f"({r['converter_baseline_mb_per_s']:.1f} MB/s, peak RSS {r.get('converter_baseline_peak_rss_mb') or 0:.0f} MB)."
           if r.get("converter_ratio_to_baseline") is not None else "no baseline measured."),
        "",
        "| measure | value |",
        "|---|---|",
    ]
    lines += [f"| {label.strip()} | {value} |" for label, value in bench_rows(r)]
    lines += ["", "## Requests per file", "", "| service / operation | per file | source |", "|---|---|---|"]
    per = r["requests_per_file"]
    for key, value in per.get("by_operation", {}).items():
        lines.append(f"| {key} | {value} | {per.get('sources', {}).get(key, 'measured')} |")
    lines += ["", "## Steps", "", "| multiple | target files/s | achieved | drain after last upload s | longest stall s "
              "| builder timeouts | sustained | why |", "|---|---|---|---|---|---|---|---|"]
    for s in r["steps"]:
        timeouts = s.get("builder_timeouts")
        lines.append(f"| {s['multiple']:.0f}x | {s['target_files_per_s']:.2f} | {s['achieved_files_per_s']:.2f} | "
                     f"{s['drain_after_last_upload_s']:.1f} | {s.get('longest_stall_s', 0):.0f} | "
                     f"{'-' if timeouts is None else timeouts} | {'yes' if s['sustained'] else 'no'} | {s.get('why') or ''} |")
    if r.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in r["notes"]]
    return "\n".join(lines) + "\n"
