"""TLS to both servers: implicit TLS and STARTTLS, certificates always verified."""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trustme

from mailflow.demo.smtp import LoopbackSMTP
from mailflow.service import Service
from tests.e2e.support import INBOX, SEKDES, SITI, complaint, config_for, tickets
from tests.harness.mailboxes import fetch_all
from tests.harness.servers import DovecotServer, dovecot_available

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not dovecot_available(), reason="TLS tests run on Dovecot")]

USERS = {INBOX: "inbox-secret", SITI: "siti-secret", SEKDES: "sekdes-secret"}
RECEIVED = datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("Asia/Jakarta"))


class TlsWorld:
    """Dovecot with a certificate for 127.0.0.1 from a throwaway CA, and SMTP with STARTTLS."""

    def __init__(self, workdir: Path) -> None:
        self.ca = trustme.CA()
        server_cert = self.ca.issue_cert("127.0.0.1")
        chain, key = workdir / "chain.pem", workdir / "key.pem"
        for blob in server_cert.cert_chain_pems:
            with chain.open("ab") as out:
                out.write(blob.bytes())
        server_cert.private_key_pem.write_to_path(str(key))
        self.ca_file = workdir / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.imap = DovecotServer(workdir / "dovecot", USERS, tls=(chain, key))
        self.users = USERS
        self.imap_host = "127.0.0.1"
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_cert.configure_cert(context)
        self.smtp = LoopbackSMTP(deliver=self.imap.deliver, knows=lambda a: a in USERS,
                                 tls_context=context)
        self.smtp_host, self.smtp_port = self.smtp.host, self.smtp.port


@pytest.fixture
def tls_world() -> Iterator[TlsWorld]:
    workdir = Path(tempfile.mkdtemp(prefix="mailflow-tls-"))
    workdir.chmod(0o755)
    world = TlsWorld(workdir)
    world.imap.start()
    world.smtp.start()
    try:
        yield world
    finally:
        world.smtp.stop()
        world.imap.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _config(world: TlsWorld, tmp_path: Path, security: str, port: int,
            ca_file: Path | None) -> Any:
    world.imap_port = port  # type: ignore[attr-defined]
    ca = {"tls_ca_file": str(ca_file)} if ca_file else {}
    return config_for(world, tmp_path, imap={"security": security, **ca},
                      smtp={"security": "starttls", **ca})


def _poll(cfg: Any) -> Any:
    service = Service(cfg)
    try:
        return service.poll_once()
    finally:
        service.engine.dispose()


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_complaint_over_tls_is_acknowledged_over_starttls(tls_world: TlsWorld, tmp_path: Path,
                                                          security: str) -> None:
    port = tls_world.imap.tls_port if security == "ssl" else tls_world.imap.port
    cfg = _config(tls_world, tmp_path, security, port, tls_world.ca_file)
    tls_world.imap.deliver(INBOX, complaint(), internaldate=RECEIVED)

    result = _poll(cfg)

    assert result.imap_error is None
    assert result.outbox.sent == 2  # acknowledgement and the verifier's notification
    assert len(tickets(cfg)) == 1
    assert len(fetch_all(tls_world.imap.host, tls_world.imap.port, SITI, USERS[SITI])) == 1


def test_untrusted_certificate_is_refused_and_nothing_is_lost(tls_world: TlsWorld,
                                                             tmp_path: Path) -> None:
    cfg = _config(tls_world, tmp_path, "ssl", tls_world.imap.tls_port, None)
    tls_world.imap.deliver(INBOX, complaint(), internaldate=RECEIVED)

    result = _poll(cfg)

    assert result.imap_error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in result.imap_error
    assert tickets(cfg) == []
    trusted = _config(tls_world, tmp_path, "ssl", tls_world.imap.tls_port, tls_world.ca_file)
    assert _poll(trusted).intake.tickets == 1
