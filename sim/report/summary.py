"""The terminal summary of a report (rich): headline, the plan's table beside the model's, the bill,
the optimizations, and the claims with their verdicts. The files hold the full detail.
"""

from __future__ import annotations

from rich.table import Table

from sim.core import console

from . import fmt

STYLE = {"holds": "green", "wrong": "red", "cannot tell": "yellow"}


def print_summary(r: dict) -> None:
    out = console.out
    cap, cost = r["capacity"], r["cost"]
    first = cap["first_bottleneck"]
    pipeline = r.get("pipeline") or {"own": True}
    of = "" if pipeline.get("own", True) else f" of the pipeline {pipeline['name']}"
    out.print(f"[bold]{r['run']['name']}[/] ({r['run']['kind']}{of}, {r['measured']['files_landed']:,} files) scaled to "
              f"{cap['load']['files_per_day']:,.0f} files/day, peak hour {cap['load']['peak_hour_files']:,.0f}")

    t = Table(title="capacity: the plan's table beside the model (peak hour)")
    for col in ("component", "capacity (plan)", "capacity (model)", "use (plan)", "use (model)", "util (plan)", "util (model)", "at 600x"):
        t.add_column(col)
    for row in cap["plan_table"]:
        t.add_row(row["component"], row["plan_capacity"], row["model_capacity"], row["plan_current_use"],
                  row["model_current_use"], row["plan_utilization"], row["model_utilization"], row["model_utilization_600x"])
    out.print(t)
    t = Table(title="first limits to saturate")
    for col in ("component", "limit", "1x", "600x", "saturates at"):
        t.add_column(col)
    by = {(x["component"], x["limit"]): x for x in cap["rows"]}
    for rank in cap["ranking"][:5]:
        x = by[(rank["component"], rank["limit"])]
        t.add_row(x["component"], x["limit"], fmt.pct(x["utilization"]["1x"]), fmt.pct(x["utilization"]["600x"]),
                  fmt.multiple(x["saturates_at_multiple"]))
    out.print(t)

    t = Table(title=f"monthly cost (month {cost['month']}; first month in brackets)")
    for col in ("component", "plan", "model"):
        t.add_column(col, justify="right" if col != "component" else "left")
    for row in cost["rows"]:
        t.add_row(row["component"], fmt.usd(row["plan_usd"]), f"{fmt.usd(row['monthly_usd'])} ({fmt.usd(row['month1_usd'])})")
    t.add_row("[bold]total[/]", fmt.usd(cost["plan_total_usd"]),
              f"[bold]{fmt.usd(cost['monthly_total_usd'])}[/] ({fmt.usd(cost['month1_total_usd'])})")
    out.print(t)
    t = Table(title="optimizations")
    for col in ("optimization", "plan", "model", "valid"):
        t.add_column(col)
    for o in cost["optimizations"]:
        t.add_row(o["name"], fmt.usd(o["plan_saving_usd"]), fmt.usd(o["monthly_saving_usd"]),
                  "[green]yes[/]" if o["valid"] else "[red]no[/]")
    out.print(t)

    t = Table(title="the plan's claims")
    for col in ("claim", "plan", "model", "verdict"):
        t.add_column(col)
    for c in r["seed_claims"]:
        t.add_row(c["claim"], _value(c["seed_value"], c["unit"]), _value(c["model_value"], c["unit"]),
                  f"[{STYLE[c['verdict']]}]{c['verdict']}[/]")
    out.print(t)
    v = r["verdicts"]
    out.print(f"monthly total [bold]{fmt.usd(cost['monthly_total_usd'])}[/] in month {cost['month']} "
              f"({fmt.usd(cost['month1_total_usd'])} in month 1) vs the plan's ~$270; first bottleneck "
              f"[bold]{first['component']} {first['limit']}[/] at [bold]{fmt.multiple(first['multiple_of_today'])}[/] "
              f"vs the plan's 600x; claims: {v['holds']} hold, {v['wrong']} wrong, {v['cannot tell']} cannot tell")
    for n in r.get("not_measured", []):
        out.print(f"[yellow]not measured[/]: {n['figure']}: {n['reason']}", highlight=False)
    out.print(f"report: {r['files']['report_html']}")


def _value(v, unit: str) -> str:
    if v is None:
        return "n/a"
    text = v if isinstance(v, str) else fmt.sig(v, 3)
    return f"${text}" if unit.startswith("USD") and not isinstance(v, str) else f"{text}{unit if unit == '%' else ''}"


def print_ids(rows: dict) -> None:
    """One line per id: value and unit, then status, source and date (narrow terminals stay readable)."""
    for kind in ("prices", "quotas"):
        console.out.print(f"[bold]{kind}[/]")
        for row in rows[kind]:
            v = row["value"]
            value = "none" if v is None else f"{v:.10f}".rstrip("0") if 0 < abs(v) < 0.001 else f"{v:,.10g}"
            console.out.print(f"  [cyan]{row['id']}[/] = {value} {row['unit']}  [dim]({row['status']}; {row['source']}; {row['date']})[/]",
                         highlight=False, soft_wrap=True)
