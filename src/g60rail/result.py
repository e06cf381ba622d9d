"""The outcome of one run: KPIs, tidy tables and a manifest; saving and loading.

A folder written by :meth:`Result.save` holds one run.  Its ``manifest.json`` lists every
file of the run under ``outputs``; saving again replaces the whole run at once (the new
files are written beside the folder's contents first, then moved in, and what the previous
run wrote and this one does not is removed), and :meth:`Result.load` reads only the files
the manifest lists.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["STAGING_PREFIX", "Result", "atomic_write", "previous_outputs"]

STAGING_PREFIX = ".g60rail-saving-"
"""Name prefix of the hidden folder a run is written into before it is moved in place."""


@contextmanager
def atomic_write(path: Path, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file beside ``path`` and move it into place only on success.

    A crash while writing never leaves a half-written file under the final name.  An
    ``OSError`` while writing (a full disk) names ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates the file readable by its owner only; give it the mode an
        # ordinary open() would (0o666 less the umask)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _clean(value: float) -> float | None:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _plain_name(name: Any) -> bool:
    """Whether ``name`` is a file name inside a folder (no path, not hidden)."""
    return (
        isinstance(name, str)
        and bool(name)
        and not name.startswith(".")
        and "/" not in name
        and os.sep not in name
        and name not in ("..",)
    )


def previous_outputs(folder: str | os.PathLike[str]) -> list[str] | None:
    """The files of the run saved in ``folder`` (its manifest's ``outputs``).

    Returns ``None`` when the folder holds no manifest; for a g60rail manifest written
    before manifests listed their outputs, the files such a run writes (JSON, tables,
    figures, report) that are present; for any other manifest, no file.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return []
    listed = manifest.get("outputs")
    if isinstance(listed, list):
        return [n for n in listed if _plain_name(n)]
    if "g60rail_version" not in manifest:
        return []  # a manifest of unknown origin: none of the files is known to be its
    patterns = ("kpis.json", "manifest.json", "report.html", "*.csv", "*.parquet", "*.png")
    return sorted({p.name for pat in patterns for p in folder.glob(pat) if p.is_file()})


@contextmanager
def _no_interrupt() -> Iterator[None]:
    """Hold Ctrl-C back (POSIX, main thread) while a run is moved into place."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


@dataclass
class Result:
    """KPIs, tables and provenance of one simulation run.

    Attributes
    ----------
    kpis
        Flat dotted names to numbers, e.g. ``"hub.dwell_h_mean"`` (hours) or
        ``"freight.teu_delivered"`` (TEU). NaN where a quantity had no observation.
    tables
        Tidy ``pandas.DataFrame`` per topic: ``containers``, ``trains``, ``timeseries``,
        ``border``, and ``pax_*`` when the station is simulated.
    manifest
        Seed, scenario name and hash, the resolved scenario (``scenario_data``), package
        version, days simulated.
    """

    kpis: dict[str, float]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def kpi_frame(self) -> pd.DataFrame:
        """KPIs as a two-column table (``kpi``, ``value``), sorted by name."""
        return pd.DataFrame(sorted(self.kpis.items()), columns=["kpi", "value"])

    def outputs(
        self, *, parquet: bool | None = None, files: Mapping[str, bytes] | None = None
    ) -> list[str]:
        """The names of the files :meth:`save` writes with the same arguments, sorted."""
        use_parquet = _parquet_available() if parquet is None else parquet
        names = {"kpis.json", "manifest.json", *(files or {})}
        for name in self.tables:
            names.add(f"{name}.csv")
            if use_parquet:
                names.add(f"{name}.parquet")
        return sorted(names)

    def save(
        self,
        out: str | os.PathLike[str],
        *,
        parquet: bool | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> Path:
        """Write the run into the folder ``out``, replacing any run saved there before.

        Writes ``kpis.json``, ``manifest.json`` (the manifest, with ``outputs``: every
        file of the run) and every table as CSV, and also as Parquet when pyarrow is
        installed (or ``parquet=True``).  Everything is written into a hidden folder in
        ``out`` first and moved into place when complete, so an interruption leaves the
        folder as it was; files of a previous run that this one does not write are then
        removed.  Other files in ``out`` are left alone.

        Parameters
        ----------
        out
            The folder (created if needed).
        parquet
            Also write Parquet tables (default: when pyarrow is installed).
        files
            Further files of the run by name (figures, a report), written with it.

        Returns
        -------
        Path
            The output folder.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name in files or {}:
            if not _plain_name(name):
                raise ValueError(f"not a file name inside the folder: {name!r}")
        use_parquet = _parquet_available() if parquet is None else parquet
        names = self.outputs(parquet=use_parquet, files=files)
        _remove_stale_stages(out)
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
        try:
            with atomic_write(stage / "kpis.json") as fh:
                json.dump({k: _clean(v) for k, v in sorted(self.kpis.items())}, fh, indent=2)
            for name, df in self.tables.items():
                with atomic_write(stage / f"{name}.csv") as fh:
                    df.to_csv(fh, index=False)
                if use_parquet:
                    with atomic_write(stage / f"{name}.parquet", "wb") as fh:
                        df.to_parquet(fh, index=False)
            for name, data in (files or {}).items():
                with atomic_write(stage / name, "wb") as fh:
                    fh.write(data)
            with atomic_write(stage / "manifest.json") as fh:
                # keys sorted at the top only: the order of the scenario's tables (its
                # services, places ...) is part of what is run
                manifest = dict(sorted({**self.manifest, "outputs": names}.items()))
                json.dump(manifest, fh, indent=2, default=str)
            _commit(stage, out, names)
        except OSError as exc:
            # name the file the run was writing, not its hidden copy
            if exc.filename and Path(exc.filename).parent == stage and exc.errno is not None:
                where = str(out / Path(exc.filename).name)
                raise OSError(exc.errno, exc.strerror, where) from exc
            raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return out

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Result:
        """Read a folder written by :meth:`save` (tables from Parquet when present).

        Only the tables the manifest lists as the run's outputs are read; other CSV files
        in the folder are not part of the run.
        """
        folder = Path(folder)
        kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        listed = manifest.get("outputs")
        csvs = (
            [folder / n for n in listed if _plain_name(n) and n.endswith(".csv")]
            if isinstance(listed, list)
            else sorted(folder.glob("*.csv"))
        )
        tables: dict[str, pd.DataFrame] = {}
        for csv in sorted(csvs):
            pq = csv.with_suffix(".parquet")
            tables[csv.stem] = pd.read_parquet(pq) if pq.exists() else pd.read_csv(csv)
        kpis = {k: (math.nan if v is None else v) for k, v in kpis.items()}
        return cls(kpis=kpis, tables=tables, manifest=manifest)


def _remove_stale_stages(out: Path) -> None:
    """Remove the hidden folders of saves whose process died (``kill -9`` while saving)."""
    for stage in out.glob(f"{STAGING_PREFIX}*"):
        pid = stage.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(stage, ignore_errors=True)
        except OSError:  # alive, another user's: leave it
            continue


def _commit(stage: Path, out: Path, names: list[str]) -> None:
    """Move the run written in ``stage`` into ``out``; remove the previous run's leftovers.

    The previous manifest goes first and the new one comes last, so a folder with a
    manifest always holds one complete run.
    """
    old = previous_outputs(out) or []
    with _no_interrupt():
        (out / "manifest.json").unlink(missing_ok=True)
        for name in [n for n in names if n != "manifest.json"] + ["manifest.json"]:
            os.replace(stage / name, out / name)
        for name in set(old) - set(names):
            target = out / name
            if target.is_file() or target.is_symlink():
                target.unlink(missing_ok=True)
