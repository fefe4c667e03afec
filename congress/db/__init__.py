"""Storage: the SQLAlchemy models (models.py), the engine with its outage handling (engine.py),
Alembic migrations (migrate.py), how secrets are kept (secrets.py: argon2id hashes, token digests,
the instance key) and the sign-in failures table read for the waiting rule (sign_in_waits.py).
Imports only congress.domain.
"""
