"""The application layer: the command table (commands.py, assembled from every writer's and
read's COMMANDS), the write service (service.py: the group-commit writer, one queue per process),
and what stands at the door of every command: sign-in and sessions (auth.py), whether a sign-in
still grants what it acts as (access.py, connection_access.py), the rate budget (ratelimit.py),
observers' admission (watching.py), the observers' hello (observer_start.py) and the notice sender
(notice_sender.py). It runs actions and reads and publishes their events to live; routes and the
CLI call it.
"""
