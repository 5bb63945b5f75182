"""scripts/install.sh, as README.md "Install" runs it: as root, with the real paths, inside a
private mount namespace so the machine itself is untouched.

/etc, /opt, /var and /usr/local are overlays that only the namespace sees (the writes land in
pytest's tmp_path), so useradd, /etc/mailflow, /opt/mailflow, /var/lib/mailflow and
/usr/local/bin/mailflow are made for real where the script makes them. systemd is not running
in CI, and on a machine where it runs the namespace hides /run/systemd, so the unit is
installed but not enabled (the script says so), and the machine's systemd is never asked.
The mail servers are the test harness's Dovecot and SMTP server on 127.0.0.1 (the namespace
shares the network).

pip installs into /opt/mailflow/.venv from pip's cache (the first run on a machine fetches the
dependencies from the package registry once).
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailflow.demo.mail import to_toml
from tests.e2e.conftest import MailWorld
from tests.e2e.support import INBOX, complaint

ROOT = Path(__file__).resolve().parents[2]
OVERLAID = ("/etc", "/opt", "/var", "/usr/local")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (useradd, runuser and mounts in a private mount namespace)"
    for tool in ("unshare", "nsenter", "useradd", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is missing"
    if not Path("/usr/bin/python3").exists():
        return "/usr/bin/python3 is missing (the script makes the venv with it)"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"unshare --mount is not permitted here: {probe.stderr.strip()}"
    return None


# The installed service uses the embedded default, SQLite, whatever MAILFLOW_TEST_DB says.
pytestmark = [pytest.mark.skipif(_why_not() is not None, reason=str(_why_not())),
              pytest.mark.no_test_database]


class Namespace:
    """A private mount namespace kept alive by a sleeping process; commands enter it."""

    def __init__(self, tmp: Path) -> None:
        mounts = []
        for i, lower in enumerate(OVERLAID):
            upper, work = tmp / f"upper{i}", tmp / f"work{i}"
            upper.mkdir()
            work.mkdir()
            mounts.append(f"mount -t overlay overlay -o lowerdir={lower},upperdir={upper},"
                          f"workdir={work} {lower}")
        # On a machine that runs systemd, the script must not reach the machine's own systemd
        # (daemon-reload, enable): an empty /run/systemd tells it that systemd is not running.
        mounts.append("{ [ ! -d /run/systemd ] || mount -t tmpfs tmpfs /run/systemd; }")
        script = " && ".join([*mounts, "echo ready", "exec sleep 600"])
        self.process = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
            stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready", "the overlays failed"
        self.root = Path(f"/proc/{self.process.pid}/root")

    def run(self, *cmd: str, timeout: float = 240,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        inherited = {key: value for key, value in os.environ.items()
                     if key not in ("VIRTUAL_ENV", "MAILFLOW_CONFIG", "PYTHONPATH", "SUDO_USER")}
        return subprocess.run(["nsenter", "-t", str(self.process.pid), "-m", "--", *cmd],
                              capture_output=True, text=True, timeout=timeout, check=False,
                              cwd="/", env={**inherited, "PATH": PATH, "HOME": "/root",
                                            **(env or {})})

    def path(self, inside: str) -> Path:
        """A path as the namespace sees it, for reading and writing from the test."""
        return self.root / inside.lstrip("/")

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def namespace(tmp_path: Path) -> Iterator[Namespace]:
    space = Namespace(tmp_path)
    try:
        yield space
    finally:
        space.close()


def owner(space: Namespace, inside: str) -> tuple[int, str, str]:
    """(mode, user, group) of a path in the namespace, named by the namespace's own passwd."""
    info = space.path(inside).stat()
    users = {int(line.split(":")[2]): line.split(":")[0]
             for line in space.path("/etc/passwd").read_text().splitlines()}
    groups = {int(line.split(":")[2]): line.split(":")[0]
              for line in space.path("/etc/group").read_text().splitlines()}
    return stat.S_IMODE(info.st_mode), users[info.st_uid], groups[info.st_gid]


