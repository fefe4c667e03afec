"""Live delivery to open connections, in one process and across workers: the hub (hub.py: events in
seq order, each connection's bounded queue), connections and websocket frames (connection.py,
frames.py), the Redis backplane and catch-up when it is away (backplane.py, catch_up.py), the
observers' line and history (observer_line.py, observer_history.py), presence and progress
coalesced (state.py, LiveState) and draining on restart (drain.py). It reads nothing of the
writers: the application layer publishes into it.
"""
