"""E-mail to a server that wants STARTTLS and a login (aiosmtpd with a certificate made here and
trusted through CONGRESS_SMTP_CA_FILE): the password is read from CONGRESS_SMTP_PASSWORD_FILE, the
message arrives; with a wrong password the notice fails with the server's code and no password in
what staff see."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from congress.actions.casework import assign_proposal
from congress.actions.notices import set_notices
from congress.application.notice_sender import Sender
from congress.db.models import Notice
from congress.domain.notices import MAX_ATTEMPTS
from congress.notices.settings import smtp_settings
from tests.db.test_casework import registered
from tests.db.test_proposals import act
from tests.notices.conftest import Mailbox, SetClock, free_port
from tests.story import SETUP

PASSWORD = "s3cret-Smtp-pass-4242"


def certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.pem", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class Logins:
    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"union" and auth_data.password == PASSWORD.encode()
        self.seen.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
def tls_sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mailbox, Logins, Path]]:
    cert_file, key_file = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    mailbox, logins, port = Mailbox(), Logins(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, authenticator=logins)
    controller.start()
    password_file = tmp_path / "smtp-password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    for name, value in {"HOST": "127.0.0.1", "PORT": str(port), "SECURITY": "starttls", "USER": "union",
                        "FROM": "union@example.cn", "CA_FILE": str(cert_file),
                        "PASSWORD_FILE": str(password_file)}.items():
        monkeypatch.setenv(f"CONGRESS_SMTP_{name}", value)
    monkeypatch.delenv("CONGRESS_SMTP_PASSWORD", raising=False)
    try:
        yield mailbox, logins, password_file
    finally:
        controller.stop()


def test_starttls_and_a_login_with_the_password_from_a_file(db, story, tls_sink):  # type: ignore[no-untyped-def]
    mailbox, logins, password_file = tls_sink
    act(db, SETUP, set_notices, story.congress_id,
        add_channel={"audience": "department", "department": "人力资源部", "kind": "email", "address": "hr@example.cn"})
    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], "人力资源部")
    assert "s3cret" not in repr(smtp_settings())  # the settings never print it

    counts, _ = Sender(db, SetClock(datetime.now(UTC)), smtp=smtp_settings()).drain()
    assert counts["sent"] == 1 and [s[:6] for s in mailbox.subjects("hr@example.cn")] == ["【提案交办】"]
    assert [ok for _m, ok in logins.seen] == [True]

    # A wrong password: refused by the server, retried, failed; staff see the code, never the password
    password_file.write_text("wrong-password", encoding="utf-8")
    q = registered(db, story, *story.voting()[3:4], story.voting()[4:6], title="关于增设职工书屋的建议")
    act(db, SETUP, assign_proposal, story.congress_id, q["id"], "人力资源部")
    clock = SetClock(datetime.now(UTC))
    sender = Sender(db, clock, smtp=smtp_settings())
    for _ in range(MAX_ATTEMPTS):
        sender.drain()
        clock.advance(hours=2)
    with db.read() as session:
        failed = session.scalar(sa.select(Notice).where(Notice.proposal_id == q["id"]))
    assert failed.status == "failed" and failed.last_error == "邮件服务器拒绝：535"
    assert len(mailbox.subjects("hr@example.cn")) == 1
