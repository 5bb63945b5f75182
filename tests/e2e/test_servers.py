"""Tests of the loopback mail harness itself: what end-to-end tests may rely on.

Three groups: the `mail_world` fixture on whichever backend this run uses; the
IMAP behaviour mailflow depends on, on BOTH backends where installed (so that
differences such as pymap dropping keywords are written down as observed facts,
not folklore); and the private Dovecot's process, port and file hygiene.
"""

from __future__ import annotations

import imaplib
import os
import re
import shutil
import smtplib
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailflow.demo.loopback import EmbeddedIMAP, LoopbackIMAP
from mailflow.demo.smtp import LoopbackSMTP
from tests.e2e.conftest import (
    USERS,
    MailWorld,
    chosen_backend,
    server_workdir,
    start_imap,
    stop_imap,
)
from tests.harness.mailboxes import StoredMessage, fetch_all, parse_fetch, parse_internaldate
from tests.harness.servers import DovecotServer, dovecot_available
from tests.harness.unix import process_group_members

pytestmark = [pytest.mark.e2e, pytest.mark.no_test_database]  # the mail servers alone

INBOX = "pengaduan@klero.desa.id"
SITI = "siti@warga.example"
BUDI = "budi@warga.example"
WIB = ZoneInfo("Asia/Jakarta")
TAKEN = "$MailflowTaken"


