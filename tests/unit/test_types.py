"""The package type-checks: mypy over congress/ as configured in pyproject.toml ([tool.mypy]: the
whole package, strict for the pure rules and the live hub: domain, tally, live, sealed). Run here so
the README's test command (pytest, and so CI) covers it; a failure shows mypy's own report.

mypy's cache is the tree's .mypy_cache (git-ignored), so only a first run checks everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_type_checks() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = (run.stdout + run.stderr).strip()
    assert "No module named mypy" not in report, "mypy is missing: pip install -e '.[test]'"
    assert run.returncode == 0, f"mypy found type errors:\n{report}"
    assert "Success: no issues found" in report, report
