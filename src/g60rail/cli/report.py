"""``report.html``: one self-contained page about a run, to mail to a decision maker.

The page holds the headline KPIs, every figure of the run (PNG images embedded as data
URIs: no file beside it is needed, nothing is fetched), the calibration table (the run
against the published figures the baseline is calibrated to), the scenario's changes from
its base (and the ``--set`` overrides), and the run's manifest.  It has no script, so it
opens the same in any browser and mail client.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping
from html import escape
from typing import Any

import pandas as pd

from g60rail.result import Result
from g60rail.scenario.schema import Scenario

__all__ = ["FIGURE_TITLES", "build_report", "changes_from"]

FIGURE_TITLES: dict[str, str] = {
    "summary.png": "The run on one page",
    "train_graph.png": "Train graph",
    "corridor_map.png": "The corridor",
    "teu_per_day.png": "TEU per day",
    "cumulative_teu.png": "Cumulative TEU",
    "yard_gate.png": "Yard and gate at the hub",
    "utilization.png": "Resource utilisation",
    "transit.png": "Transit times",
    "dwell.png": "Yard dwell",
    "station_hourly.png": "HSR station: passengers by hour",
    "station_wait_heatmap.png": "HSR station: security waits",
    "station_hall.png": "HSR station: waiting hall",
}
"""Captions of the figures ``g60rail run`` draws, in the order the page shows them."""

_MAX_CHANGES = 400  # rows of the changes table; a longer list is cut with a note

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2733;
       max-width: 1180px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom:
  1px solid #d5dbe3; padding-bottom: .2em; }
.lead { color: #4a5868; margin-top: 0; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #d5dbe3; padding: .25em .6em; text-align: left;
         vertical-align: top; }
th { background: #f1f4f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.ok { color: #17702f; font-weight: 600; } td.off { color: #b3261e; font-weight: 600; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto;
  border: 1px solid #e3e7ed; } figcaption { color: #4a5868; font-size: .9em; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: .82em; }
code { font-size: .92em; }
"""


def _fmt(value: Any, unit: str = "") -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if unit == "%":
            return f"{100 * value:.1f}"
        if abs(value) >= 100 or value.is_integer():
            return f"{value:,.0f}"
        return f"{value:,.2f}"
    return str(value)


def _show(value: Any, limit: int = 120) -> str:
    """A scenario value as the changes table shows it (JSON, cut to ``limit``)."""
    if value is _ABSENT:
        return "(not there)"
    if isinstance(value, Mapping) and len(json.dumps(value, default=str)) > limit:
        return f"(a table of {len(value)} keys)"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ABSENT = object()


def changes_from(base: Scenario, scenario: Scenario) -> list[tuple[str, Any, Any]]:
    """``(dotted key, value in base, value in scenario)`` for every value that differs,
    ``meta`` included; a table one side lacks is one row (its whole value), and a missing
    side is :data:`_ABSENT`."""
    rows: list[tuple[str, Any, Any]] = []

    def walk(a: Any, b: Any, key: str) -> None:
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for k in sorted(a.keys() | b.keys(), key=str):
                walk(a.get(k, _ABSENT), b.get(k, _ABSENT), f"{key}.{k}" if key else str(k))
        elif a != b:
            rows.append((key, a, b))

    walk(base.to_dict(), scenario.to_dict(), "")
    return rows


def _table(head: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    """An HTML table; cells are HTML already (escape them first)."""
    cls = classes or [""] * len(head)
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="{c}">{cell}</td>' if c else f"<td>{cell}</td>"
            for cell, c in zip(row, cls, strict=True)
        )
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kpi_section(kpis: Mapping[str, float]) -> str:
    from g60rail.plot.summary import HEADLINE_KPIS

    rows = [
        [escape(label), _fmt(float(kpis[k]), unit), escape(unit), f"<code>{escape(k)}</code>"]
        for k, label, unit in HEADLINE_KPIS
        if k in kpis
    ]
    rows += [
        [escape(k.split(".", 1)[1].replace("_", " ")), _fmt(float(v)), "", f"<code>{k}</code>"]
        for k, v in sorted(kpis.items())
        if k.startswith("disruption.")
    ]
    created = kpis.get("freight.teu_created", math.nan)
    balance = kpis.get("freight.teu_delivered", math.nan) + kpis.get(
        "freight.teu_in_system_end", math.nan
    )
    if math.isfinite(created) and math.isfinite(balance):
        ok = "holds" if abs(created - balance) < 1e-6 else "VIOLATED"
        rows.append(["booked = delivered + still in the system", ok, "", ""])
    table = _table(["indicator", "value", "unit", "KPI"], rows, ["", "num", "", ""])
    return f"<h2>Headline KPIs</h2>{table}<p>Every KPI of the run is in kpis.json.</p>"


def _figure_section(figures: Mapping[str, bytes]) -> str:
    order = [n for n in FIGURE_TITLES if n in figures] + sorted(
        n for n in figures if n not in FIGURE_TITLES
    )
    parts = ["<h2>Figures</h2>"]
    for name in order:
        data = base64.b64encode(figures[name]).decode("ascii")
        title = FIGURE_TITLES.get(name, name)
        parts.append(
            f'<figure id="{escape(name)}"><img src="data:image/png;base64,{data}" '
            f'alt="{escape(title)}" data-file="{escape(name)}">'
            f"<figcaption>{escape(title)} ({escape(name)})</figcaption></figure>"
        )
    return "".join(parts)