def message(subject: str = "Jalan rusak di Dusun Krajan", body: str = "Mohon segera diperbaiki.",
            sender: str = SITI) -> bytes:
    """A small complaint with CRLF line ends and 8-bit UTF-8 in the body, as mail arrives."""
    return (f"From: Siti Aminah <{sender}>\r\nTo: {INBOX}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{time.monotonic_ns()}@warga.example>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            f"\r\n{body}\r\nTerima kasih — salam dari warga.\r\n").encode()


def _forced() -> str:
    return os.environ.get("MAILFLOW_TEST_IMAP", "").strip().lower()


def _dovecot_param() -> object:
    """Dovecot where installed; required (never skipped) under MAILFLOW_TEST_IMAP=dovecot."""
    if _forced() == "embedded":
        reason = "MAILFLOW_TEST_IMAP=embedded"
    elif not dovecot_available() and _forced() != "dovecot":
        reason = "Dovecot is not installed"
    else:
        return pytest.param("dovecot", id="dovecot")
    return pytest.param("dovecot", id="dovecot", marks=pytest.mark.skip(reason=reason))


BOTH = [_dovecot_param(), pytest.param("embedded", id="embedded")]
needs_dovecot = pytest.mark.skipif(_forced() == "embedded" or not dovecot_available(),
                                   reason="needs Dovecot (and MAILFLOW_TEST_IMAP not 'embedded')")


@pytest.fixture(params=BOTH)
def server(request: pytest.FixtureRequest) -> Iterator[LoopbackIMAP]:
    """A started IMAP server of each backend, with the inbox and two residents."""
    workdir = server_workdir()
    users = {INBOX: USERS[INBOX], SITI: USERS[SITI], BUDI: USERS[BUDI]}
    try:
        imap = start_imap(request.param, workdir, users)
        try:
            yield imap
        finally:
            stop_imap(imap)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A started private Dovecot (skipped where there is none)."""
    if _forced() == "embedded" or not dovecot_available():
        pytest.skip("needs Dovecot (and MAILFLOW_TEST_IMAP not 'embedded')")
    workdir = server_workdir()
    try:
        imap = DovecotServer(workdir, {INBOX: USERS[INBOX], SITI: USERS[SITI]})
        imap.start()
        try:
            yield imap
        finally:
            imap.stop(graceful=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def session(imap: LoopbackIMAP, user: str) -> Iterator[imaplib.IMAP4]:
    """A logged-in imaplib session, logged out afterwards."""
    client = imaplib.IMAP4(imap.host, imap.port, timeout=30)
    try:
        client.login(user, imap.users[user])
        yield client
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def backend_of(imap: LoopbackIMAP) -> str:
    return "dovecot" if isinstance(imap, DovecotServer) else "embedded"


def refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# --- the mail_world fixture, on this run's backend ----------------------------------------

def test_world_offers_the_village_users_on_loopback(mail_world: MailWorld) -> None:
    assert mail_world.backend == chosen_backend()
    assert isinstance(mail_world.imap, DovecotServer if mail_world.backend == "dovecot"
                      else EmbeddedIMAP)
    for user in (INBOX, SITI, BUDI, "admin@klero.desa.id"):
        assert user in mail_world.users
        assert mail_world.messages(user) == []
    assert mail_world.imap_host == mail_world.smtp_host == "127.0.0.1"
    assert mail_world.imap_port != mail_world.smtp_port


def test_smtp_delivers_into_each_recipients_mailbox(mail_world: MailWorld) -> None:
    raw = message()
    before = datetime.now(UTC).replace(microsecond=0)
    with smtplib.SMTP(mail_world.smtp_host, mail_world.smtp_port, timeout=30) as client:
        refused_rcpts = client.sendmail(INBOX, [SITI, "Budi@Warga.Example"], raw)
    assert refused_rcpts == {}
    for user in (SITI, BUDI):
        [stored] = mail_world.messages(user)
        assert stored.raw == raw
        assert before - timedelta(seconds=1) <= stored.internaldate <= datetime.now(UTC)
    assert mail_world.smtp.accepted == [(INBOX, (SITI, BUDI), raw)]
    assert mail_world.messages(INBOX) == []


def test_unknown_recipient_is_refused_with_550(mail_world: MailWorld) -> None:
    with smtplib.SMTP(mail_world.smtp_host, mail_world.smtp_port, timeout=30) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refusal:
            client.sendmail(INBOX, ["tidak-ada@warga.example"], message())
        code, text = refusal.value.recipients["tidak-ada@warga.example"]
        assert code == 550 and text.startswith(b"5.1.1")
        # One bad recipient among good ones: the good ones still get the message.
        assert client.sendmail(INBOX, ["tidak-ada@warga.example", SITI], message()) == {
            "tidak-ada@warga.example": (550, b"5.1.1 No such user here")}
    assert len(mail_world.messages(SITI)) == 1
    assert [rcpts for _, rcpts, _ in mail_world.smtp.accepted] == [(SITI,)]


def test_tempfail_answers_451_to_rcpt_and_data_and_delivers_nothing(mail_world: MailWorld) -> None:
    smtp = mail_world.smtp
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        client.ehlo()
        smtp.tempfail = True
        assert client.mail(INBOX)[0] == 250
        code, text = client.rcpt(SITI)
        assert (code, text[:5]) == (451, b"4.3.0")
        client.rset()
        smtp.tempfail = False
        client.mail(INBOX)
        assert client.rcpt(SITI)[0] == 250
        smtp.tempfail = True  # the outage starts between RCPT and DATA
        code, text = client.data(message())
        assert (code, text[:5]) == (451, b"4.3.0")
        smtp.tempfail = False
        assert client.sendmail(INBOX, [SITI], message("Sesudah gangguan")) == {}
    [delivered] = mail_world.messages(SITI)
    assert b"Subject: Sesudah gangguan" in delivered.raw
    assert len(smtp.accepted) == 1


def test_failed_delivery_answers_451_and_keeps_nothing(caplog: pytest.LogCaptureFixture) -> None:
    def broken(_address: str, _raw: bytes) -> None:
        raise ConnectionRefusedError("IMAP server down")

    smtp = LoopbackSMTP(deliver=broken, knows=lambda _address: True)
    smtp.start()
    try:
        with (smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client,
              pytest.raises(smtplib.SMTPDataError) as failure):
            client.sendmail(INBOX, [SITI], message())
        assert failure.value.smtp_code == 451
        assert smtp.accepted == []
        assert "could not deliver" in caplog.text
    finally:
        smtp.stop()


def test_stop_refuses_connections_and_start_listens_on_the_same_port(mail_world: MailWorld) -> None:
    smtp = mail_world.smtp
    port = smtp.port
    open_session = smtplib.SMTP(smtp.host, port, timeout=30)
    smtp.stop()
    assert refused(smtp.host, port)
    assert not any(t.name.startswith("loopback-smtp") for t in threading.enumerate())
    with pytest.raises(smtplib.SMTPServerDisconnected):
        open_session.noop()  # an outage also drops the sessions that were open
    open_session.close()
    smtp.stop()  # stopping twice is harmless
    smtp.start()
    assert smtp.port == port
    with smtplib.SMTP(smtp.host, port, timeout=30) as client:
        client.sendmail(INBOX, [SITI], message())
    assert len(mail_world.messages(SITI)) == 1


def test_added_user_can_log_in_and_receive_mail(mail_world: MailWorld) -> None:
    mail_world.add_user("warga.baru@warga.example", "baru-secret")
    assert mail_world.users["warga.baru@warga.example"] == "baru-secret"
    with smtplib.SMTP(mail_world.smtp_host, mail_world.smtp_port, timeout=30) as client:
        client.sendmail(INBOX, ["warga.baru@warga.example"], message())
    assert len(mail_world.messages("warga.baru@warga.example")) == 1


# --- IMAP behaviour mailflow relies on, on both backends ----------------------------------

@pytest.mark.parametrize("received", [
    datetime(2026, 11, 27, 10, 15, 30, tzinfo=WIB),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=5))),
])
def test_deliver_then_fetch_all_returns_the_bytes_and_internaldate(server: LoopbackIMAP,
                                                                   received: datetime) -> None:
    raw = message()
    server.deliver(INBOX, raw, internaldate=received)
    [stored] = fetch_all(server.host, server.port, INBOX, server.users[INBOX])
    assert stored.raw == raw
    assert stored.internaldate == received  # the same instant...
    if backend_of(server) == "embedded":
        assert stored.internaldate.utcoffset() == received.utcoffset()  # ...and offset kept
    else:
        # ...but Dovecot keeps only the instant (a Maildir file's mtime) and answers in
        # its own local time zone, which it inherits from us.
        assert stored.internaldate.utcoffset() == received.astimezone().utcoffset()
    assert stored.flags == ()


def test_internaldate_far_in_the_future(server: LoopbackIMAP) -> None:
    """Dovecot silently stores "now" for an APPEND date more than 2 h ahead; pymap keeps it.

    deliver() therefore refuses such dates on both backends, so that no test comes
    to depend on the machine's clock without saying so.
    """
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    with pytest.raises(ValueError, match="in the future"):
        server.deliver(INBOX, message(), internaldate=ahead)
    with session(server, INBOX) as client:  # the raw APPEND, without the harness' guard
        typ, _ = client.append("INBOX", None, imaplib.Time2Internaldate(ahead), message())
        assert typ == "OK"
    [stored] = fetch_all(server.host, server.port, INBOX, server.users[INBOX])
    if backend_of(server) == "dovecot":
        assert stored.internaldate <= datetime.now(UTC)
    else:
        assert stored.internaldate == ahead


def test_deliver_without_internaldate_stamps_arrival_time(server: LoopbackIMAP) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    server.deliver(SITI, message())
    [stored] = fetch_all(server.host, server.port, SITI, server.users[SITI])
    assert before <= stored.internaldate <= datetime.now(UTC)


def test_bare_lf_is_stored_as_crlf(server: LoopbackIMAP) -> None:
    server.deliver(SITI, b"Subject: LF saja\n\nbaris satu\nbaris dua\n")
    [stored] = fetch_all(server.host, server.port, SITI, server.users[SITI])
    assert stored.raw == b"Subject: LF saja\r\n\r\nbaris satu\r\nbaris dua\r\n"


def test_fetch_all_changes_no_flags(server: LoopbackIMAP) -> None:
    server.deliver(INBOX, message())
    fetch_all(server.host, server.port, INBOX, server.users[INBOX])
    with session(server, INBOX) as client:
        client.select("INBOX")
        typ, data = client.fetch("1", "(FLAGS)")
    assert typ == "OK"
    assert b"\\Seen" not in data[0]
    assert fetch_all(server.host, server.port, INBOX, server.users[INBOX])[0].flags == ()


def test_uids_count_up_from_the_backends_first_uid(server: LoopbackIMAP) -> None:
    for n in range(3):
        server.deliver(INBOX, message(subject=f"Info {n}"))
    uids = [m.uid for m in fetch_all(server.host, server.port, INBOX, server.users[INBOX])]
    first = 1 if backend_of(server) == "dovecot" else 101  # pymap starts at 101
    assert uids == [first, first + 1, first + 2]


def test_custom_keyword_on_uid_store(server: LoopbackIMAP) -> None:
    """Dovecot keeps a private keyword such as $MailflowTaken; pymap drops it silently.

    Both answer OK to the STORE; only PERMANENTFLAGS tells them apart: Dovecot
    lists `\\*` (new keywords allowed), pymap does not. System flags are kept by both.
    """
    server.deliver(INBOX, message())
    [uid] = [m.uid for m in fetch_all(server.host, server.port, INBOX, server.users[INBOX])]
    with session(server, INBOX) as client:
        client.select("INBOX")
        permanent = client.untagged_responses.get("PERMANENTFLAGS", [b""])[0]
        typ, _ = client.uid("STORE", str(uid), "+FLAGS.SILENT", f"({TAKEN} \\Flagged)")
        assert typ == "OK"
    [stored] = fetch_all(server.host, server.port, INBOX, server.users[INBOX])
    assert "\\Flagged" in stored.flags
    if backend_of(server) == "dovecot":
        assert b"\\*" in permanent
        assert stored.flags == ("$MailflowTaken", "\\Flagged")
        with session(server, INBOX) as client:  # a new session lists the keyword
            client.select("INBOX")
            assert TAKEN.encode() in client.untagged_responses["PERMANENTFLAGS"][0]
    else:
        assert b"\\*" not in permanent
        assert stored.flags == ("\\Flagged",)


def test_deliver_creates_a_missing_folder(server: LoopbackIMAP) -> None:
    raw = message()
    server.deliver(INBOX, raw, folder="Pengaduan")
    [stored] = fetch_all(server.host, server.port, INBOX, server.users[INBOX], folder="Pengaduan")
    assert stored.raw == raw
    assert fetch_all(server.host, server.port, INBOX, server.users[INBOX]) == []


def test_user_added_while_running_logs_in_at_once(server: LoopbackIMAP) -> None:
    server.add_user("kadus@klero.desa.id", "kadus-secret")
    server.deliver("kadus@klero.desa.id", message())
    assert len(fetch_all(server.host, server.port, "kadus@klero.desa.id", "kadus-secret")) == 1


def test_wrong_password_is_refused(server: LoopbackIMAP) -> None:
    client = imaplib.IMAP4(server.host, server.port, timeout=30)
    with closing(client.sock), pytest.raises(imaplib.IMAP4.error):
        client.login(SITI, "bukan-sandinya")


def test_servers_refuse_addresses_outside_loopback() -> None:
    for host in ("0.0.0.0", "192.0.2.1", "::1", "localhost"):
        with pytest.raises(ValueError):
            EmbeddedIMAP({SITI: "x"}, host=host)
        with pytest.raises(ValueError):
            LoopbackSMTP(deliver=lambda _a, _r: None, knows=lambda _a: True, host=host)
    with pytest.raises(ValueError):
        fetch_all("192.0.2.1", 143, SITI, "x")


def test_embedded_stop_ends_its_thread_and_refuses_connections() -> None:
    imap = EmbeddedIMAP({SITI: "x"})
    imap.start()
    imap.deliver(SITI, message())
    lingering = imaplib.IMAP4(imap.host, imap.port, timeout=30)
    lingering.login(SITI, "x")
    imap.stop()
    assert not any(t.name == f"embedded-imap-{imap.port}" for t in threading.enumerate())
    assert refused(imap.host, imap.port)
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        lingering.noop()
    lingering.shutdown()


def test_fetch_parser_merges_tails_and_unsolicited_lines() -> None:
    """UID/FLAGS after the literal, and a FLAGS-only line in between (as pymap sends)."""
    data = [
        (b'1 (FLAGS (\\Seen \\Recent) INTERNALDATE "27-Nov-2026 10:00:00 +0700" BODY[] {5}',
         b"hello"),
        b" UID 101)",
        b"2 (FLAGS (\\Recent))",
        (b'2 (UID 102 INTERNALDATE " 1-Dec-2026 08:00:00 +0000" BODY[] {3}', b"abc"),
        b" FLAGS ($MailflowTaken))",
    ]
    first, second = parse_fetch(data)
    assert first == StoredMessage(101, ("\\Seen",), b"hello",
                                  datetime(2026, 11, 27, 10, tzinfo=WIB))
    assert second == StoredMessage(102, ("$MailflowTaken",), b"abc",
                                   datetime(2026, 12, 1, 8, tzinfo=UTC))
    with pytest.raises(RuntimeError, match="incomplete"):
        parse_fetch([b"3 (FLAGS ())"])


def test_internaldate_parser_reads_rfc3501_date_times() -> None:
    seventh = datetime(2026, 11, 7, 9, 5, tzinfo=WIB)
    assert parse_internaldate(" 7-Nov-2026 09:05:00 +0700") == seventh
    assert parse_internaldate("27-Nov-2026 03:00:00 -0130").utcoffset() == -timedelta(minutes=90)
    with pytest.raises(ValueError):
        parse_internaldate("2026-11-27T03:00:00Z")


# --- backend choice ------------------------------------------------------------------

def test_backend_choice_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.e2e.conftest as conftest

    monkeypatch.setattr(conftest, "dovecot_available", lambda: False)
    monkeypatch.delenv("MAILFLOW_TEST_IMAP", raising=False)
    assert chosen_backend() == "embedded"
    monkeypatch.setenv("MAILFLOW_TEST_IMAP", "dovecot")
    with pytest.raises(pytest.fail.Exception, match="Dovecot's IMAP server is not installed"):
        chosen_backend()
    monkeypatch.setenv("MAILFLOW_TEST_IMAP", "postfix")
    with pytest.raises(pytest.fail.Exception, match="use 'dovecot', 'embedded'"):
        chosen_backend()
    monkeypatch.setattr(conftest, "dovecot_available", lambda: True)
    monkeypatch.delenv("MAILFLOW_TEST_IMAP")
    assert chosen_backend() == "dovecot"
    monkeypatch.setenv("MAILFLOW_TEST_IMAP", "embedded")
    assert chosen_backend() == "embedded"


# --- the private Dovecot's hygiene ----------------------------------------------------

def _socket_inodes(pids: list[int]) -> set[int]:
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
        except OSError:
            continue
    return inodes


def _listening_tcp(inodes: set[int]) -> set[tuple[str, int]]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[9]) in inodes:  # 0A = LISTEN
                address, port = fields[1].split(":")
                if len(address) == 8:
                    address = socket.inet_ntoa(bytes.fromhex(address)[::-1])
                found.add((address, int(port, 16)))
    return found


def _unix_socket_paths(inodes: set[int]) -> set[str]:
    paths = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and int(fields[6]) in inodes:
            paths.add(fields[7])
    return paths


@needs_dovecot
def test_dovecot_binds_only_its_port_and_private_sockets(dovecot: DovecotServer) -> None:
    inodes = _socket_inodes(dovecot.processes())
    assert _listening_tcp(inodes) == {("127.0.0.1", dovecot.port)}
    paths = {p for p in _unix_socket_paths(inodes) if not p.startswith("@")}
    assert paths, "expected Dovecot's unix sockets in its base_dir"
    assert all(Path(p).is_relative_to(dovecot.workdir) for p in paths), paths


@needs_dovecot
def test_dovecot_mail_processes_run_as_the_unprivileged_owner(dovecot: DovecotServer) -> None:
    dovecot.deliver(SITI, message())
    with session(dovecot, SITI) as client:
        client.select("INBOX")
        imap_uids = set()
        for pid in dovecot.processes():
            status = Path(f"/proc/{pid}/status").read_text()
            name = re.search(r"^Name:\s*(\S+)", status, re.M)
            uid = re.search(r"^Uid:\s*(\d+)", status, re.M)
            if name and uid and name.group(1) == "imap":
                imap_uids.add(int(uid.group(1)))
    # The process serving this session runs as the mail owner. Under load another imap
    # process may be caught still starting (as root, before it drops to the owner), so
    # the check is that the owner's is among them, not that it is the only one.
    assert dovecot.owner.uid in imap_uids, imap_uids
    assert dovecot.owner.uid != 0
    maildir = dovecot.workdir / "mail" / SITI / "Maildir"
    assert all(p.stat().st_uid == dovecot.owner.uid for p in maildir.rglob("*"))


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A directory for a server that a test starts itself; removed afterwards."""
    path = server_workdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@needs_dovecot
@pytest.mark.parametrize("graceful", [True, False], ids=["graceful", "kill"])
def test_dovecot_stop_leaves_no_process_and_frees_the_port(graceful: bool, workdir: Path) -> None:
    imap = DovecotServer(workdir, {SITI: "x"})
    imap.start()
    pid = imap.pid
    assert pid is not None
    with session(imap, SITI):  # an open session has an imap process of its own
        assert len(imap.processes()) >= 5
        started = time.monotonic()
        imap.stop(graceful=graceful)
        took = time.monotonic() - started
    assert process_group_members(pid) == []
    assert refused(imap.host, imap.port)
    assert took < (3.0 if graceful else 0.5)
    imap.stop()  # stopping twice is harmless
    imap.start()  # and it starts again, with its mail
    try:
        assert fetch_all(imap.host, imap.port, SITI, "x") == []
    finally:
        imap.stop(graceful=False)


@needs_dovecot
def test_dovecot_start_failure_raises_with_the_log_tail(workdir: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        imap = DovecotServer(workdir, {SITI: "x"}, port=port)
        with pytest.raises(RuntimeError, match="Address already in use") as failure:
            imap.start()
    assert str(imap.config_path) in str(failure.value)
    assert not imap.running


@needs_dovecot
@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the mail to another user")
def test_dovecot_refuses_a_workdir_its_mail_owner_cannot_enter() -> None:
    closed = Path(tempfile.mkdtemp())  # 0700, owned by root
    try:
        with pytest.raises(ValueError, match="cannot be entered"):
            DovecotServer(closed / "dovecot", {SITI: "x"}).start()
    finally:
        shutil.rmtree(closed, ignore_errors=True)
