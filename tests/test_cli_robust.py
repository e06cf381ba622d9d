"""``g60rail run`` as a careless or hostile user meets it (issue 13): one run per folder,
runs reproducible from their manifest, Ctrl-C, full disks, broken pipes, the run's dates,
strict types, size limits and special files, and the small things (``--version``,
``run --help``, currencies, the calibration's sources).

The round trip of the acceptance (``g60rail run baseline --days 30 --out d`` twice, the
second from the first's manifest) is computed once per module and shared.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import g60rail as g6
from g60rail.cli import main
from g60rail.result import STAGING_PREFIX, Result

FREIGHT = "daily_2025"  # a packaged scenario without the station: quick runs


def cli(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "g60rail.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kw,
    )


def one_message(err: str, *parts: str) -> None:
    """One line on stderr, no traceback, naming every part."""
    text = err.strip()
    assert "Traceback" not in err, err
    assert text.startswith("g60rail: "), err
    assert "\n" not in text, f"more than one line:\n{err}"
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(STAGING_PREFIX)]


# -- the acceptance: a folder's manifest reproduces its kpis.json bit for bit ------------------
@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``g60rail run baseline --days 30 --out d`` and a re-run from ``d/manifest.json``."""
    root = tmp_path_factory.mktemp("round_trip")
    first, again = root / "d", root / "again"
    done = cli("run", "baseline", "--days", "30", "--quiet", "--out", str(first))
    assert done.returncode == 0, done.stderr
    manifest = str(first / "manifest.json")
    done = cli("run", "--from-manifest", manifest, "--quiet", "--out", str(again))
    assert done.returncode == 0, done.stderr
    return first, again


def test_a_run_reproduces_from_its_manifest(round_trip: tuple[Path, Path]) -> None:
    """Item 3 / acceptance: the manifest records the resolved scenario and the overrides;
    ``--from-manifest`` gives the same kpis.json, byte for byte."""
    first, again = round_trip
    assert (first / "kpis.json").read_bytes() == (again / "kpis.json").read_bytes()
    m1 = json.loads((first / "manifest.json").read_text())
    m2 = json.loads((again / "manifest.json").read_text())
    assert m1["scenario_data"] == g6.load_scenario("baseline").to_dict()
    assert m1["overrides"] == {} and m1["source"] == "baseline"
    assert m2["from_manifest"] == str(first / "manifest.json")
    for key in ("scenario_hash", "scenario_data", "seed", "days", "warmup_days", "overrides"):
        assert m1[key] == m2[key], key
    assert sorted(m1["outputs"]) == sorted(p.name for p in first.iterdir())


def test_overrides_are_recorded_and_replayed(tmp_path: Path) -> None:
    """``--set`` lands in the manifest, and the manifest gives back the very scenario run."""
    from g60rail.cli.run import _from_manifest

    a = tmp_path / "a"
    args = ["run", FREIGHT, "--days", "2", "--set", "hub.reach_stackers=3", "--quiet"]
    assert main([*args, "--out", str(a)]) == 0
    m = json.loads((a / "manifest.json").read_text())
    assert m["overrides"] == {"hub.reach_stackers": 3}
    assert m["scenario_data"]["hub"]["reach_stackers"] == 3
    scenario, settings = _from_manifest(str(a / "manifest.json"))
    assert scenario == g6.load_scenario(FREIGHT, overrides={"hub.reach_stackers": 3})
    assert scenario.base_chain == g6.load_scenario(FREIGHT).base_chain
    assert (settings["days"], settings["seed"]) == (2.0, 0)
    assert settings["overrides"] == {"hub.reach_stackers": 3}


