"""The `mail_world` fixture: a real IMAP server, an SMTP server that delivers into it, and users.

The IMAP server is a private Dovecot when one is installed, else the embedded pymap
server, so the suite also passes for a developer without root or Dovecot. The
environment variable MAILFLOW_TEST_IMAP chooses explicitly: `dovecot` requires
Dovecot and fails loudly without it (CI sets this, so a broken install cannot
quietly downgrade the tests), `embedded` forces pymap.

Each test gets fresh servers and mailboxes: a private Dovecot starts in about
0.05 s and is killed in about 0.01 s, pymap in about 0.05 s, so sharing servers
between tests (and cleaning up after each) would buy nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from mailflow.demo.loopback import EmbeddedIMAP, LoopbackIMAP
from mailflow.demo.smtp import LoopbackSMTP
from tests.harness.mailboxes import StoredMessage, fetch_all
from tests.harness.servers import DovecotServer, dovecot_available

#: The village inbox, residents, and staff every test starts with (address -> password).
USERS = {
    "pengaduan@klero.desa.id": "inbox-secret",
    "siti@warga.example": "siti-secret",
    "budi@warga.example": "budi-secret",
    "admin@klero.desa.id": "admin-secret",
    "sekdes@klero.desa.id": "sekdes-secret",
    "kasi@klero.desa.id": "kasi-secret",
    "kades@klero.desa.id": "kades-secret",
}
BACKENDS = ("dovecot", "embedded")
_E2E_DIR = Path(__file__).parent


def chosen_backend() -> str:
    """The IMAP backend for this run, from MAILFLOW_TEST_IMAP and what is installed."""
    wanted = os.environ.get("MAILFLOW_TEST_IMAP", "").strip().lower()
    if wanted not in ("", *BACKENDS):
        pytest.fail(f"MAILFLOW_TEST_IMAP={wanted!r}: use 'dovecot', 'embedded' or leave it unset",
                    pytrace=False)
    if wanted == "dovecot" and not dovecot_available():
        pytest.fail("MAILFLOW_TEST_IMAP=dovecot, but Dovecot's IMAP server is not installed "
                    "(run scripts/install-test-deps.sh as root)", pytrace=False)
    if wanted:
        return wanted
    return "dovecot" if dovecot_available() else "embedded"


def server_workdir() -> Path:
    """A fresh directory that Dovecot's unprivileged processes can enter.

    pytest's tmp_path sits under a 0700 directory owned by root when run as root,
    which the mail owner (mailflowtest) cannot enter.
    """
    workdir = Path(tempfile.mkdtemp(prefix="mailflow-imap-"))
    workdir.chmod(0o755)
    return workdir


def start_imap(backend: str, workdir: Path, users: dict[str, str]) -> LoopbackIMAP:
    """A started IMAP server of the given backend with the given users."""
    server: LoopbackIMAP = (DovecotServer(workdir, users) if backend == "dovecot"
                            else EmbeddedIMAP(users))
    server.start()
    return server


def stop_imap(server: LoopbackIMAP) -> None:
    """Stop a test server as fast as possible: its mail is thrown away next."""
    if isinstance(server, DovecotServer):
        server.stop(graceful=False)
    else:
        server.stop()


class MailWorld:
    """What an end-to-end test talks to: IMAP and SMTP on loopback, with users.

    Attributes: `backend` ("dovecot" or "embedded"), `imap` (the server object),
    `imap_host`, `imap_port`, `smtp` (LoopbackSMTP: `tempfail`, `stop()`,
    `start()`, `accepted`), `smtp_host`, `smtp_port`, `users` (address ->
    password; the same dict the IMAP server uses), `aliases` (address -> user: mail
    for an address that cannot log in over IMAP, such as `büdi@desa.test`, lands in
    that user's mailbox, as with an alias on a real server).
    """

    def __init__(self, imap: LoopbackIMAP, backend: str) -> None:
        self.imap = imap
        self.backend = backend
        self.users: dict[str, str] = imap.users
        self.aliases: dict[str, str] = {}
        self.imap_host, self.imap_port = imap.host, imap.port
        self.smtp = LoopbackSMTP(deliver=self._deliver_smtp, knows=self.knows)
        self.smtp_host, self.smtp_port = self.smtp.host, self.smtp.port

    def knows(self, address: str) -> bool:
        """Whether `address` has a mailbox here (case-insensitive, as in mail systems)."""
        return self._user(address) is not None

    def _user(self, address: str) -> str | None:
        folded = address.casefold()
        alias = next((user for alias, user in self.aliases.items()
                      if alias.casefold() == folded), None)
        if alias is not None:
            return alias
        return next((user for user in self.users if user.casefold() == folded), None)

    def _deliver_smtp(self, address: str, raw: bytes) -> None:
        user = self._user(address)
        if user is None:
            raise KeyError(f"{address} has no mailbox here")
        self.imap.deliver(user, raw)

    def add_user(self, address: str, password: str) -> None:
        """Give `address` a mailbox (it can log in and receive mail at once)."""
        self.imap.add_user(address, password)

    def deliver(self, user: str, raw: bytes, internaldate: datetime | None = None,
                folder: str = "INBOX") -> None:
        """Put a message into `user`'s mailbox by IMAP APPEND; internaldate must be aware."""
        self.imap.deliver(user, raw, internaldate, folder)

    def messages(self, user: str, folder: str = "INBOX") -> list[StoredMessage]:
        """`user`'s messages in `folder`, read without changing any flag."""
        return fetch_all(self.imap_host, self.imap_port, user, self.users[user], folder)


@pytest.fixture
def mail_world() -> Iterator[MailWorld]:
    """Fresh IMAP and SMTP servers with USERS, for one test."""
    backend = chosen_backend()
    workdir = server_workdir()
    try:
        imap = start_imap(backend, workdir, dict(USERS))
        try:
            world = MailWorld(imap, backend)
            world.smtp.start()
            try:
                yield world
            finally:
                world.smtp.stop()
        finally:
            stop_imap(imap)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in tests/e2e as `e2e`, so `-m "not e2e"` leaves out the servers."""
    for item in items:
        if item.path.is_relative_to(_E2E_DIR):
            item.add_marker(pytest.mark.e2e)
