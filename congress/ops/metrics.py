"""The Prometheus series of a worker and the calls that record them (docs/deploy.md, "Health checks
and metrics"). Every series is named `congress_*`; /metrics serves them (congress.ops.exposition).

Recording is a counter or histogram update in memory (or, with several workers, in a memory-mapped
file), never other I/O. The hot paths call these once per round or batch: the fan-out counts what a
round delivered with one `inc(n)`, never one update per connection per event.

Several workers (`congress serve --workers N`): the CLI sets PROMETHEUS_MULTIPROC_DIR before uvicorn
starts them (congress.ops.multiprocess), so prometheus_client in each worker keeps its values in
files there and /metrics adds up every worker's. The gauge of open connections is `livesum`: a
worker that has died stops counting. One process: the default registry, in memory.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds: a command is answered in milliseconds when all is well; a second or more is an incident.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Commands per group commit (group_commit.BATCH_LIMIT is 500)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
# Seconds one group commit takes, its fsync included
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Seconds from publishing to Redis until the message is back from it
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)

CONNECTIONS = Gauge("congress_connections", "Open websocket connections, by role (staff, delegate, observer, ...)",
                    ["role"], multiprocess_mode="livesum")
COMMANDS_TOTAL = Counter("congress_commands", "Commands answered, by op and outcome "
                         "(ok, refused, unavailable, error, cancelled)", ["op", "outcome"])
COMMAND_SECONDS = Histogram("congress_command_seconds", "Seconds from a command's arrival to its answer, by op",
                            ["op"], buckets=LATENCY_BUCKETS)
BATCH_SIZE = Histogram("congress_commit_batch_size", "Write commands in one group commit", buckets=BATCH_BUCKETS)
COMMIT_SECONDS = Histogram("congress_commit_seconds", "Seconds one group commit took (its retries included)",
                           buckets=COMMIT_BUCKETS)
EVENTS_PUBLISHED = Counter("congress_events_published", "Events committed and published by this worker")
EVENTS_DELIVERED = Counter("congress_events_delivered", "Events handed to live connections (one per connection "
                           "that gets it: the fan-out)")
SLOW_CLIENTS = Counter("congress_slow_client_disconnects", "Connections closed with 4001 because they could "
                       "not keep up (they resume by seq)")
RESUMES = Counter("congress_resumes", "How each websocket started: snapshot (fresh), resume (read from the log) "
                  "or resume_memory (answered from the hub's memory)", ["kind"])
BACKPLANE_LAG = Histogram("congress_backplane_lag_seconds", "Seconds from publishing events to Redis until "
                          "the worker hears them back (several workers only)", buckets=LAG_BUCKETS)
BALLOTS = Counter("congress_ballots_acknowledged", "cast_ballot commands acknowledged (stored, or a resend "
                  "answered with the stored reply)")

RESUME_KINDS = ("snapshot", "resume", "resume_memory")
OUTCOMES = ("ok", "refused", "unavailable", "error", "cancelled")

# Children looked up once: `.labels()` takes a lock and builds a key on every call.
_commands: dict[tuple[str, str], Counter] = {}
_latency: dict[str, Histogram] = {}
_connections: dict[str, Gauge] = {}
_resumes = {kind: RESUMES.labels(kind) for kind in RESUME_KINDS}


# The ops of the command table, told by the application layer when it assembles the table
# (congress.application.commands.load_all): metrics sit below it and import nothing of it.
_known_ops: frozenset[str] = frozenset()


def know_ops(ops: frozenset[str]) -> None:
    global _known_ops
    _known_ops = ops


def op_label(op: str) -> str:
    """The op as a label: only ops of the command table, so a client inventing names adds no series."""
    return op if op in _known_ops else "unknown"


def command(op: str, outcome: str, seconds: float) -> None:
    """A command was answered (or refused) after `seconds`."""
    op = op_label(op)
    key = (op, outcome)
    counter = _commands.get(key)
    if counter is None:
        counter = _commands[key] = COMMANDS_TOTAL.labels(op, outcome)
    counter.inc()
    histogram = _latency.get(op)
    if histogram is None:
        histogram = _latency[op] = COMMAND_SECONDS.labels(op)
    histogram.observe(seconds)
    if op == "cast_ballot" and outcome == "ok":
        BALLOTS.inc()


def commit_batch(size: int, seconds: float) -> None:
    BATCH_SIZE.observe(size)
    COMMIT_SECONDS.observe(seconds)


def events_published(n: int) -> None:
    if n:
        EVENTS_PUBLISHED.inc(n)


def events_delivered(n: int) -> None:
    """`n` event copies handed to connections in one round (one call per round, not per connection)."""
    if n:
        EVENTS_DELIVERED.inc(n)


def slow_client_disconnect() -> None:
    SLOW_CLIENTS.inc()


def resume(kind: str) -> None:
    """How a websocket started: 'snapshot', 'resume' (from the log) or 'resume_memory' (from the hub)."""
    _resumes[kind].inc()


def backplane_lag(seconds: float) -> None:
    BACKPLANE_LAG.observe(seconds)


def _connections_of(role: str) -> Gauge:
    gauge = _connections.get(role)
    if gauge is None:
        gauge = _connections[role] = CONNECTIONS.labels(role)
    return gauge


def connection_opened(role: str) -> None:
    _connections_of(role).inc()


def connection_closed(role: str) -> None:
    _connections_of(role).dec()
