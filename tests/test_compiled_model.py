"""The compiled model (``setup.py``: mypyc) gives the pure-Python model's numbers, bit for bit.

The repository's own build is run in a temporary copy (``G60RAIL_COMPILE=1 setup.py
build_ext --inplace``), the packaged scenarios are simulated there in a fresh interpreter,
and every KPI and the train and section tables are compared with the same runs here, in
pure Python.  The arithmetic is the same IEEE double arithmetic in both, so any
difference is a change of behaviour, not rounding.  Skipped where no C compiler or no
Python headers are available (the build then installs pure Python; see setup.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

import g60rail as g6
from g60rail.model import compiled
from g60rail.model.engine import Engine, Wake

ROOT = Path(__file__).resolve().parents[1]

# (scenario, days, changes): the baseline at published scale, the hub loaded to its
# design throughput (queues at the gate, stackers and tracks, cut-offs, A/D tracks), and
# that hub with stacker breakdowns and a two-day closure of Boten - Vientiane
DISRUPTED = {
    "disruptions": {
        "breakdowns": [
            {"place": "songjiang", "equipment": "reach_stackers", "mtbf_h": 40.0, "repair_h": 6.0}
        ],
        "closures": [
            {
                "kind": "line",
                "where": ["boten", "vientiane"],
                "start": "2025-01-10T00:00:00",
                "end": "2025-01-12T00:00:00",
            }
        ],
    }
}
RUNS: list[tuple[str, float, dict[str, Any]]] = [
    ("baseline", 20.0, {}),
    ("songjiang_design", 15.0, {}),
    ("songjiang_design", 15.0, DISRUPTED),
]
SEED = 11

# run in the compiled copy, with this file's runner: the results as JSON on stdout
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from g60rail.model import compiled
from tests.test_compiled_model import RUNS, SEED, simulate_runs, wake_timeline
out = {"compiled": compiled(), "runs": simulate_runs(RUNS, SEED), "wakes": wake_timeline()}
print(json.dumps(out))
"""


def wake_timeline() -> list[float]:
    """When four wake-ups due at 1, 4, 6 and 9 h are called, hours, in the event loop's
    three ways to run: to a time (2.5 h), to an event (a timeout at 5 h), to the end."""
    env = Engine()
    seen: list[float] = []
    for t in (1.0, 4.0, 6.0, 9.0):
        Wake(env, t, lambda _w: seen.append(env.now))
    env.run(until=2.5)
    env.run(until=env.timeout(2.5))
    env.run()
    return seen


def simulate_runs(runs: list[tuple[str, float, dict[str, Any]]], seed: int) -> list[dict]:
    """The KPIs and the train and section tables of each run (freight only)."""
    out = []
    for name, days, changes in runs:
        sc = g6.load_scenario(name)
        data = {**sc.model_dump(by_alias=True), "station": None, **changes}
        res = g6.simulate(
            g6.Scenario.model_validate(data), days=days, seed=seed, record_containers=False
        )
        out.append(
            {
                "kpis": {k: float(v) for k, v in res.kpis.items()},
                "trains": res.tables["trains"].to_csv(index=False),
                "sections": res.tables["sections"].to_csv(index=False),
            }
        )
    return out


def _can_compile() -> str | None:
    """Why C extensions cannot be built here, or ``None`` if they can."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc})"
    if not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        return "no Python headers"
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "mypyc is not installed"
    return None


def _build(work: Path, compile_: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    """The repository's build of the model, run in place in a copy at ``work``."""
    for name in ("setup.py", "mypyc.ini", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, work / name)
    shutil.copytree(
        ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.so")
    )
    env = {**os.environ, "G60RAIL_COMPILE": compile_, **env_vars}
    env.pop("PYTHONPATH", None)
    build = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    return build


def _python(work: Path, *args: str) -> str:
    """What ``python args`` prints, run in the copy at ``work``."""
    env = {**os.environ, "PYTHONPATH": str(work / "src")}
    run = subprocess.run(
        [sys.executable, *args], cwd=work, env=env, capture_output=True, text=True, timeout=1200
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


@pytest.fixture(scope="module")
def compiled_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    why = _can_compile()
    if why is not None:
        pytest.skip(why)
    work = tmp_path_factory.mktemp("compiled")
    _build(work, "1")
    built = sorted(p.name.split(".")[0] for p in (work / "src/g60rail/model").glob("*.so"))
    return {"built": built, **json.loads(_python(work, "-c", PROBE, str(ROOT)))}


def test_the_build_compiles_every_module_of_the_model(compiled_runs: dict[str, Any]) -> None:
    sources = sorted(
        p.stem for p in (ROOT / "src/g60rail/model").glob("*.py") if p.stem != "__init__"
    )
    assert compiled_runs["built"] == sources
    assert compiled_runs["compiled"] is True


def test_the_compiled_event_loop_runs_wake_ups_every_way_it_runs(
    compiled_runs: dict[str, Any],
) -> None:
    assert compiled_runs["wakes"] == wake_timeline() == [1.0, 4.0, 6.0, 9.0]


@pytest.mark.parametrize("index", range(len(RUNS)), ids=["baseline", "design", "disrupted"])
def test_the_compiled_model_gives_the_pure_python_numbers(
    compiled_runs: dict[str, Any], index: int
) -> None:
    if compiled():
        pytest.skip("the installed model is compiled: there is no pure-Python side here")
    got, (want,) = compiled_runs["runs"][index], simulate_runs([RUNS[index]], SEED)
    assert want["kpis"]["freight.teu_created"] > 0
    # every KPI to the last bit: repr is a float's exact round trip (and "nan" for a KPI
    # with nothing to measure, which equals itself only so)
    assert {k: repr(v) for k, v in got["kpis"].items()} == {
        k: repr(v) for k, v in want["kpis"].items()
    }
    assert got["trains"] == want["trains"]
    assert got["sections"] == want["sections"]


def test_without_a_c_compiler_the_build_falls_back_to_pure_python(tmp_path: Path) -> None:
    pytest.importorskip("mypyc.build")
    # a compiler that fails at once: the C code is generated, its compilation fails
    build = _build(tmp_path, "auto", CC="false")
    assert "the model is installed as pure Python" in build.stderr
    assert not list(tmp_path.rglob("*.so"))
    probe = "from g60rail.model import compiled; print(compiled())"
    assert _python(tmp_path, "-c", probe).strip() == "False"