# -- report.html: one self-contained page, rendered by headless Chromium --------------------
_CHECKER = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || e));
}, true);
["error", "warn"].forEach(function (level) {
  var real = console[level];
  console[level] = function () {
    window.__errors.push(level + ": " + Array.from(arguments).join(" "));
    real.apply(console, arguments);
  };
});
window.addEventListener("load", function () {
  var images = Array.from(document.images);
  var bad = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.setAttribute("data-check", JSON.stringify({
    images: images.length,
    files: images.map(function (i) { return i.getAttribute("data-file"); }),
    broken: bad.map(function (i) { return i.getAttribute("data-file"); }),
    errors: window.__errors}));
});
</script>"""


def _chromium() -> str | None:
    import shutil

    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return next((p for p in map(shutil.which, names) if p), None)


def _headless(browser: str, page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_report_html_is_one_self_contained_page(round_trip: tuple[Path, Path]) -> None:
    """report.html: the headline KPIs, every figure embedded, the calibration table, the
    changes from the base and the manifest; nothing fetched from anywhere."""
    import re

    first, _ = round_trip
    html = (first / "report.html").read_text(encoding="utf-8")
    pngs = sorted(
        n
        for n in json.loads((first / "manifest.json").read_text())["outputs"]
        if n.endswith(".png")
    )
    assert len(pngs) >= 9
    assert sorted(re.findall(r'data-file="([^"]+)"', html)) == pngs
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and all(link.startswith("data:") for link in links), links
    for part in (
        "Headline KPIs",
        "hub yard dwell, mean",
        "Calibration",
        "Mohan rail clearance",
        "Changes from the base scenario",
        "no base",
        "Manifest",
        "scenario_data",
        json.loads((first / "manifest.json").read_text())["scenario_hash"],
    ):
        assert part in html, part


def test_report_html_renders_in_headless_chromium(
    round_trip: tuple[Path, Path], tmp_path: Path
) -> None:
    """Every figure decodes and shows, and the page logs nothing to the console."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium here (Debian: apt-get install chromium)")
    first, _ = round_trip
    page = first / "report.html"
    plain = _headless(browser, page, tmp_path / "profile-plain")
    assert plain.returncode == 0, plain.stderr[-2000:]
    console = [line for line in plain.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    checked = tmp_path / "checked.html"
    checked.write_text(
        page.read_text(encoding="utf-8").replace("<head>", "<head>" + _CHECKER, 1),
        encoding="utf-8",
    )
    done = _headless(browser, checked, tmp_path / "profile-checked")
    assert done.returncode == 0, done.stderr[-2000:]
    import html as html_lib
    import re

    found = re.search(r'data-check="([^"]*)"', done.stdout)
    assert found, done.stdout[-2000:]
    check = json.loads(html_lib.unescape(found.group(1)))
    pngs = [
        n
        for n in json.loads((first / "manifest.json").read_text())["outputs"]
        if n.endswith(".png")
    ]
    assert sorted(check["files"]) == sorted(pngs)
    assert check["broken"] == [] and check["errors"] == [], check


# -- item 3: an output folder holds one run ----------------------------------------------------
def test_a_folder_with_a_run_is_refused_and_overwrite_replaces_it_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run into a run's folder exits 2 before running; ``--overwrite`` clears
    what the first run wrote (a table the second does not have included), leaves the
    user's own files, and ``Result.load`` then reads exactly the second run."""
    out = tmp_path / "mix"
    import pandas as pd

    first = Result(
        kpis={"a": 1.0},
        tables={"containers": pd.DataFrame({"x": [1]}), "pax_hourly": pd.DataFrame({"y": [2]})},
        manifest={"scenario": "earlier", "days": 5.0, "seed": 1},
    )
    first.save(out, parquet=False, files={"station_hall.png": b"\x89PNG"})
    (out / "notes.txt").write_text("mine")
    rc = main(["run", FREIGHT, "--days", "2", "--quiet", "--out", str(out)])
    one_message(capsys.readouterr().err, "error:", str(out), "holds a run", "--overwrite")
    assert rc == 2
    assert json.loads((out / "manifest.json").read_text())["scenario"] == "earlier"

    assert main(["run", FREIGHT, "--days", "2", "--quiet", "--overwrite", "--out", str(out)]) == 0
    for gone in ("pax_hourly.csv", "station_hall.png"):
        assert not (out / gone).exists(), gone
    assert (out / "notes.txt").read_text() == "mine"
    back = Result.load(out)
    assert back.manifest["scenario"] == FREIGHT
    assert "pax_hourly" not in back.tables and "containers" in back.tables
    assert sorted(back.manifest["outputs"]) == sorted(
        p.name for p in out.iterdir() if p.name != "notes.txt"
    )
    assert not leftovers(out)


def test_load_reads_only_the_runs_own_tables(tmp_path: Path) -> None:
    """A CSV dropped into a run's folder is not part of the run."""
    import pandas as pd

    Result(kpis={"a": 1.0}, tables={"t": pd.DataFrame({"x": [1]})}).save(tmp_path, parquet=False)
    pd.DataFrame({"z": [0]}).to_csv(tmp_path / "stranger.csv", index=False)
    assert sorted(Result.load(tmp_path).tables) == ["t"]


def test_run_refuses_a_sweep_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"scenario": "baseline"}))
    (tmp_path / "runs.jsonl").write_text("")
    assert main(["run", FREIGHT, "--days", "1", "--quiet", "--out", str(tmp_path)]) == 2
    one_message(capsys.readouterr().err, str(tmp_path), "holds a sweep of scenario baseline")


