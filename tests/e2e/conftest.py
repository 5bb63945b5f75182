"""The `mail_world` fixture: an IMAP server, an SMTP server that delivers into it, and users.

Dovecot when it is installed (CI sets MAILFLOW_TEST_IMAP=dovecot to require it), else
the embedded pymap server, so the suite also passes for a developer without root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mailflow.embedded import EmbeddedIMAP, LoopbackSMTP
from tests.e2e.servers import (
    DovecotServer,
    StoredMessage,
    dovecot_available,
    fetch_all,
    wait_gone,
)

USERS = {
    "pengaduan@klero.desa.id": "inbox-secret",
    "siti@warga.example": "siti-secret",
    "budi@warga.example": "budi-secret",
    "admin@klero.desa.id": "admin-secret",
    "sekdes@klero.desa.id": "sekdes-secret",
    "kasi@klero.desa.id": "kasi-secret",
    "kades@klero.desa.id": "kades-secret",
}


def chosen_backend() -> str:
    wanted = os.environ.get("MAILFLOW_TEST_IMAP", "")
    if wanted == "dovecot" and not dovecot_available():
        pytest.fail("MAILFLOW_TEST_IMAP=dovecot but Dovecot is not installed "
                    "(run scripts/install-test-deps.sh as root)")
    if wanted in ("dovecot", "embedded"):
        return wanted
    return "dovecot" if dovecot_available() else "embedded"


class MailWorld:
    def __init__(self, imap: Any, backend: str) -> None:
        self.imap = imap
        self.backend = backend
        self.users: dict[str, str] = imap.users
        self.imap_host, self.imap_port = imap.host, imap.port
        self.smtp = LoopbackSMTP(deliver=self._deliver_smtp, knows=lambda a: a in self.users)
        self.smtp_host, self.smtp_port = self.smtp.host, self.smtp.port

    def _deliver_smtp(self, user: str, raw: bytes) -> None:
        self.imap.deliver(user, raw)

    def deliver(self, user: str, raw: bytes, internaldate: datetime | None = None) -> None:
        self.imap.deliver(user, raw, internaldate)

    def messages(self, user: str, folder: str = "INBOX") -> list[StoredMessage]:
        return fetch_all(self.imap_host, self.imap_port, user, self.users[user], folder)


@pytest.fixture(scope="session")
def stopping_dovecots() -> Iterator[list[int]]:
    """Masters told to stop; waited for once at the end instead of ~2.5 s after every test."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        wait_gone(pid)


@pytest.fixture
def mail_world(stopping_dovecots: list[int]) -> Iterator[MailWorld]:
    backend = chosen_backend()
    # Dovecot's unprivileged processes must reach the mail; pytest's tmp dirs are 0700.
    workdir = Path(tempfile.mkdtemp(prefix="mailflow-dovecot-"))
    workdir.chmod(0o755)
    imap: Any = (DovecotServer(workdir, USERS) if backend == "dovecot" else EmbeddedIMAP(USERS))
    imap.start()
    world = MailWorld(imap, backend)
    world.smtp.start()
    try:
        yield world
    finally:
        world.smtp.stop()
        if isinstance(imap, DovecotServer):
            pid = imap.stop(wait=False)
            if pid is not None:
                stopping_dovecots.append(pid)
        else:
            imap.stop()
        shutil.rmtree(workdir, ignore_errors=True)
