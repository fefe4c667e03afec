"""Running it on the day: health and readiness, metrics, draining, faults (docs/deploy.md).

health.py         /healthz and /readyz (and is_draining)
metrics.py        Prometheus series and the cheap functions that record them
exposition.py     /metrics: one worker's registry or every worker's files, dead workers dropped
scrape_access.py  who may read /metrics (this host, or the metrics token): a pure rule
multiprocess.py   PROMETHEUS_MULTIPROC_DIR for `congress serve --workers N`
drain.py          SIGTERM: finish what is in flight, close with 1012, exit
backup.py         `congress backup`: a consistent copy while the congress runs
"""
