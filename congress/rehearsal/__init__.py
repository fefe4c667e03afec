"""`congress rehearse`: a full-size dress rehearsal of a congress against a running deployment.

It creates a congress marked as a rehearsal, imports a generated roster, issues access codes and
then drives the day with real clients over HTTP and websockets — delegates, observers, staff —
spread over several client processes, and ends with a report whose verdict is the go/no-go check.

Modules, each small:

- ``roster``   — the generated roster, the ballots and the proposals (the plan; pure)
- ``http``     — the few HTTP calls (sign-in, create, roster, codes, state) with the rehearsal guard
- ``client``   — one websocket client: seq stream, resume by ``since``, commands with resend
- ``worker``   — a client process: its share of observers and delegates, driven through a pipe
- ``ledger``   — the server's log as the truth (staff ledger + public log reader) and the checks
- ``procstat`` — CPU and memory of a local server from /proc
- ``scenario`` — the coordinator: setup, the day from observers to the last check, the report's frame
- ``processes`` — the client processes: how many, started, asked, stopped
- ``phases``  — one vote (with the fault and the probes), the proposals and triage, the storm
- ``outcome`` — the clients' results merged and checked against the truth; tallies compared
- ``report``   — figures, verdict, the rich/plain/JSON output
"""

from __future__ import annotations

from congress.rehearsal.scenario import Options, rehearse

__all__ = ["Options", "rehearse"]
