"""A test-local nginx in front of `congress serve` processes, configured from the shipped deploy/nginx.conf.

The shipped file is turned into a test config by a small, explicit transformation, so the locations,
headers, buffering and timeouts that tests go through are the ones operators deploy:

- the `upstream congress` server lines are replaced by the test's workers (with the parameters of
  the shipped lines, e.g. max_fails);
- the port-80 redirect server (ACME challenge + 301) is dropped;
- in the HTTPS server, `listen … ssl …` becomes `listen 127.0.0.1:<port>;` and the `server_name`
  and `ssl_*` lines are dropped (plain HTTP on loopback).

Everything else (map, upstream least_conn/keepalive, proxy_set_header, every location) is kept as is.
The surrounding nginx.conf only adds what a private, unprivileged-path instance needs: `daemon off`,
pid/error log/temp paths in the test's folder, and `user root;` when run as root.

    with Nginx(tmp_path, [8001, 8002]) as nginx:
        httpx.get(f"{nginx.url}/readyz")
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from congress.ops.server_process import ROOT, Loopback, end_process, free_port, wait_until_answering

SHIPPED = ROOT / "deploy" / "nginx.conf"
IN_CI = os.environ.get("CI", "").lower() == "true"


def nginx_binary() -> str:
    """The nginx executable; skipped locally without it, a failure in CI (which installs it)."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        if IN_CI:
            pytest.fail("nginx is not installed but CI requires the nginx tests to run")
        pytest.skip("nginx is not installed")
    return path


def _server_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every top-level `server { … }` block (braces counted, comments ignored)."""
    blocks = []
    for match in re.finditer(r"^server\s*\{", text, flags=re.M):
        depth, i = 0, match.start()
        while i < len(text):
            ch = text[i]
            if ch == "#":
                i = text.index("\n", i)
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    blocks.append((match.start(), i + 1))
                    break
            i += 1
    return blocks


def site_config(upstream_ports: list[int], listen_port: int, shipped: str | None = None) -> str:
    """The shipped site config with only upstreams, listen port and TLS/server_name changed (see above)."""
    text = SHIPPED.read_text() if shipped is None else shipped
    match = re.search(r"(upstream congress \{\n(?:[^\n]*\n)*?)((?:    server [^\n]*\n)+)", text)
    if match is None:
        raise ValueError("deploy/nginx.conf: no `upstream congress { server …; }` block found")
    # the shipped lines' parameters (max_fails, …) are kept: only the address changes
    parameters = re.match(r"    server \S+(.*);\n", match.group(2)).group(1)  # type: ignore[union-attr]
    servers = "".join(f"    server 127.0.0.1:{p}{parameters};\n" for p in upstream_ports)
    text = text[:match.start(2)] + servers + text[match.end(2):]
    blocks = _server_blocks(text)
    redirect = [b for b in blocks if "return 301 https://" in text[b[0]:b[1]]]
    tls = [b for b in blocks if re.search(r"listen\s+443 ssl", text[b[0]:b[1]])]
    if len(redirect) != 1 or len(tls) != 1:
        raise ValueError("deploy/nginx.conf: expected one port-80 redirect server and one TLS server")
    start, end = tls[0]
    body = text[start:end]
    lines = []
    listened = False
    for line in body.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("listen "):
            if not listened:
                lines.append(f"    listen 127.0.0.1:{listen_port};\n")
                listened = True
            continue
        if stripped.startswith(("server_name ", "ssl_")):
            continue
        lines.append(line)
    text = text[:start] + "".join(lines) + text[end:]
    r_start, r_end = redirect[0]
    return text[:r_start] + text[r_end:]


def main_config(folder: Path, site: Path) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\n"
        f"error_log {folder / 'error.log'} info;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        f"    access_log {folder / 'access.log'};\n"
        f"    client_body_temp_path {folder / 'tmp-body'};\n"
        f"    proxy_temp_path {folder / 'tmp-proxy'};\n"
        f"    fastcgi_temp_path {folder / 'tmp-fastcgi'};\n"
        f"    uwsgi_temp_path {folder / 'tmp-uwsgi'};\n"
        f"    scgi_temp_path {folder / 'tmp-scgi'};\n"
        f"    include {site};\n"
        "}\n"
    )


class Nginx(Loopback):
    """nginx started in the foreground on a free loopback port, proxying to `upstream_ports`."""

    def __init__(self, folder: Path, upstream_ports: list[int], *, port: int | None = None,
                 shipped: str | None = None) -> None:
        """`shipped`: deploy/nginx.conf's text with its instance ports replaced (see site_config)."""
        self.folder = Path(folder) / "nginx"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        site = self.folder / "congress.conf"
        site.write_text(site_config(upstream_ports, self.port, shipped))
        conf = self.folder / "nginx.conf"
        conf.write_text(main_config(self.folder, site))
        binary = nginx_binary()
        check = subprocess.run([binary, "-t", "-p", str(self.folder), "-c", str(conf),
                                "-g", f"pid {self.folder / 'nginx.pid'};"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.log = (self.folder / "stderr.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", str(conf),
             "-g", f"daemon off; pid {self.folder / 'nginx.pid'};"],
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_until_answering(f"{self.url}/", self.process, 20, pause=0.05, any_status=True):
            self.stop()
            raise RuntimeError(f"nginx did not start: {self.error_log()[-2000:]}")

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """SIGQUIT (graceful), SIGKILL after 10 s."""
        end_process(self.process, signal.SIGQUIT, 10)
        self.log.close()

    def __enter__(self) -> Nginx:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
