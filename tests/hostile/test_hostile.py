"""Hostile input: every bad scenario file, option or output folder gets exit status 2 and
one paragraph naming the file and the field; never a traceback.  Outputs are atomic.

Reference: the command-line contract of ../shared/DESIGN.md ("exit 0 on success, 2 on bad
input with a one-paragraph message naming the file, the dotted field and the offending
value; never a traceback for user error") and issue 6, item 4.

The hostile files are built at test time by :mod:`tests.hostile.cases`: the packaged
baseline, parsed, with one thing broken and written back with ``tomli_w``, or (for bad
bytes and bad syntax) a tiny hand-written file in ``corpus/``.  Most checks call
:func:`g60rail.cli.main` in-process (fast); a handful run the real ``python -m g60rail.cli``
in subprocesses to check the process's exit status and stderr.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

import g60rail as g6
from g60rail.cli import main
from g60rail.result import Result
from tests.hostile.cases import (
    CASES,
    CORPUS,
    BaselineChanged,
    Case,
    DataCase,
    Delete,
    Insert,
    RawCase,
    Require,
    Set,
    baseline_data,
)

SRC = Path(__file__).resolve().parents[2] / "src"
BY_NAME = {c.name: c for c in CASES}


def _check_message(err: str, path: Path, expect: tuple[str, ...]) -> None:
    """One paragraph on stderr, naming the file and every expected part; no traceback."""
    assert "Traceback" not in err, err
    text = err.strip()
    assert text.startswith("g60rail: error:"), err
    assert "\n" not in text, f"more than one paragraph:\n{err}"
    assert str(path) in text, f"file not named: {err}"
    for part in expect:
        assert part in text, f"{part!r} not in message: {err}"


def test_cases_are_complete() -> None:
    """At least 30 cases with unique names, each expecting something; every hand-written
    file in ``corpus/`` belongs to a case and stays tiny."""
    assert len(CASES) >= 30
    assert len(BY_NAME) == len(CASES), "duplicate case names"
    for case in CASES:
        assert case.expected(), f"{case.name}: expects nothing"
        assert case.doc, f"{case.name}: no description"
    files = {p.stem for p in CORPUS.glob("*.toml")}
    hand_written = {c.name for c in CASES if isinstance(c, RawCase) and c.content is None}
    assert files == hand_written, files ^ hand_written
    for p in CORPUS.glob("*.toml"):
        assert len(p.read_bytes().splitlines()) <= 10, f"{p.name}: keep hand-written files tiny"


def test_unchanged_baseline_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The parsed baseline written back with ``tomli_w`` is valid: a case's error comes from
    its one change, not from the writing."""
    path = tmp_path / "baseline.toml"
    path.write_text(tomli_w.dumps(baseline_data()), encoding="utf-8")
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    "step",
    [
        Set("hub.no_such_key", 1),
        Set("legs.99.km", 1),
        Set("hub.reach_stackers.x", 1),
        Delete("places.atlantis"),
        Insert("no_such_section.key", 1),
        Insert("hub.reach_stackers", 1),
        Require("meta.name", "not the baseline"),
    ],
)
def test_stale_case_fails_loudly(step: Set | Delete | Insert | Require) -> None:
    """A step whose target left the baseline raises, naming the case and the baseline."""
    case = DataCase(name="stale", doc="targets a missing field", steps=(step,), fields={"x": None})
    with pytest.raises(BaselineChanged, match=r"baseline changed: hostile case 'stale'"):
        case.build()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_validate_rejects(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``g60rail validate FILE``: exit 2, the file, the field and the value in one paragraph."""
    path = case.write(tmp_path)
    rc = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert rc == 2, out + err
    _check_message(err, path, case.expected())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_run_rejects(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``g60rail run FILE --days 1 --out DIR``: exit 2 before anything is written."""
    path = case.write(tmp_path)
    out_dir = tmp_path / "out"
    rc = main(["run", str(path), "--days", "1", "--out", str(out_dir)])
    _, err = capsys.readouterr()
    assert rc == 2, err
    _check_message(err, path, case.expected())
    assert not any(out_dir.glob("*.json")), "a rejected scenario wrote results"


SUBPROCESS_CASES = (
    "malformed_toml",
    "not_utf8",
    "deeply_nested",
    "timezone_start",
    "closure_inverted",
    "huge_demand",
)


def test_real_processes_exit_2(tmp_path: Path) -> None:
    """The console entry point as a user runs it, in parallel subprocesses."""
    procs = []
    for name in SUBPROCESS_CASES:
        path = BY_NAME[name].write(tmp_path)
        for args in (
            ["validate", str(path)],
            ["run", str(path), "--days", "1", "--out", str(tmp_path / name)],
        ):
            p = subprocess.Popen(
                [sys.executable, "-m", "g60rail.cli", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            procs.append((name, path, p))
    for name, path, p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 2, (name, err)
        _check_message(err, path, BY_NAME[name].expected())
        assert not any((tmp_path / name).glob("*.json")), f"{name}: rejected run wrote results"


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 file saved with a byte-order mark (Windows editors) is still a scenario."""
    base = Path(g6.__file__).parent / "scenario" / "data" / "baseline.toml"
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + base.read_bytes())
    assert g6.load_scenario(path).meta.name == "baseline"


# -- files that are not there or not files -------------------------------------------------
@pytest.mark.parametrize(
    ("arg", "expect"),
    [
        ("does/not/exist.toml", "file not found"),
        ("no_such_packaged_name", "no packaged scenario"),
        (".", "a directory"),
    ],
)
def test_missing_or_odd_scenario_paths(
    arg: str, expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing files, unknown packaged names and folders: exit 2 with the reason."""
    if arg == ".":
        arg = str(tmp_path / "folder.toml")
        Path(arg).mkdir()
    assert main(["validate", arg]) == 2
    err = capsys.readouterr().err
    _check_message(err, Path(arg), (expect,))


# -- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["--days", "-1"],
        ["--days", "0"],
        ["--days", "x"],
        ["--days", "nan"],
        ["--days", "inf"],
        ["--seed", "x"],
        ["--seed", "-3"],
        ["--seed", "1.5"],
    ],
)
def test_bad_options_exit_2(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse rejects bad --days and --seed with status 2 and names the option."""
    with pytest.raises(SystemExit) as exc:
        main(["run", "baseline", *args, "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert args[0] in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("hub.no_such_key=3", "hub.no_such_key"),
        ("hubb.reach_stackers=3", "hubb.reach_stackers"),
        ("hub.reach_stackers=0", "hub.reach_stackers"),
        ("hub.reach_stackers=many", "hub.reach_stackers"),
        ("hub.reach_stackers=nan", "hub.reach_stackers"),
        ("hub.reach_stackers.x=1", "hub.reach_stackers.x"),
        ("services.g60.route.9=kunming", "services.g60.route.9"),
        ("borders.mohan.inspect_share_exit=2", "borders.mohan.inspect_share_exit"),
        ("hub.reach_stackers=" + "[" * 3000 + "]" * 3000, "hub.reach_stackers"),
        ("no_equals_sign", "key=value"),
        ("=4", "dotted key"),
    ],
)
def test_bad_overrides_exit_2(
    override: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--set`` with a missing key, a bad value or no '=': exit 2 naming the key."""
    rc = main(["run", "baseline", "--days", "1", "--set", override, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2, err
    _check_message(err, Path("baseline"), (field,))


def test_unwritable_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An output folder under a regular file cannot be created: exit 2, folder named."""
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "out"
    assert main(["run", "baseline", "--days", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    _check_message(err, out, ("cannot be written",))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder without write permission: exit 2, folder named."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main(["run", "baseline", "--days", "1", "--out", str(out)]) == 2
    finally:
        out.chmod(0o700)
    _check_message(capsys.readouterr().err, out, ("cannot be written",))


# -- no code execution from user files ---------------------------------------------------------
FORBIDDEN = re.compile(
    r"(?<![\w.])(eval|exec)\s*\(|pickle\.loads?\b|read_pickle|marshal\.loads?|shelve\.|"
    r"yaml\.load\(|yaml\.unsafe_load|__import__\("
)


def test_no_eval_exec_or_pickle_of_user_files() -> None:
    """The package never evaluates or unpickles what a user gives it."""
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if FORBIDDEN.search(code):
                hits.append(f"{path.relative_to(SRC)}:{i}: {line.strip()}")
    assert not hits, "\n".join(hits)


# -- atomic outputs -----------------------------------------------------------------------------
def _result() -> Result:
    return Result(
        kpis={"a.b": 1.0, "c": float("nan")},
        tables={"containers": pd.DataFrame({"x": range(1000)}), "trains": pd.DataFrame({"y": [1]})},
        manifest={"seed": 1},
    )


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    """After ``Result.save`` the folder holds exactly the outputs, readable by others."""
    _result().save(tmp_path, parquet=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["containers.csv", "kpis.json", "manifest.json", "trains.csv"]
    if os.name == "posix":
        assert (tmp_path / "kpis.json").stat().st_mode & 0o044 == 0o044 & ~_umask()
    back = Result.load(tmp_path)
    assert back.kpis["a.b"] == 1.0 and len(back.tables["containers"]) == 1000


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_crash_while_writing_leaves_no_half_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``to_csv`` dies half-way: no file under the final name, no temporary left over, and
    an earlier complete file of the same name is kept intact."""
    fresh, again = tmp_path / "fresh", tmp_path / "again"
    _result().save(again, parquet=False)
    before = (again / "containers.csv").read_bytes()
    real = pd.DataFrame.to_csv

    def dying(self: pd.DataFrame, buf, *args, **kwargs):
        buf.write(real(self.head(3), None, *args, **kwargs))  # half the table ...
        raise OSError(28, "No space left on device")  # ... then the disk is full

    monkeypatch.setattr(pd.DataFrame, "to_csv", dying)
    for out in (fresh, again):
        with pytest.raises(OSError, match="No space"):
            _result().save(out, parquet=False)
    assert not (fresh / "containers.csv").exists()
    assert (again / "containers.csv").read_bytes() == before
    for out in (fresh, again):
        leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
        assert not leftovers, leftovers
