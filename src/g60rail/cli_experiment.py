"""Command-line subcommands for experiments (sweep, tune)."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the experiment subcommands to the ``g60rail`` parser."""