# -- item 4: no tracebacks ---------------------------------------------------------------------
def test_disk_full_while_writing_a_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while a PNG is written: one line, status 2, and the folder as it was."""
    from matplotlib.figure import Figure

    def full(self: Figure, fh, *args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "summary.png"))

    monkeypatch.setattr(Figure, "savefig", full)
    out = tmp_path / "out"
    assert main(["run", FREIGHT, "--days", "1", "--quiet", "--out", str(out)]) == 2
    one_message(capsys.readouterr().err, "No space left on device", "summary.png")
    assert list(out.iterdir()) == []


def test_a_failed_save_keeps_the_previous_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while ``--overwrite`` writes a new run: the message names the file,
    and the folder still holds the previous run, complete."""
    import pandas as pd

    out = tmp_path / "out"
    earlier = Result(
        kpis={"a": 1.0},
        tables={"containers": pd.DataFrame({"x": [1, 2]})},
        manifest={"scenario": "earlier", "days": 5.0, "seed": 1},
    )
    earlier.save(out, files={"summary.png": b"\x89PNG"})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = pd.DataFrame.to_csv

    def dying(self: pd.DataFrame, buf, *args, **kwargs):
        buf.write(real(self.head(2), None, *args, **kwargs))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", dying)
    args = ["run", FREIGHT, "--days", "2", "--quiet", "--overwrite", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    one_message(err, "No space left on device", f"{out}{os.sep}", ".csv")
    assert STAGING_PREFIX not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_ctrl_c_during_a_long_run(tmp_path: Path) -> None:
    """Items 4 and 6: a long run prints its estimate first; Ctrl-C then stops it with one
    line and status 130, and nothing is written."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "g60rail.cli", "run", FREIGHT, "--days", "3000", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        for _ in range(50):  # the estimate, printed before the run starts
            line = proc.stderr.readline()
            if not line or "simulated days" in line:
                break
        assert "3,000 simulated days" in line and "about" in line, line
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    one_message(err.split("\r")[-1], "interrupted", "nothing was written", str(out))
    assert not out.exists() or list(out.iterdir()) == []


def test_broken_pipe_is_quiet() -> None:
    """``g60rail keys | head`` (more output than a pipe holds): no traceback, status 141;
    ``g60rail validate baseline | head -3`` prints its three lines and nothing else."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "g60rail.cli", "keys"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert err == "" and proc.returncode == 141, err
    done = subprocess.run(
        f"{sys.executable} -m g60rail.cli validate baseline | head -3",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr == "", done.stderr


def test_dates_beyond_what_a_run_can_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 4: ``meta.start`` in 2300 is refused by ``validate`` and by ``run`` (before the
    run, naming the field and the value); so is a run that would end after 2261."""
    rc = main(["run", FREIGHT, "--set", "meta.start=2300-01-01T00:00:00", "--out", str(tmp_path)])
    one_message(capsys.readouterr().err, "field 'meta.start'", "2300", "2261-12-31")
    assert rc == 2
    text = (Path(g6.__file__).parent / "scenario/data/baseline.toml").read_text()
    bad = tmp_path / "future.toml"
    bad.write_text(text.replace("start = 2025-01-06T00:00:00", "start = 2300-01-01T00:00:00"))
    assert main(["validate", str(bad)]) == 2
    one_message(capsys.readouterr().err, str(bad), "field 'meta.start'", "2300")
    late = ["meta.start=2261-12-01T00:00:00"]
    rc = main(["run", FREIGHT, "--days", "60", "--set", *late, "--out", str(tmp_path / "o")])
    one_message(capsys.readouterr().err, "field 'meta.start'", "2261-12-01", "60 days")
    assert rc == 2


# -- item 5: strict types ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "shown"), [("true", "True"), ('"4"', "'4'"), ("false", "False"), ("[4]", "[4]")]
)
def test_booleans_and_quoted_numbers_are_not_counts(
    value: str, shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["run", FREIGHT, "--set", f"hub.reach_stackers={value}", "--out", str(tmp_path)])
    one_message(capsys.readouterr().err, f"field 'hub.reach_stackers' value {shown}")
    assert rc == 2


def test_every_integer_and_number_field_refuses_booleans_and_text() -> None:
    """The rule holds for every numeric key ``g60rail keys`` lists, not field by field."""
    from g60rail.cli.scenarios import overridable_keys
    from g60rail.errors import ScenarioError

    sc = g6.load_scenario("baseline")
    numeric = [k for k in overridable_keys(sc) if k.type.split("|")[0] in ("int", "float")]
    assert len(numeric) > 100
    for k in numeric:
        for bad in (True, str(k.value)):
            with pytest.raises(ScenarioError) as exc:
                sc.with_overrides({k.key: bad})
            assert any(
                p.field is not None and p.field.startswith(k.key)
                for p in [exc.value, *exc.value.problems]
            ), (k.key, exc.value.describe())
    # floats still take integers, and counts integral floats
    assert sc.with_overrides({"hub.moves_per_h": 20}).hub.moves_per_h == 20.0
    assert sc.with_overrides({"hub.reach_stackers": 5.0}).hub.reach_stackers == 5


# -- item 6: sizes and special files -----------------------------------------------------------
def test_special_files_are_refused_without_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/dev/zero and a named pipe: refused at once (no read until memory runs out, no wait
    for a writer)."""
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    for path, kind in (("/dev/zero", "a character device"), (str(fifo), "a named pipe")):
        t0 = time.monotonic()
        assert main(["validate", path]) == 2
        assert time.monotonic() - t0 < 10
        one_message(capsys.readouterr().err, path, "not a regular file", kind)


# -- item 9: disruptions -----------------------------------------------------------------------
def test_a_closure_outside_the_run_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A closure the run never sees (a year late) is named with its dates and the run's,
    before the run, instead of being dropped without a word."""
    closure = (
        'disruptions.closures=[{kind="line", where=["boten", "vientiane"], '
        "start=2026-07-10T00:00:00, end=2026-07-14T00:00:00}]"
    )
    rc = main(["run", FREIGHT, "--days", "5", "--set", closure, "--out", str(tmp_path)])
    one_message(
        capsys.readouterr().err,
        "field 'disruptions.closures.0'",
        "2026-07-10T00:00:00 to 2026-07-14T00:00:00",
        "outside the run (2025-01-06 00:00 to 2025-01-11 00:00)",
        "--days 554",
    )
    assert rc == 2


# -- item 10: the small things -----------------------------------------------------------------
def test_version_and_run_help() -> None:
    from importlib.metadata import version

    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"g60rail {version('g60rail')}"
    done = cli("run", "--help")
    text = " ".join(done.stdout.split())
    assert "report.html" in text and "--from-manifest" in text and "--overwrite" in text
    assert "exit status 130" in text


def test_validate_calibration_cites_no_unshipped_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "baseline", "--calibration", "--days", "2"]) == 0
    out = capsys.readouterr().out
    assert "corridor-facts.md" not in out and "shared/" not in out
    assert "g60rail.experiment.calibration.TARGETS" in out


def test_progress_bars_need_no_ipywidgets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ipywidgets the bars are text bars (no "IProgress not found" warning); the
    test extra installs ipywidgets and nbconvert for the notebooks."""
    import importlib.util
    import tomllib
    import warnings

    from tqdm.std import tqdm as text_bar

    from g60rail.experiment.checks import progress_bar, tqdm_class

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "ipywidgets" else real(n, *a)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tqdm_class() is text_bar
        progress_bar(1, 0, "x", False).close()
    root = Path(__file__).resolve().parents[1]
    extra = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    test = " ".join(extra["optional-dependencies"]["test"])
    assert "ipywidgets" in test and "nbconvert" in test
