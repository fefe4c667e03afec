"""What the notices read from the environment: the site's public address for links, and the SMTP
server. The SMTP password comes from the environment or a file, never from the database or a page."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def public_url(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return (env.get("CONGRESS_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")


@dataclass(frozen=True, slots=True)
class Smtp:
    host: str
    port: int
    security: str  # starttls | ssl | none
    user: str | None
    sender: str
    password: str | None = field(default=None, repr=False)  # never printed
    timeout: float = 20.0
    ca_file: str | None = None  # a private CA the server's certificate is signed by (else the system's)


def smtp_settings(environ: dict[str, str] | None = None) -> Smtp | None:
    """CONGRESS_SMTP_HOST, _PORT, _SECURITY (starttls | ssl | none), _USER, _FROM, _CA_FILE, and the
    password in CONGRESS_SMTP_PASSWORD or the file named by CONGRESS_SMTP_PASSWORD_FILE. None: no e-mail."""
    env = os.environ if environ is None else environ
    host = env.get("CONGRESS_SMTP_HOST")
    if not host:
        return None
    security = (env.get("CONGRESS_SMTP_SECURITY") or "starttls").lower()
    if security not in ("starttls", "ssl", "none"):
        raise ValueError("CONGRESS_SMTP_SECURITY should be starttls, ssl or none")
    port = int(env.get("CONGRESS_SMTP_PORT") or {"ssl": 465, "starttls": 587, "none": 25}[security])
    password = env.get("CONGRESS_SMTP_PASSWORD")
    if not password and env.get("CONGRESS_SMTP_PASSWORD_FILE"):
        password = Path(env["CONGRESS_SMTP_PASSWORD_FILE"]).read_text(encoding="utf-8").strip()
    user = env.get("CONGRESS_SMTP_USER") or None
    return Smtp(host=host, port=port, security=security, user=user,
                sender=env.get("CONGRESS_SMTP_FROM") or user or f"congress@{host}", password=password or None,
                ca_file=env.get("CONGRESS_SMTP_CA_FILE") or None)
