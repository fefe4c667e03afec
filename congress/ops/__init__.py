"""Running it on the day: health and readiness, metrics, backups, a server in a process (docs/deploy.md).

health.py         /healthz and /readyz (and is_draining)
metrics.py        Prometheus series and the cheap functions that record them
exposition.py     /metrics: one worker's registry or every worker's files, dead workers dropped
scrape_access.py  who may read /metrics (this host, or the metrics token): a pure rule
multiprocess.py   PROMETHEUS_MULTIPROC_DIR for `congress serve --workers N`
backup.py         `congress backup`: a consistent copy while the congress runs
server_process.py `congress serve` in a process of its own, for tests, benchmarks and rehearsals
(Draining on SIGTERM is live delivery's part: congress.live.drain.)
"""