def digests(space: Namespace) -> dict[str, tuple[str, int]]:
    found = {}
    for path in sorted(space.path("/etc/mailflow").iterdir()):
        found[path.name] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode)
    return found


def point_at(world: MailWorld, example: str) -> str:
    """The installed example configuration, pointed at the harness's servers on loopback (the
    harness's SMTP server takes no login, so [smtp] has none)."""
    data = tomllib.loads(example)
    data["imap"].update(host=world.imap_host, port=world.imap_port, security="plain",
                        username=INBOX, timeout_seconds=10)
    data["smtp"].update(host=world.smtp_host, port=world.smtp_port, security="plain",
                        timeout_seconds=10)
    del data["smtp"]["username"], data["smtp"]["password_file"]
    return to_toml(data)


def test_install_script_gives_a_passing_check_and_reruns_as_an_upgrade(
        namespace: Namespace, mail_world: MailWorld, tmp_path: Path) -> None:
    host_has_user = _host_has_mailflow_user()
    began = time.monotonic()
    first = namespace.run("bash", str(ROOT / "scripts" / "install.sh"))
    took = time.monotonic() - began
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    # The layout.
    account = namespace.path("/etc/passwd").read_text()
    assert "mailflow:x:" in account
    entry = next(line for line in account.splitlines() if line.startswith("mailflow:"))
    assert entry.endswith(":/var/lib/mailflow:/usr/sbin/nologin")
    assert owner(namespace, "/etc/mailflow") == (0o750, "root", "mailflow")
    assert owner(namespace, "/etc/mailflow/config.toml") == (0o640, "root", "mailflow")
    for secret in ("imap-password", "smtp-password", "reply-secret"):
        assert owner(namespace, f"/etc/mailflow/{secret}") == (0o640, "root", "mailflow")
    assert namespace.path("/etc/mailflow/imap-password").read_text() == ""
    assert len(namespace.path("/etc/mailflow/reply-secret").read_text().strip()) >= 16
    assert owner(namespace, "/var/lib/mailflow") == (0o750, "mailflow", "mailflow")
    assert namespace.path("/opt/mailflow/.venv/bin/mailflow").exists()
    assert os.access(namespace.path("/usr/local/bin/mailflow"), os.X_OK)
    assert namespace.path("/etc/systemd/system/mailflow.service").read_text() == \
        (ROOT / "systemd" / "mailflow.service").read_text()
    # The regency's template too ("A regency": systemctl enable --now mailflow@NAME).
    assert namespace.path("/etc/systemd/system/mailflow@.service").read_text() == \
        (ROOT / "systemd" / "mailflow@.service").read_text()
    assert "systemd is not running here, so it was not enabled" in first.stdout
    if shutil.which("systemd-analyze"):  # the installed unit, with the installed program
        verified = namespace.run("systemd-analyze", "verify", "/etc/systemd/system/mailflow.service")
        assert verified.returncode == 0, verified.stderr
    assert "Write the secret for [imap] password_file into /etc/mailflow/imap-password" \
        in first.stdout
    # The machine itself is untouched.
    assert _host_has_mailflow_user() == host_has_user
    assert namespace.path("/etc/mailflow").exists() and \
        (not Path("/etc/mailflow").exists() or Path("/etc/mailflow").stat().st_ino !=
         namespace.path("/etc/mailflow").stat().st_ino)

    # The administrator's first `mailflow check`, through the wrapper, as root.
    unfilled = namespace.run("mailflow", "check", "--offline")
    assert unfilled.returncode == 78, unfilled.stderr
    assert "password_file '/etc/mailflow/imap-password' is empty" in unfilled.stderr
    assert "password_file '/etc/mailflow/smtp-password' is empty" in unfilled.stderr
    assert "Traceback" not in unfilled.stderr

    # The passwords written and the configuration edited, as the printed steps say.
    namespace.path("/etc/mailflow/imap-password").write_text(mail_world.users[INBOX])
    namespace.path("/etc/mailflow/smtp-password").write_text("unused-by-the-harness")
    config = namespace.path("/etc/mailflow/config.toml")
    config.write_text(point_at(mail_world, config.read_text()))
    checked = namespace.run("mailflow", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [line.split()[:2] for line in checked.stdout.splitlines()] == [
        ["ok", "configuration"], ["ok", "storage"], ["ok", "database"], ["ok", "tls"],
        ["ok", "priority"], ["ok", "lease"], ["ok", "imap"], ["ok", "smtp"]]
    # The wrapper ran it as the service's user: the database it made is mailflow's.
    assert owner(namespace, "/var/lib/mailflow/mailflow.sqlite3")[1:] == ("mailflow", "mailflow")
    # A complaint taken through the wrapper; a look at its identity is recorded under the name
    # of the administrator who asked (sudo's user), not the service user's.
    # The first poll sees the (empty) mailbox first: a complaint that comes after it is taken
    # whatever the first start's rule for older mail.
    assert namespace.run("mailflow", "poll", "--once").returncode == 0
    mail_world.deliver(INBOX, complaint())
    assert namespace.run("mailflow", "poll", "--once").returncode == 0
    viewed = namespace.run("mailflow", "show", "ADU-2026-00001", "--with-identity",
                           env={"SUDO_USER": "budi"})
    assert viewed.returncode == 0, viewed.stderr
    trail = namespace.run("mailflow", "show", "ADU-2026-00001").stdout
    assert "os:budi" in trail, trail  # the actor of the identity_viewed event

    # Running the script again, from a newer checkout with the same version number, is an
    # upgrade: the new code is installed, and nothing in /etc/mailflow changes.
    newer = tmp_path / "newer-checkout"
    shutil.copytree(ROOT, newer, ignore=shutil.ignore_patterns(
        ".git", ".venv", "tests", "bench", "__pycache__", ".*_cache", "*.egg-info", "build"))
    with (newer / "mailflow" / "__init__.py").open("a") as init:
        init.write("# the newer checkout\n")
    before = digests(namespace)
    again = namespace.run("bash", str(newer / "scripts" / "install.sh"))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "kept /etc/mailflow/config.toml (never overwritten)" in again.stdout
    assert "mailflow db upgrade" in again.stdout
    assert digests(namespace) == before
    installed = namespace.path("/opt/mailflow/.venv/lib").glob("python3*/site-packages/mailflow")
    assert "# the newer checkout" in (next(installed) / "__init__.py").read_text()
    assert namespace.run("mailflow", "check", "--offline").returncode == 0

    # The demo is not part of a production install, and says so.
    demo = namespace.run("mailflow", "demo")
    assert demo.returncode == 78
    assert "a production install leaves out" in demo.stderr
    assert "Traceback" not in demo.stderr

    # README "Backup and restore": the backup runs as mailflow, into a directory it may write.
    refused = namespace.run("mailflow", "backup", "/var/backups/mailflow-nope")
    assert refused.returncode == 74
    assert "the backup runs as the user mailflow" in refused.stderr
    assert namespace.run("install", "-d", "-m", "0700", "-o", "mailflow", "-g", "mailflow",
                         "/var/backups/mailflow").returncode == 0
    backup = namespace.run("mailflow", "backup", "/var/backups/mailflow/2026-11-29")
    assert backup.returncode == 0, backup.stderr
    assert owner(namespace, "/var/backups/mailflow/2026-11-29/mailflow.sqlite3") == \
        (0o600, "mailflow", "mailflow")

    # README "Uninstall", but for systemctl (no systemd here).
    gone = namespace.run("bash", "-c", "rm -r /opt/mailflow /usr/local/bin/mailflow "
                         "/var/lib/mailflow /etc/mailflow && userdel mailflow && "
                         "{ groupdel mailflow 2>/dev/null || true; } && ! getent group mailflow")
    assert gone.returncode == 0, gone.stderr
    print(f"install.sh: first run {took:.1f} s")


def _host_has_mailflow_user() -> bool:
    try:
        pwd.getpwnam("mailflow")
        grp.getgrnam("mailflow")
    except KeyError:
        return False
    return True
