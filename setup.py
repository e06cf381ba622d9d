"""Build of g60rail: the freight model's modules compiled to C with mypyc where it can be.

The modules of ``g60rail.model`` (the event loop and every part it calls per box, truck
and train) are typed Python that mypyc compiles to C extensions; the compiled model gives
the same numbers, bit for bit, in about half the time.  Everything else stays Python, and
every module is shipped as source too, so a build that cannot compile still works.

``G60RAIL_COMPILE`` chooses:

``auto`` (default)
    a wheel (``pip install .``) is compiled where a C compiler and the Python headers are
    there, and is pure Python where they are not (with a warning); an editable install
    (``pip install -e .``) is pure Python, so that edits to the source take effect;
``1``
    compile, and fail if it cannot (an editable install then runs the compiled modules
    until they are rebuilt: edits to ``src/g60rail/model`` take effect only then);
``0``
    pure Python.

``g60rail.model.compiled()`` tells which a running installation has.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

CHOICE = os.environ.get("G60RAIL_COMPILE", "auto").strip().lower()
if CHOICE not in ("auto", "1", "0"):
    sys.exit(f"G60RAIL_COMPILE must be auto, 1 or 0, not {CHOICE!r}")

# the commands that build binaries; metadata, sdists and the like need no compilation
BUILDS = {"bdist_wheel", "build", "build_ext", "install", "editable_wheel", "develop"}
EDITABLE = {"editable_wheel", "develop"}

# mypy's settings for the compilation (the model's own code only; see the file)
HERE = os.path.dirname(os.path.abspath(__file__))
MYPY_FLAGS = ["--config-file", os.path.join(HERE, "mypyc.ini")]


def _model_modules() -> list[str]:
    """Paths of the modules compiled: every module of ``g60rail.model`` (not its
    subpackages, nor the package's ``__init__``)."""
    paths = sorted(glob.glob(os.path.join(HERE, "src", "g60rail", "model", "*.py")))
    return [p for p in paths if not p.endswith("__init__.py")]


def _simpy_types() -> str:
    """A folder for mypy's path that holds SimPy (a build requirement) and nothing else."""
    import simpy

    folder = os.path.join(HERE, "build", "mypyc-types")
    shutil.rmtree(folder, ignore_errors=True)  # no file of another SimPy version
    shutil.copytree(os.path.dirname(simpy.__file__), os.path.join(folder, "simpy"))
    return folder


def _warn(msg: str) -> None:
    print(f"g60rail build: {msg}; the model is installed as pure Python", file=sys.stderr)


def _extensions() -> list[Any]:
    """The compiled modules this build makes, or none."""
    commands = set(sys.argv[1:])
    if CHOICE == "0" or not commands & BUILDS:
        return []
    if CHOICE == "auto" and commands & EDITABLE:
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        if CHOICE == "1":
            raise
        _warn("mypyc (from mypy) is not installed")
        return []
    try:
        os.environ["MYPYPATH"] = _simpy_types()
        return list(mypycify([*MYPY_FLAGS, *_model_modules()], group_name="g60rail_model"))
    except (Exception, SystemExit) as exc:  # mypy's type errors end in SystemExit
        if CHOICE == "1":
            raise
        _warn(f"mypyc could not translate the model ({exc!r})")
        return []


class BuildExtOrPure(build_ext):
    """``build_ext`` that, under ``auto``, falls back to pure Python where the C code
    cannot be compiled (no compiler, no Python headers): no compiled module is kept then,
    as the modules share one compiled library."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # the compiler's errors are distutils' own classes
            if CHOICE == "1":
                raise
            _warn(f"the C compiler failed ({exc})")
            for ext in self.extensions:
                path = self.get_ext_fullpath(ext.name)
                if os.path.exists(path):
                    os.remove(path)
            self.extensions = []


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExtOrPure})
