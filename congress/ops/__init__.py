"""Running it on the day: health and readiness, metrics, draining, faults.

health.py   /healthz and /readyz (and is_draining)
metrics.py  Prometheus series and the cheap functions that record them
"""
