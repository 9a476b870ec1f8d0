"""The dependency direction of docs/architecture.md, as import-linter contracts (pyproject.toml), and the size of a
module: each kind of code stays in its layer, and no module grows past what a reader holds at once."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
MOST_LINES = 500


def test_every_import_follows_the_dependency_direction() -> None:
    # import-linter configures logging with logging.config, which disables every logger made before it: the tests
    # after this one that read the tool's logs would then find nothing. Give every logger back its state.
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    disabled = {logger.name: logger.disabled for logger in loggers}
    try:
        assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
    finally:
        for logger in loggers:
            logger.disabled = disabled[logger.name]


def test_no_module_outside_migrations_and_tests_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in ("models", "xapi", "lti_tool", "bench")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (lines := len(path.read_text().splitlines())) > MOST_LINES
    }
    assert long == {}


@pytest.mark.parametrize("bench", sorted(p.stem for p in (ROOT / "bench").glob("*.py")))
def test_every_benchmark_module_imports(bench: str) -> None:
    """A moved or renamed module breaks a bench only when someone runs it; importing each one here says so at once."""
    importlib.import_module(f"bench.{bench}")
