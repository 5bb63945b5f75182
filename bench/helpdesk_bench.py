"""django-helpdesk's `get_email` on the same messages as bench/intake_bench.py (issue 10).

Issue 10's target: mailflow's intake at least 10 x django-helpdesk. This script installs
django-helpdesk (pinned, `--version`, 2.6.1 by default) into a virtual environment of its own
(`--venv`, by default ~/.cache/mailflow-bench/helpdesk-venv; PyPI only), makes a minimal Django
project (SQLite) with one helpdesk Queue pointed at a private Dovecot on 127.0.0.1 (the
harness's DovecotServer), APPENDs the messages that intake_bench.py makes (its `_message`
generator: five in six complaints, each from another resident), runs the `get_email`
management command once and reports messages per second (wall clock of the command) and
the tickets it made.

    .venv/bin/python bench/helpdesk_bench.py                 # 2,000 messages
    .venv/bin/python bench/helpdesk_bench.py --messages 200 --json out.json

django-helpdesk's outgoing mail (its acknowledgement to each submitter) goes to Django's
in-memory mail backend: composed as mailflow's are, not sent (mailflow's intake pass queues
its mail and sends it in the outbox pass). Its IMAP intake fetches one message per command
(`FETCH n (RFC822)`) and deletes each message it made a ticket of.

What cannot be done is said on one line beginning "helpdesk: unavailable:" (exit 69), and
with `--json` written as {"error": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_bench import NON_COMPLAINT_EVERY, _fill  # the same messages as the intake bench

from tests.harness.village import INBOX

DEFAULT_VENV = Path.home() / ".cache" / "mailflow-bench" / "helpdesk-venv"
PASSWORD = "bench"

_SETTINGS = """
SECRET_KEY = "bench-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Asia/Jakarta"
ALLOWED_HOSTS = ["127.0.0.1"]
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.sites", "django.contrib.messages",
    "django.contrib.humanize", "rest_framework", "helpdesk",
]
MIDDLEWARE = []
ROOT_URLCONF = "benchurls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_PATH}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
              "APP_DIRS": True, "OPTIONS": {"context_processors": [
                  "django.template.context_processors.request",
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages"]}}]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "pengaduan@klero.desa.id"
MEDIA_ROOT = MEDIA_PATH
STATIC_URL = "/static/"
HELPDESK_TEAMS_MODE_ENABLED = False
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"level": "WARNING", "handlers": []}}
"""

_URLS = """
from django.urls import include, path
urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""

# Runs under the helpdesk venv's interpreter: migrate, one Queue, `get_email` timed.
_RUN = r"""
import json, os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "benchsettings"
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from helpdesk.models import Queue, Ticket
spec = json.loads(sys.argv[1])
Queue.objects.create(
    title="Pengaduan", slug="pengaduan", email_address=spec["user"],
    allow_email_submission=True, email_box_type="imap", email_box_host=spec["host"],
    email_box_port=spec["port"], email_box_ssl=False, email_box_user=spec["user"],
    email_box_pass=spec["password"], email_box_imap_folder="INBOX", email_box_interval=0,
    logging_type="none")
started, cpu = time.perf_counter(), time.process_time()
call_command("get_email", quiet=True)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
from django.core import mail
import imaplib
box = imaplib.IMAP4(spec["host"], spec["port"])
box.login(spec["user"], spec["password"])
left = int(box.select("INBOX", readonly=True)[1][0])
box.logout()
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "tickets": Ticket.objects.count(),
                  "mails_composed": len(getattr(mail, "outbox", [])), "left_in_inbox": left,
                  "version": django.get_version()}))
"""


class Unavailable(Exception):
    """django-helpdesk cannot be installed or run here; the message says why."""


def ensure_venv(venv: Path, version: str) -> Path:
    """The helpdesk venv's python, made and filled on first use."""
    python = venv / "bin" / "python"
    if not python.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                              text=True, check=False)
        if made.returncode != 0:
            raise Unavailable(f"cannot make a venv at {venv}: {made.stderr.strip()[-300:]}")
    probe = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                            "print(m.version('django-helpdesk'))"],
                           capture_output=True, text=True, check=False)
    if probe.returncode == 0 and probe.stdout.strip() == version:
        return python
    print(f"helpdesk: installing django-helpdesk=={version} into {venv} (from PyPI)", flush=True)
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", f"django-helpdesk=={version}"],
                         capture_output=True, text=True, check=False)
    if pip.returncode != 0:
        errors = [line for line in pip.stderr.splitlines() if "is ignored" not in line]
        raise Unavailable(f"pip install django-helpdesk=={version} failed (exit "
                          f"{pip.returncode}): {' '.join(errors)[-400:]}")
    return python


def run_helpdesk(python: Path, project: Path, host: str, port: int) -> dict[str, Any]:
    project.mkdir(parents=True, exist_ok=True)
    (project / "benchsettings.py").write_text(
        f"DB_PATH = {str(project / 'helpdesk.sqlite3')!r}\n"
        f"MEDIA_PATH = {str(project / 'media')!r}\n" + _SETTINGS)
    (project / "benchurls.py").write_text(_URLS)
    spec = {"host": host, "port": port, "user": INBOX, "password": PASSWORD}
    env = {**os.environ, "PYTHONPATH": str(project)}
    done = subprocess.run([str(python), "-c", _RUN, json.dumps(spec)], cwd=project, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Unavailable(f"the get_email run failed (exit {done.returncode}): "
                          f"{done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(python: Path, messages: int) -> dict[str, Any]:
    from tests.harness.servers import DovecotServer

    with tempfile.TemporaryDirectory(prefix="mailflow-helpdesk-") as tmp:
        Path(tmp).chmod(0o755)  # Dovecot's unprivileged processes must reach the mail
        imap = DovecotServer(Path(tmp) / "dovecot", {INBOX: PASSWORD})
        imap.start()
        try:
            fill = _fill(imap.host, imap.port, PASSWORD, messages, 0)
            print(f"helpdesk: mailbox: {messages} messages appended in {fill:.1f} s "
                  f"({messages - messages // NON_COMPLAINT_EVERY} complaints)", flush=True)
            started = time.perf_counter()
            result = run_helpdesk(python, Path(tmp) / "project", imap.host, imap.port)
            result["process_seconds"] = time.perf_counter() - started
        finally:
            imap.stop()
    result["messages"] = messages
    result["msg_per_s"] = messages / result["seconds"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--version", default="2.6.1", help="django-helpdesk version (2.6.1)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    from tests.harness.servers import dovecot_available

    try:
        if not dovecot_available():
            raise Unavailable("Dovecot is not installed (run scripts/install-test-deps.sh as root)")
        python = ensure_venv(args.venv, args.version)
        result = measure(python, args.messages)
    except Unavailable as why:
        print(f"helpdesk: unavailable: {why}")
        if args.json:
            args.json.write_text(json.dumps({"error": str(why)}))
        return 69
    result["helpdesk_version"] = args.version
    print(f"django-helpdesk {args.version} get_email (Django {result['version']})   "
          f"{result['messages']:6d} msg in {result['seconds']:7.2f} s  "
          f"{result['msg_per_s']:9.1f} msg/s  ({result['tickets']} tickets; CPU "
          f"{result['cpu_seconds']:.2f} s; {result['mails_composed']} mails composed; "
          f"{result['left_in_inbox']} messages left in the inbox)")
    if args.json:
        args.json.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
