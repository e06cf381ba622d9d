"""More hostile input (issue 13): types, sizes, special files, dates, output folders,
manifests and options.  Each case exits 2 with one message naming the field or the file
and the value; none prints a traceback.  (Interruption, status 130: see
``tests/test_cli_robust.py::test_ctrl_c_during_a_long_run``.)

Scenario files are the packaged baseline, parsed, with one thing changed and written
back (:class:`tests.hostile.cases.DataCase`), or generated here; nothing is committed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w

from g60rail.cli import main
from g60rail.scenario.io import LIMITS, MAX_FILE_BYTES
from tests.hostile.cases import DataCase, Insert, Set, baseline_data

FREIGHT = "daily_2025"


def _file(name: str, *steps: Set | Insert) -> Callable[[Path], str]:
    """A scenario file: the baseline with ``steps`` applied."""

    def make(folder: Path) -> str:
        case = DataCase(name=name, doc=name, steps=steps, fields={"x": None})
        return str(case.write(folder))

    return make


def _services(n: int, departures: list[str], teu: float) -> Callable[[Path], str]:
    """The baseline with ``n`` copies of its G60 service (each ``departures``, ``teu``)."""

    def make(folder: Path) -> str:
        data = baseline_data()
        g60 = data["services"]["g60"]
        g60 = {**g60, "departures": departures, "demand": {**g60["demand"], "teu_per_week": teu}}
        g60.pop("train_sets", None)  # the copies have no return service for their sets
        g60.pop("empties", None)  # nor for their empty boxes
        data["services"] = {f"s{i}": g60 for i in range(n)}
        path = folder / f"services_{n}.toml"
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        return str(path)

    return make


def _huge(folder: Path) -> str:
    path = folder / "huge.toml"
    text = tomli_w.dumps(baseline_data())
    padding = ("# " + "x" * 98 + "\n") * (MAX_FILE_BYTES // 100 + 10)
    path.write_text(padding + text, encoding="utf-8")
    return str(path)


def _fifo(folder: Path) -> str:
    path = folder / "pipe.toml"
    os.mkfifo(path)
    return str(path)


def _socket(folder: Path) -> str:
    here = os.getcwd()
    os.chdir(folder)  # a relative name: socket paths are limited to about 100 bytes
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind("socket.toml")
        sock.close()
    finally:
        os.chdir(here)
    return str(folder / "socket.toml")


def _manifest(content: str | dict | None) -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        path = folder / "manifest.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return make


def _edited_manifest(folder: Path) -> str:
    from g60rail import load_scenario

    sc = load_scenario(FREIGHT)
    data = sc.to_dict()
    data["hub"]["reach_stackers"] = 9
    m = {"scenario_data": data, "scenario_hash": sc.hash, "days": 2.0, "seed": 0}
    return _manifest({**m, "warmup_days": 0.0})(folder)


def _run_folder(folder: Path) -> str:
    out = folder / "taken"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"scenario": "baseline", "days": 30.0}))
    (out / "kpis.json").write_text("{}")
    return str(out)


def _sweep_folder(folder: Path) -> str:
    out = folder / "swept"
    out.mkdir()
    (out / "sweep.json").write_text(json.dumps({"scenario": "baseline", "seed": 99}))
    (out / "runs.jsonl").write_text("")
    return str(out)


@dataclass(frozen=True)
class Hostile:
    """One hostile invocation: ``argv`` with ``{x}`` replaced by what ``make`` returns
    (a file or a folder it made in the test's folder); the one-line message must name
    ``{x}`` (when ``names_x``) and contain every part of ``expect``."""

    name: str
    argv: tuple[str, ...]
    expect: tuple[str, ...]
    make: Callable[[Path], str] | None = None
    names_x: bool = True


JAN = "2025-01-06T00:00:00"
CLOSURE_2300 = {
    "kind": "border",
    "where": ["mohan"],
    "start": dt.datetime(2300, 1, 1),
    "end": dt.datetime(2300, 1, 2),
}

CASES: tuple[Hostile, ...] = (
    # --- types: booleans and quoted numbers are not numbers (files and overrides) -------
    Hostile(
        "file_count_true",
        ("validate", "{x}"),
        ("field 'hub.reach_stackers' value True", "a boolean"),
        _file("count_true", Set("hub.reach_stackers", True)),
    ),
    Hostile(
        "file_count_quoted",
        ("validate", "{x}"),
        ("field 'hub.reach_stackers' value '4'", "text"),
        _file("count_quoted", Set("hub.reach_stackers", "4")),
    ),
    Hostile(
        "file_capacity_false",
        ("validate", "{x}"),
        ("field 'services.g60.capacity_teu' value False",),
        _file("capacity_false", Set("services.g60.capacity_teu", False)),
    ),
    Hostile(
        "file_rate_true",
        ("validate", "{x}"),
        ("field 'hub.moves_per_h' value True",),
        _file("rate_true", Set("hub.moves_per_h", True)),
    ),
    Hostile(
        "file_distribution_mean_true",
        ("validate", "{x}"),
        ("field 'hub.dwell_h.mean' value True",),
        _file("dist_true", Set("hub.dwell_h", {"dist": "lognormal", "mean": True, "cv": 0.5})),
    ),
    Hostile(
        "file_tracks_quoted",
        ("validate", "{x}"),
        ("field 'lines.china_laos.stations.6.tracks' value '3'",),
        _file("tracks_quoted", Set("lines.china_laos.stations.6.tracks", "3")),
    ),
    Hostile(
        "set_count_true",
        ("run", "baseline", "--days", "1", "--set", "hub.reach_stackers=true", "--out", "{x}"),
        ("baseline (packaged):", "field 'hub.reach_stackers' value True"),
        lambda f: str(f / "o"),
        names_x=False,
    ),
    Hostile(
        "set_count_quoted",
        ("run", "baseline", "--days", "1", "--set", 'hub.reach_stackers="4"', "--out", "{x}"),
        ("baseline (packaged):", "field 'hub.reach_stackers' value '4'"),
        lambda f: str(f / "o"),
        names_x=False,
    ),
    Hostile(
        "set_officers_list",
        ("run", "baseline", "--days", "1", "--set", "borders.mohan.officers=[2]", "--out", "{x}"),
        ("field 'borders.mohan.officers' value [2]",),
        lambda f: str(f / "o"),
        names_x=False,
    ),
    # --- sizes -------------------------------------------------------------------------
    Hostile(
        "file_over_5_mb",
        ("validate", "{x}"),
        ("file too large", f"{MAX_FILE_BYTES:,} bytes"),
        _huge,
    ),
    Hostile(
        "too_many_services",
        ("validate", "{x}"),
        ("field 'services'", f"{LIMITS['services'] + 1:,} freight services", "at most 200"),
        _services(LIMITS["services"] + 1, ["Mon 10:00"], 10.0),
    ),
    Hostile(
        "too_many_departures",
        ("validate", "{x}"),
        ("field 'services'", "train departures a week, at most 3,000"),
        _services(50, [f"daily {h:02d}:00" for h in range(10)], 10.0),
    ),
    Hostile(
        "too_much_demand",
        ("run", "{x}", "--days", "1", "--out", "{x}.out"),
        ("field 'services'", "300,000 TEU booked a week", "at most 250,000"),
        _services(3, ["Mon 10:00"], 100_000.0),
    ),
    # --- special files -----------------------------------------------------------------
    Hostile(
        "dev_zero",
        ("validate", "{x}"),
        ("not a regular file", "a character device"),
        lambda f: "/dev/zero",
    ),
    Hostile(
        "named_pipe",
        ("run", "{x}", "--days", "1", "--out", "{x}.out"),
        ("not a regular file", "a named pipe"),
        _fifo,
    ),
    Hostile("unix_socket", ("validate", "{x}"), ("not a regular file", "a socket"), _socket),
    # --- dates -------------------------------------------------------------------------
    Hostile(
        "start_2300",
        ("validate", "{x}"),
        ("field 'meta.start' value datetime.datetime(2300", "1678-01-01 to 2261-12-31"),
        _file("start_2300", Set("meta.start", dt.datetime(2300, 1, 1))),
    ),
    Hostile(
        "start_1600",
        ("validate", "{x}"),
        ("field 'meta.start' value datetime.datetime(1600", "outside the dates"),
        _file("start_1600", Set("meta.start", dt.datetime(1600, 1, 1))),
    ),
    Hostile(
        "closure_in_2300",
        ("validate", "{x}"),
        ("field 'disruptions.closures.0.start' value datetime.datetime(2300",),
        _file("closure_2300", Insert("disruptions", {"closures": [CLOSURE_2300]})),
    ),
    Hostile(
        "run_ends_after_2261",
        ("run", FREIGHT, "--days", "90", "--set", "meta.start=2261-11-01T00:00:00", "--out", "{x}"),
        (f"{FREIGHT}:", "field 'meta.start' value '2261-11-01T00:00:00'", "90 days"),
        lambda f: str(f / "o"),
        names_x=False,
    ),
    Hostile(
        "closure_before_the_run",
        (
            "run",
            FREIGHT,
            "--days",
            "5",
            "--set",
            'disruptions.closures=[{kind="border", where=["mohan"], start=2024-03-01T00:00:00, '
            "end=2024-03-02T00:00:00}]",
            "--out",
            "{x}",
        ),
        (
            "field 'disruptions.closures.0' value '2024-03-01T00:00:00 to 2024-03-02T00:00:00'",
            f"outside the run ({JAN[:10]} 00:00",
        ),
        lambda f: str(f / "o"),
        names_x=False,
    ),
    # --- output folders ------------------------------------------------------------------
    Hostile(
        "folder_holds_a_run",
        ("run", FREIGHT, "--days", "1", "--out", "{x}"),
        ("holds a run of scenario baseline (30 days", "--overwrite"),
        _run_folder,
    ),
    Hostile(
        "run_into_a_sweep",
        ("run", FREIGHT, "--days", "1", "--out", "{x}"),
        ("holds a sweep of scenario baseline",),
        _sweep_folder,
    ),
    Hostile(
        "sweep_with_other_settings",
        (
            "sweep",
            FREIGHT,
            "--grid",
            "hub.reach_stackers=2,3",
            "--days",
            "2",
            "--serial",
            "--quiet",
            "--out",
            "{x}",
        ),
        ("holds a sweep of scenario baseline with other settings (scenario_hash",),
        _sweep_folder,
    ),
    Hostile(
        "out_is_a_file",
        ("run", FREIGHT, "--days", "1", "--out", "{x}/sub"),
        ("cannot be written",),
        lambda f: str(_touch(f / "plain")),
    ),
    # --- manifests -------------------------------------------------------------------------
    Hostile(
        "manifest_not_json",
        ("run", "--from-manifest", "{x}", "--out", "{x}.out"),
        ("not a run's manifest: not JSON",),
        _manifest("{not json"),
    ),
    Hostile(
        "manifest_without_scenario",
        ("run", "--from-manifest", "{x}", "--out", "{x}.out"),
        ("field 'scenario_data'", "cannot be re-run"),
        _manifest({"scenario": "baseline", "days": 30.0, "seed": 0}),
    ),
    Hostile(
        "manifest_edited",
        ("run", "--from-manifest", "{x}", "--out", "{x}.out"),
        ("field 'scenario_hash'", "was edited"),
        _edited_manifest,
    ),
    Hostile(
        "manifest_with_days_too",
        ("run", "--from-manifest", "{x}", "--days", "3", "--out", "{x}.out"),
        ("do not give --days too",),
        _edited_manifest,
        names_x=False,
    ),
)


def _touch(path: Path) -> Path:
    path.write_text("x")
    return path


def _one_message(err: str, parts: tuple[str, ...]) -> None:
    text = err.strip()
    assert "Traceback" not in err, err
    assert text.startswith("g60rail: error:"), err
    assert "\n" not in text, f"more than one paragraph:\n{err}"
    for part in parts:
        assert part in text, f"{part!r} not in message: {err}"


def test_there_are_at_least_twenty_more_cases() -> None:
    assert len(CASES) >= 20
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_more_hostile_input_exits_2(
    case: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = case.make(tmp_path) if case.make is not None else ""
    argv = [a.replace("{x}", x) for a in case.argv]
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, out + err
    _one_message(err, (*((x,) if case.names_x else ()), *case.expect))
    for a in argv:  # a refused run writes no results
        if a.endswith(".out") or a.endswith("/o"):
            assert not Path(a).exists() or not any(Path(a).glob("*.json")), a


@pytest.mark.parametrize(
    "argv",
    [
        ["tune", "baseline", "--space", "hub.reach_stackers=1:2", "--seed", "4294967296"],
        ["run", "baseline", "--seed", str(2**64)],
        ["sweep", "baseline", "--grid", "hub.reach_stackers=2", "--seed", "-1"],
    ],
)
def test_seeds_beyond_32_bits_are_option_errors(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "Traceback" not in err
