"""Pure rules: no I/O, frozen dataclasses and functions. The congress's vocabulary (kinds.py), who
may do what (permissions.py: permissions are data), the vote and proposal state machines
(votes.py, proposals.py), who may watch and see which event (watching.py), sign-in waits, roster
parsing and composition, notices' rules, terms and sessions, and how a command is declared and
its arguments checked (commands.py). Everything else may import domain; domain imports nothing
of the package.
"""
