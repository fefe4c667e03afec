"""CPU and memory of a server on this machine, sampled from /proc while the rehearsal runs.

The server is given by pid (``--server-pid``, repeatable) or found from the target URL: for a
loopback host, the listening socket of the port is looked up in /proc/net/tcp{,6} and every
process holding that socket is sampled (the uvicorn parent and its workers share one socket).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "[::1]"}
TCP_LISTEN = "0A"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[3] == TCP_LISTEN and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    return inodes


def pids_listening(port: int) -> list[int]:
    """Processes holding a listening socket on `port` (readable /proc/PID/fd needed: same user or root)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") in wanted:
                    found.append(int(entry))
                    break
            except OSError:
                continue
    return sorted(found)


def local_server_pids(urls: list[str]) -> list[int]:
    pids: set[int] = set()
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.hostname in LOCAL_HOSTS or parts.hostname == "localhost":
            port = parts.port or (443 if parts.scheme == "https" else 80)
            pids.update(pids_listening(port))
    return sorted(pids)


def _cpu_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _memory_kb(pid: int) -> tuple[int, int]:
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


@dataclass
class Sampler:
    """Samples the given pids once a second in a thread (the event loop may be busy)."""

    pids: list[int]
    interval: float = 1.0
    cpu_percent: list[float] = field(default_factory=list)  # all pids together, per interval
    rss_mb: list[float] = field(default_factory=list)
    hwm_mb: float = 0.0
    cpu_seconds: float = 0.0
    seconds: float = 0.0
    marks: list[tuple[str, float, float]] = field(default_factory=list)  # phase, start, end (monotonic)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._phase_samples: list[tuple[float, float]] = []  # (monotonic time, cpu %)

    def start(self) -> Sampler:
        self.machine_busy_percent: float | None = None
        self.loadavg_start = loadavg()
        self._thread.start()
        return self

    def _run(self) -> None:
        machine_start = _machine_ticks()
        start_ticks = {pid: _cpu_ticks(pid) or 0 for pid in self.pids}
        last_ticks, last_time, started = dict(start_ticks), time.monotonic(), time.monotonic()
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            ticks = {pid: _cpu_ticks(pid) for pid in self.pids}
            used = sum((t - last_ticks.get(pid, 0)) for pid, t in ticks.items() if t is not None)
            percent = 100.0 * used / CLOCK_TICKS / (now - last_time)
            self.cpu_percent.append(percent)
            self._phase_samples.append((now, percent))
            memory = [_memory_kb(pid) for pid in self.pids]
            self.rss_mb.append(sum(r for r, _ in memory) / 1024)
            self.hwm_mb = max(self.hwm_mb, sum(h for _, h in memory) / 1024)
            last_ticks = {pid: t for pid, t in ticks.items() if t is not None}
            last_time = now
            self.cpu_seconds = sum(t - start_ticks.get(pid, 0) for pid, t in last_ticks.items()) / CLOCK_TICKS
            self.seconds = now - started
            busy, total = _machine_ticks()
            if total > machine_start[1]:
                self.machine_busy_percent = 100.0 * (busy - machine_start[0]) / (total - machine_start[1])

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def phase_cpu(self, start: float, end: float) -> dict[str, float] | None:
        """CPU between two monotonic times: average % of one core, and CPU seconds used (the
        seconds do not depend on how much other load shared the machine; the % does)."""
        values = [p for t, p in self._phase_samples if start < t <= end + self.interval]
        if not values:
            return None
        return {"percent": round(sum(values) / len(values), 1),
                "cpu_seconds": round(sum(values) / 100 * self.interval, 1), "seconds": round(end - start, 1)}

    def machine(self) -> dict[str, object]:
        """The whole machine meanwhile: other load skews every figure on a shared box."""
        return {"cpus": os.cpu_count(), "busy_percent_avg": None if self.machine_busy_percent is None
                else round(self.machine_busy_percent, 1),
                "loadavg_start": self.loadavg_start, "loadavg_end": loadavg()}

    def summary(self) -> dict[str, object]:
        if not self.pids:
            return {"sampled": False}
        cpu = sorted(self.cpu_percent)
        return {
            "sampled": True, "pids": self.pids, "samples": len(cpu),
            "cpu_seconds": round(self.cpu_seconds, 1),
            "cpu_percent_avg": round(self.cpu_seconds / self.seconds * 100, 1) if self.seconds else None,
            "cpu_percent_p90": round(cpu[int(0.9 * (len(cpu) - 1))], 1) if cpu else None,
            "cpu_percent_max": round(cpu[-1], 1) if cpu else None,
            "rss_mb_max": round(max(self.rss_mb), 1) if self.rss_mb else None,
            "rss_mb_end": round(self.rss_mb[-1], 1) if self.rss_mb else None,
            "hwm_mb": round(self.hwm_mb, 1),
        }
