"""The outcome of one run: KPIs, tidy tables and a manifest; saving and loading."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Result", "atomic_write"]


@contextmanager
def atomic_write(path: Path, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file beside ``path`` and move it into place only on success.

    A crash while writing never leaves a half-written file under the final name.
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
        Seed, scenario name and hash, package version, days simulated.
    """

    kpis: dict[str, float]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def kpi_frame(self) -> pd.DataFrame:
        """KPIs as a two-column table (``kpi``, ``value``), sorted by name."""
        return pd.DataFrame(sorted(self.kpis.items()), columns=["kpi", "value"])

    def save(self, out: str | os.PathLike[str], *, parquet: bool | None = None) -> Path:
        """Write ``kpis.json``, ``manifest.json`` and every table to the folder ``out``.

        Tables are written as CSV, and also as Parquet when pyarrow is installed (or
        ``parquet=True``).  Every file is written atomically.

        Returns
        -------
        Path
            The output folder.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_write(out / "kpis.json") as fh:
            json.dump({k: _clean(v) for k, v in sorted(self.kpis.items())}, fh, indent=2)
        with atomic_write(out / "manifest.json") as fh:
            json.dump(self.manifest, fh, indent=2, sort_keys=True, default=str)
        use_parquet = _parquet_available() if parquet is None else parquet
        for name, df in self.tables.items():
            with atomic_write(out / f"{name}.csv") as fh:
                df.to_csv(fh, index=False)
            if use_parquet:
                with atomic_write(out / f"{name}.parquet", "wb") as fh:
                    df.to_parquet(fh, index=False)
        return out

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Result:
        """Read a folder written by :meth:`save` (tables from Parquet when present)."""
        folder = Path(folder)
        kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        tables: dict[str, pd.DataFrame] = {}
        for csv in sorted(folder.glob("*.csv")):
            pq = csv.with_suffix(".parquet")
            tables[csv.stem] = pd.read_parquet(pq) if pq.exists() else pd.read_csv(csv)
        kpis = {k: (math.nan if v is None else v) for k, v in kpis.items()}
        return cls(kpis=kpis, tables=tables, manifest=manifest)
