"""Runs systemd/mailflow.service under a real systemd and checks what only systemd can show.

    .venv/bin/python scripts/systemd_trial.py        (as root; about two minutes)

`systemd-analyze` rates and verifies the unit without running it (tests/unit/
test_systemd_unit.py); this trial starts it, installed as the README says (by
scripts/install.sh: a venv in /opt/mailflow made by /usr/bin/python3, the `mailflow` user,
/etc/mailflow), against the test suite's Dovecot and SMTP server, and checks that under the
full sandbox:

  start     READY=1 and the STATUS line, a complaint taken and acknowledged
  rating    `systemd-analyze security` of the loaded unit is 2.0 or below
  reload    a good configuration is taken, a bad one refused with the service still up
  stop      SIGTERM in the middle of a 100-message poll: exit 0 within 5 s
  config    a configuration error is exit 78 and is not restarted (RestartPreventExitStatus)
  watchdog  a frozen daemon is aborted by the watchdog and restarted

Nothing outside a temporary directory changes: systemd boots as PID 1 of its own PID, mount,
UTS, IPC and cgroup namespaces; /etc, /opt, /var and /usr/local are overlays only that mount
namespace sees; the trial's copy of the unit drops its default dependencies so that none of this
machine's own units (tmpfiles, networking) start. Needs root, util-linux (unshare,
nsenter), a writable cgroup2 hierarchy and /usr/bin/python3 with venv (an interpreter under
/root, such as pyenv's, is hidden by the unit's ProtectHome=yes, as it would be in service).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (  # noqa: E402
    USERS,
    MailWorld,
    chosen_backend,
    server_workdir,
    start_imap,
    stop_imap,
)
from tests.harness.village import COMPLETE_BODY, INBOX, SECRET, SITI, complaint  # noqa: E402

CONFIG = "/etc/mailflow/config.toml"

# Run inside the trial's mount namespace, before anything else: overlays that only it sees.
MOUNTS = r"""
set -e
for d in etc opt var usr/local; do
  u=$(echo $d | tr / -)
  mount -t overlay overlay -o lowerdir=/$d,upperdir=$T/$u-upper,workdir=$T/$u-work /$d
done
"""
# The trial's configuration and secrets over what scripts/install.sh made, and a unit that
# pulls in none of this machine's units.
SETUP = r"""
install -m 0640 -g mailflow $T/config.toml /etc/mailflow/config.toml
printf '%s' "$IMAP_PASSWORD" | install -m 0640 -g mailflow /dev/stdin /etc/mailflow/imap-password
printf '%s' "$SECRET" | install -m 0640 -g mailflow /dev/stdin /etc/mailflow/reply-secret
mkdir -p /etc/systemd/system/mailflow.service.d
printf '[Unit]\nDefaultDependencies=no\n' > /etc/systemd/system/mailflow.service.d/trial.conf
ln -sf /dev/null /etc/systemd/system/network-online.target
printf '[Unit]\nDefaultDependencies=no\nWants=systemd-journald.socket\n' \
  > /etc/systemd/system/trial.target