def _calibration_section(table: pd.DataFrame | None) -> str:
    head = "<h2>Calibration</h2>"
    if table is None or not len(table):
        return head + "<p>No calibration table for this run.</p>"
    rows = []
    classes = ["", "num", "num", "", "", ""]
    for r in table.to_dict("records"):
        value, unit = float(r["value"]), str(r["unit"])
        shown = "n/a" if not math.isfinite(value) else f"{value:,.1f} {unit}"
        rows.append(
            [
                escape(str(r["quantity"])),
                escape(shown),
                escape(f"{float(r['low']):,.0f}–{float(r['high']):,.0f} {unit}"),
                "ok" if r["ok"] else "OFF",
                escape(str(r["target"])),
                escape(str(r["source"])),
            ]
        )
    table_html = _table(
        ["quantity", "simulated", "accepted", "", "published target", "source"], rows, classes
    )
    table_html = table_html.replace('<td class="">ok</td>', '<td class="ok">ok</td>').replace(
        '<td class="">OFF</td>', '<td class="off">OFF</td>'
    )
    n_ok = int(table["ok"].sum())
    return (
        f"{head}<p class='lead'>This run against the published figures the packaged baseline "
        f"is calibrated to: {n_ok} of {len(table)} targets met.</p>{table_html}"
    )


def _changes_section(
    scenario: Scenario,
    base: Scenario | None,
    base_label: str | None,
    overrides: Mapping[str, Any],
    base_error: str | None,
) -> str:
    parts = ["<h2>Changes from the base scenario</h2>"]
    chain = " ← ".join(scenario.base_chain)
    if chain:
        parts.append(f"<p class='lead'>Resolved from {escape(chain)}.</p>")
    if base is not None:
        rows = changes_from(base, scenario)
        shown = [
            [f"<code>{escape(k)}</code>", escape(_show(a)), escape(_show(b))]
            for k, a, b in rows[:_MAX_CHANGES]
        ]
        parts.append(
            f"<p>{len(rows)} key{'s' if len(rows) != 1 else ''} differ from the base "
            f"{escape(base_label or '')} (overrides included):</p>"
        )
        parts.append(_table(["key", "base", "this run"], shown))
        if len(rows) > _MAX_CHANGES:
            parts.append(f"<p>… and {len(rows) - _MAX_CHANGES} more.</p>")
    elif base_error is not None:
        parts.append(f"<p>The base could not be read again: {escape(base_error)}</p>")
    else:
        parts.append("<p>This scenario has no base: every value is its own.</p>")
    if overrides:
        rows_o = [[f"<code>{escape(k)}</code>", escape(_show(v))] for k, v in overrides.items()]
        parts.append("<p>Overrides given on the command line (<code>--set</code>):</p>")
        parts.append(_table(["key", "value"], rows_o))
    return "".join(parts)


def _manifest_section(manifest: Mapping[str, Any]) -> str:
    shown = {k: v for k, v in manifest.items() if k != "scenario_data"}
    text = json.dumps(shown, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    parts = [
        "<h2>Manifest</h2>",
        "<p class='lead'>Everything needed to run it again: <code>g60rail run "
        "--from-manifest manifest.json --out DIR</code> gives the same kpis.json.</p>",
        f"<pre>{escape(text)}</pre>",
    ]
    if "scenario_data" in manifest:
        data = json.dumps(manifest["scenario_data"], indent=2, sort_keys=True, default=str)
        parts.append(
            "<details><summary>The resolved scenario (scenario_data)</summary>"
            f"<pre>{escape(data)}</pre></details>"
        )
    return "".join(parts)


def build_report(
    result: Result,
    scenario: Scenario,
    figures: Mapping[str, bytes],
    *,
    manifest: Mapping[str, Any] | None = None,
    calibration: pd.DataFrame | None = None,
    base: Scenario | None = None,
    base_error: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> bytes:
    """The page ``report.html`` of a run, as UTF-8 bytes.

    Parameters
    ----------
    result
        The run.
    scenario
        The scenario that was run (overrides applied).
    figures
        PNG images by file name (:func:`g60rail.plot.summary.render_run_figures`).
    manifest
        The manifest as saved (default: ``result.manifest``).
    calibration
        :func:`g60rail.experiment.calibration.calibration_table` of the run.
    base
        The scenario's base, resolved (``None`` when it has none).
    base_error
        Why the base could not be read, when it could not.
    overrides
        The ``--set`` overrides.
    """
    m = dict(manifest if manifest is not None else result.manifest)
    meta = scenario.meta
    days = float(m.get("days", math.nan))
    end = meta.start + dt.timedelta(days=days) if math.isfinite(days) else None
    title = f"g60rail run: {meta.name}"
    when = f"{days:g} days from {meta.start:%Y-%m-%d %H:%M}" + (
        f" to {end:%Y-%m-%d %H:%M}" if end is not None else ""
    )
    lead = (f"{escape(meta.description)}<br>" if meta.description else "") + escape(
        f"{when} · seed {m.get('seed', '?')} · scenario hash {m.get('scenario_hash', '?')} "
        f"· g60rail {m.get('g60rail_version', '?')}"
    )
    body = "".join(
        [
            f"<h1>{escape(title)}</h1><p class='lead'>{lead}</p>",
            _kpi_section(result.kpis),
            _figure_section(figures),
            _calibration_section(calibration),
            _changes_section(
                scenario,
                base,
                scenario.base_chain[1] if len(scenario.base_chain) > 1 else None,
                overrides or {},
                base_error,
            ),
            _manifest_section(m),
        ]
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    return page.encode("utf-8")
