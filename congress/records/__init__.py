"""Records anyone can check: the hash chain of the event log, the archive, its verifier, the minutes."""