"""
# The README's install: scripts/install.sh (the user, /opt/mailflow, /etc/mailflow, the unit).
INSTALL = MOUNTS + r"""
bash "$SRC/scripts/install.sh" > $T/install.log 2>&1 || { cat $T/install.log; exit 1; }
""" + SETUP
BOOT = MOUNTS + SETUP + r"""
mount --bind /sys /sys && mount -o remount,bind,ro /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
exec env -i container=mailflow-trial PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  /lib/systemd/systemd --system --unit=trial.target
"""
NAMESPACES = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--uts",
              "--ipc", "--cgroup", "--mount-proc"]


def cgroup2_root() -> Path:
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[fields.index("-") + 1] == "cgroup2":
            return Path(fields[4])
    raise SystemExit("systemd_trial: no cgroup2 hierarchy is mounted")


class Trial:
    def __init__(self, world: MailWorld, tmp: Path) -> None:
        self.world, self.tmp = world, tmp
        # pip builds in the source tree (build/): a copy keeps the checkout clean.
        source = tmp / "src"
        shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "tests"))
        self.env = {"T": str(tmp), "SRC": str(source), "IMAP_PASSWORD": USERS[INBOX],
                    "SECRET": SECRET, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        for d in ("etc", "opt", "var", "usr-local"):
            (tmp / f"{d}-upper").mkdir()
            (tmp / f"{d}-work").mkdir()
        self.write_config()
        self.cgroup = cgroup2_root() / f"mailflow-trial-{id(self)}"
        self.boot: subprocess.Popen[bytes] | None = None
        self.pid = 0
        self.failed = False

    def write_config(self, extra: str = "", poll: int = 600) -> None:
        (self.tmp / "config.toml").write_text(
            f'[village]\nname = "Desa Klero"\n[imap]\nhost = "127.0.0.1"\n'
            f'port = {self.world.imap_port}\nsecurity = "plain"\nusername = "{INBOX}"\n'
            f'password_file = "/etc/mailflow/imap-password"\n[smtp]\nhost = "127.0.0.1"\n'
            f'port = {self.world.smtp_port}\nsecurity = "plain"\nfrom_address = "{INBOX}"\n'
            f'[intake]\npoll_seconds = {poll}\n{extra}[[staff]]\nemail = "sekdes@klero.desa.id"\n'
            f'name = "Sekretaris Desa"\nroles = ["verifikator"]\n[commands]\n'
            f'accept = ["signed_reply"]\nsecret_file = "/etc/mailflow/reply-secret"\n')

    # -- the booted systemd -----------------------------------------------------------------

    def start(self) -> None:
        print("systemd_trial: installing mailflow with scripts/install.sh (pip, about a minute)")
        subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", INSTALL],
                       env=self.env, check=True)
        self.cgroup.mkdir()
        self.boot = subprocess.Popen(
            ["bash", "-c", f'echo $$ > {self.cgroup}/cgroup.procs && exec "$@"', "trial",
             *NAMESPACES, "bash", "-c", BOOT], env=self.env, start_new_session=True,
            stdout=(self.tmp / "boot.log").open("wb"), stderr=subprocess.STDOUT)
        self.wait(lambda: self.systemd_pid() != 0, "systemd to boot", 30)
        self.pid = self.systemd_pid()
        self.wait(lambda: self.run("systemctl", "is-system-running").stdout.strip()
                  in ("running", "degraded"), "systemd to be running", 30)

    def systemd_pid(self) -> int:
        for pid in (self.cgroup / "cgroup.procs").read_text().split():
            if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                return int(pid)
        for child in self.cgroup.glob("*/cgroup.procs"):  # init.scope once it has booted
            for pid in child.read_text().split():
                if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                    return int(pid)
        return 0

    def stop(self) -> None:
        if self.boot is not None and self.boot.poll() is None:
            if self.pid:
                subprocess.run(["kill", "-KILL", str(self.pid)], check=False)
            self.boot.kill()
            self.boot.wait()
        # The namespace's processes die with its PID 1, a moment after it.
        events = self.cgroup / "cgroup.events"
        self.wait(lambda: not events.exists() or "populated 0" in events.read_text(),
                  "the trial's processes to end", 10)
        for cgroup in sorted(self.cgroup.rglob("*"), key=lambda p: -len(p.parts)):
            if cgroup.is_dir():
                cgroup.rmdir()
        if self.cgroup.exists():
            self.cgroup.rmdir()

    def run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-p", "-u", "-i", "-C",
                               "--", *cmd], capture_output=True, text=True, timeout=120,
                              check=False)

    def show(self, *props: str) -> dict[str, str]:
        out = self.run("systemctl", "show", "mailflow", *(f"-p{p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self) -> str:
        return self.run("journalctl", "-u", "mailflow", "--no-pager", "-o", "cat").stdout

    def install_config(self) -> None:
        self.run("install", "-m", "0640", "-g", "mailflow", str(self.tmp / "config.toml"), CONFIG)

    @staticmethod
    def wait(condition: Callable[[], bool], what: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                print(f"systemd_trial: timed out waiting for {what}")
                return False
            time.sleep(0.2)
        return True

    def report(self, name: str, ok: bool, detail: str) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {name:<9} {detail}")
        self.failed = self.failed or not ok

    # -- the checks -------------------------------------------------------------------------

    def check_start(self) -> None:
        self.world.deliver(INBOX, complaint())
        started = self.run("systemctl", "start", "mailflow")
        idle = self.wait(lambda: self.show("StatusText")["StatusText"].startswith("idle"),
                         "an idle STATUS", 30)
        acked = self.wait(lambda: len(self.world.messages(SITI)) == 1, "the ack", 30)
        status = self.show("StatusText", "ActiveState")
        self.report("start", started.returncode == 0 and idle and acked,
                    f"{status['ActiveState']}, {status['StatusText']!r}, ack delivered: {acked}")

    def check_rating(self) -> None:
        out = self.run("systemd-analyze", "security", "mailflow.service", "--no-pager").stdout
        found = re.search(r"Overall exposure level for mailflow\.service: (\d+\.\d) (\w+)", out)
        rating = float(found.group(1)) if found else 99.0
        self.report("rating", rating <= 2.0, found.group(0) if found else out[-300:])

    def check_reload(self) -> None:
        pid = self.show("MainPID")["MainPID"]
        self.write_config(poll=300)
        self.install_config()
        good = self.run("systemctl", "reload", "mailflow").returncode == 0 and self.wait(
            lambda: "configuration reloaded from" in self.journal(), "the reload line", 10)
        self.write_config(extra="pol_seconds = 5\n", poll=300)
        self.install_config()
        self.run("systemctl", "reload", "mailflow")
        refused = self.wait(lambda: "configuration reload refused" in self.journal(),
                            "the refusal", 10)
        up = self.show("MainPID", "ActiveState")
        self.report("reload", good and refused and up == {"MainPID": pid, "ActiveState": "active"},
                    f"good taken: {good}, bad refused: {refused}, still {up}")
        self.write_config(poll=300)
        self.install_config()

    def check_stop(self) -> None:
        for i in range(100):  # each its own text: the same one again is a repeat, no ticket
            self.world.deliver(INBOX, complaint(body=f"{COMPLETE_BODY}\nLaporan nomor {i}."))
        self.run("systemctl", "restart", "mailflow")
        self.wait(lambda: self.journal().count("ticket created") >= 3, "a poll under way", 30)
        began = time.monotonic()
        self.run("systemctl", "stop", "mailflow")
        took = time.monotonic() - began
        status = self.show("ExecMainStatus", "Result")["ExecMainStatus"]
        cut = "intake pass stopped before uid=" in self.journal()
        self.report("stop", status == "0" and took < 5 and cut,
                    f"exit {status} after {took:.2f} s, poll cut between messages: {cut}")

    def check_config_error(self) -> None:
        self.write_config(extra="pol_seconds = 5\n")
        self.install_config()
        self.run("systemctl", "start", "mailflow")
        time.sleep(15)  # RestartSec=10: a restart would have happened by now
        state = self.show("ExecMainStatus", "NRestarts", "ActiveState")
        self.report("config", state == {"ExecMainStatus": "78", "NRestarts": "0",
                                         "ActiveState": "failed"}, json.dumps(state))
        self.write_config()
        self.install_config()
        self.run("systemctl", "reset-failed", "mailflow")

    def check_watchdog(self) -> None:
        dropin = "/etc/systemd/system/mailflow.service.d/watchdog.conf"
        (self.tmp / "watchdog.conf").write_text("[Service]\nWatchdogSec=3s\nTimeoutAbortSec=2s\n")
        self.run("cp", str(self.tmp / "watchdog.conf"), dropin)
        self.run("systemctl", "daemon-reload")
        self.run("systemctl", "start", "mailflow")
        time.sleep(8)  # idle for longer than WatchdogSec: the pings must keep it alive
        alive = self.show("ActiveState", "NRestarts")
        self.run("kill", "-STOP", self.show("MainPID")["MainPID"])
        restarted = self.wait(lambda: self.show("NRestarts")["NRestarts"] == "1" and
                              self.show("ActiveState")["ActiveState"] == "active",
                              "the watchdog's restart", 30)
        stack = "Fatal Python error: Aborted" in self.journal()
        self.report("watchdog", alive == {"ActiveState": "active", "NRestarts": "0"} and restarted
                    and stack, f"idle 8 s: {alive}; frozen: restarted {restarted}, "
                    f"stack in the journal: {stack}")
        self.run("rm", dropin)
        self.run("systemctl", "daemon-reload")
        self.run("systemctl", "stop", "mailflow")


def main() -> int:
    for tool in ("unshare", "nsenter", "/lib/systemd/systemd", "/usr/bin/python3"):
        if not shutil.which(tool):
            raise SystemExit(f"systemd_trial: {tool} is missing")
    workdir = server_workdir()
    imap = start_imap(chosen_backend(), workdir, dict(USERS))
    world = MailWorld(imap, "trial")
    world.smtp.start()
    tmp = Path(tempfile.mkdtemp(prefix="mailflow-systemd-trial-"))
    trial = Trial(world, tmp)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        trial.start()
        for check in (trial.check_start, trial.check_rating, trial.check_reload,
                      trial.check_stop, trial.check_config_error, trial.check_watchdog):
            check()
    finally:
        if trial.failed:
            print(trial.journal()[-4000:])
        trial.stop()
        world.smtp.stop()
        stop_imap(imap)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if trial.failed else 0


if __name__ == "__main__":
    sys.exit(main())
