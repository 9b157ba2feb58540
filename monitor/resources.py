"""Where the shipped rules, templates and seed fixtures live: beside the package when installed
from a wheel (`monitor/_data/`), or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


def templates_dir() -> Path:
    return _find("templates")


def rules_dir() -> Path:
    return _find("rules")


def seeds_dir() -> Path:
    return _find("seeds")
