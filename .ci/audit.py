"""Known vulnerabilities in the project's installed dependencies, with pip-audit (a CI step).

Lists what `congress[test]` needs as it is installed here (each requirement followed through the
installed distributions' own requirements, as name==version) and asks pip-audit about exactly those,
so the answer is about the versions the tests run against, not about whatever else the machine has.

- A known vulnerability fails: exit 1, naming the package, version, advisory and fixed versions.
- A vulnerability service that cannot be reached, or cannot answer for these versions (every
  dependency skipped as "not found"), is reported in words and does not fail the build: the
  network alone is no reason to stop a change. The report says plainly that nothing was audited.
- A failure of pip-audit itself for another reason fails: an audit that silently stops is worse.

usage: python .ci/audit.py [--pip-audit PATH]   (or --verdict REPORT.json RC STDERR-FILE, for tests)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "congress"
EXTRAS = ("test",)
UNREACHABLE_WORDS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out",
                     "Temporary failure in name resolution", "Network is unreachable", "Connection refused",
                     "ReadTimeout", "ConnectTimeout", "SSLError", "ProxyError")
NOT_FOUND = "not found on PyPI"


def project_pins(project: str = PROJECT, extras: tuple[str, ...] = EXTRAS) -> dict[str, str]:
    """{canonical name: installed version} of everything `project[extras]` needs, itself excluded."""
    pins: dict[str, str] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(project, extras)]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement whose marker applies but that is not installed: pip check's business
        if canonicalize_name(name) != canonicalize_name(project):
            pins[canonicalize_name(dist.metadata["Name"])] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                todo.append((requirement.name, tuple(sorted(requirement.extras))))
    return dict(sorted(pins.items()))


def verdict(report: dict | None, returncode: int, stderr: str) -> tuple[int, str]:
    """(exit code, words) from pip-audit's JSON report (None when it wrote none) and its stderr."""
    if report is None:
        if any(word in stderr for word in UNREACHABLE_WORDS):
            last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
            return 0, ("NOT AUDITED: the vulnerability service could not be reached from this machine "
                       f"({last[:300]}). No dependency was checked; the build goes on.")
        return 1, f"pip-audit failed (exit {returncode}) without a report:\n{stderr.strip()[-2000:]}"
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    if vulnerable:
        lines = [f"{len(vulnerable)} dependenc{'y has' if len(vulnerable) == 1 else 'ies have'} "
                 "known vulnerabilities:"]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                aliases = ", ".join(vuln.get("aliases") or [])
                lines.append(f"  {dep['name']} {dep['version']}: {vuln['id']}"
                             f"{f' ({aliases})' if aliases else ''} — fixed in {fixed}")
        return 1, "\n".join(lines)
    if dependencies and not audited and all(NOT_FOUND in d["skip_reason"] for d in skipped):
        return 0, (f"NOT AUDITED: the vulnerability service answered for none of the {len(skipped)} "
                   "dependencies (every one 'not found': this machine's route to PyPI does not serve "
                   "its per-version vulnerability data). No dependency was checked; the build goes on.")
    if returncode != 0:
        return 1, f"pip-audit exited {returncode}:\n{stderr.strip()[-2000:]}"
    words = f"no known vulnerabilities in {audited} dependencies"
    if skipped:
        words += "; not audited: " + "; ".join(d["skip_reason"] for d in skipped)
    return 0, words


def run(pip_audit: str) -> int:
    pins = project_pins()
    if not pins:
        print("== pip-audit: the project is not installed (pip install -e '.[test]' first)")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.txt"
        requirements.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()))
        output = Path(folder) / "report.json"
        # --no-deps --disable-pip: the list is complete and pinned; pip-audit resolves nothing itself
        done = subprocess.run([pip_audit, "-r", str(requirements), "--no-deps", "--disable-pip",
                               "--progress-spinner", "off", "--timeout", "30", "-f", "json", "-o", str(output)],
                              capture_output=True, text=True, timeout=900)
        report = json.loads(output.read_text()) if output.exists() and output.stat().st_size else None
    code, words = verdict(report, done.returncode, done.stderr)
    print(f"== pip-audit ({len(pins)} dependencies of {PROJECT}[{','.join(EXTRAS)}]): {words}")
    return code


def main(argv: list[str]) -> int:
    if argv[:1] == ["--verdict"]:
        report_file, returncode, stderr_file = argv[1:4]
        text = Path(report_file).read_text() if Path(report_file).exists() else ""
        code, words = verdict(json.loads(text) if text else None, int(returncode), Path(stderr_file).read_text())
        print(words)
        return code
    pip_audit = argv[argv.index("--pip-audit") + 1] if "--pip-audit" in argv else "pip-audit"
    return run(pip_audit)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
