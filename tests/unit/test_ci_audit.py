"""CI's dependency audit (.ci/audit.py, run by .ci/run before the tests): a known vulnerability fails
the build; a vulnerability service that cannot be reached is reported as "not audited" and does not;
pip-audit failing for another reason fails. The reports are pip-audit's JSON format."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit.py"


@pytest.fixture(scope="module")
def audit():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ci_audit", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VULNERABLE = {"dependencies": [
    {"name": "starlette", "version": "0.27.0", "vulns": [
        {"id": "PYSEC-2023-83", "fix_versions": ["0.27.1"], "aliases": ["CVE-2023-29159"],
         "description": "Directory traversal in StaticFiles"}]},
    {"name": "uvicorn", "version": "0.55.0", "vulns": []}], "fixes": []}
CLEAN = {"dependencies": [{"name": "starlette", "version": "1.10.0", "vulns": []},
                          {"name": "uvicorn", "version": "0.55.0", "vulns": []}], "fixes": []}
NOT_FOUND = {"dependencies": [
    {"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"}
    for n in ("starlette", "uvicorn")], "fixes": []}
NO_DNS = ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev', port=443): Max retries "
          "exceeded with url: /v1/query (Caused by NameResolutionError(...))\n")


def test_a_known_vulnerability_fails_and_is_named(audit):
    code, words = audit.verdict(VULNERABLE, 1, "")
    assert code == 1
    assert "starlette 0.27.0: PYSEC-2023-83 (CVE-2023-29159) — fixed in 0.27.1" in words


def test_no_known_vulnerability_passes(audit):
    assert audit.verdict(CLEAN, 0, "") == (0, "no known vulnerabilities in 2 dependencies")


def test_an_unreachable_service_is_reported_and_does_not_fail(audit):
    code, words = audit.verdict(None, 1, NO_DNS)
    assert code == 0 and words.startswith("NOT AUDITED") and "could not be reached" in words
    code, words = audit.verdict(NOT_FOUND, 0, "")
    assert code == 0 and words.startswith("NOT AUDITED") and "none of the 2 dependencies" in words


def test_pip_audit_failing_otherwise_fails(audit):
    code, words = audit.verdict(None, 2, "error: unrecognized arguments: --bogus")
    assert code == 1 and "unrecognized arguments" in words


def test_the_audited_list_is_the_projects_installed_dependencies(audit):
    pins = audit.project_pins()
    for name in ("starlette", "uvicorn", "sqlalchemy", "argon2-cffi", "markdown-it-py", "pytest", "playwright",
                 "anyio"):  # direct, test-extra and transitive requirements
        assert name in pins, name
    assert "congress" not in pins


def test_the_script_exits_with_the_verdict(tmp_path):
    report, stderr = tmp_path / "report.json", tmp_path / "stderr.txt"
    stderr.write_text("")
    report.write_text(json.dumps(VULNERABLE))
    failed = subprocess.run([sys.executable, str(SCRIPT), "--verdict", str(report), "1", str(stderr)],
                            capture_output=True, text=True)
    assert failed.returncode == 1 and "PYSEC-2023-83" in failed.stdout
    report.unlink()
    stderr.write_text(NO_DNS)
    offline = subprocess.run([sys.executable, str(SCRIPT), "--verdict", str(report), "1", str(stderr)],
                             capture_output=True, text=True)
    assert offline.returncode == 0 and "NOT AUDITED" in offline.stdout
