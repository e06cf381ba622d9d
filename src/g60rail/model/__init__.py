"""The SimPy model of the corridor, one module per physical part.

The modules of this package (not its subpackages) are compiled to C with mypyc when the
package is built as a wheel where a C compiler is available (see ``setup.py``): the same
code, the same numbers bit for bit, in about half the time.  :func:`compiled` tells which
a running installation has.
"""

from __future__ import annotations

__all__ = ["compiled"]


def compiled() -> bool:
    """Whether the model runs compiled (mypyc) rather than from its Python source."""
    from g60rail.model import engine

    return not (engine.__file__ or "").endswith(".py")
