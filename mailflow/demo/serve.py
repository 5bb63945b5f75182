"""`mailflow demo --serve DIR`: the demo's mail servers again, for the state `--keep DIR` kept.

The demo's IMAP server keeps its mailboxes in memory, so they died with the demo; the kept
configuration still names its two loopback ports. This starts an empty IMAP server and the
delivering SMTP server on exactly those ports, with the demo's users, until Ctrl-C, so that
`poll --once` and `run` on the kept configuration work, and a complaint sent to the SMTP
port becomes a new ticket beside the kept ones.
"""

from __future__ import annotations

import signal
import sys
import threading
import tomllib
from pathlib import Path

from mailflow.demo.mail import INBOX

EX_USAGE, EX_UNAVAILABLE = 2, 69


def serve_demo(directory: Path, stop: threading.Event | None = None) -> int:
    from mailflow.demo.loopback import EmbeddedIMAP
    from mailflow.demo.scenario import ADMIN, KASI, MARKER, PASSWORD, RESIDENTS, SEKDES
    from mailflow.demo.smtp import LoopbackSMTP

    directory = directory.resolve()
    config = directory / "config.toml"
    if not (directory / MARKER).is_file() or not config.is_file():
        print(f"mailflow: {directory} holds no demo kept by `mailflow demo --keep`",
              file=sys.stderr)
        return EX_USAGE
    ports = tomllib.loads(config.read_text(encoding="utf-8"))
    imap_port, smtp_port = int(ports["imap"]["port"]), int(ports["smtp"]["port"])
    users = {INBOX: PASSWORD, **dict.fromkeys((*RESIDENTS, SEKDES, KASI, ADMIN), PASSWORD)}
    imap = EmbeddedIMAP(users, port=imap_port)
    smtp = LoopbackSMTP(deliver=imap.deliver, knows=lambda addr: addr.lower() in users,
                        port=smtp_port)
    try:
        imap.start()
        smtp.start()
    except OSError as exc:
        imap.stop()
        print(f"mailflow: cannot listen on the kept config's ports 127.0.0.1:{imap_port} and "
              f"{smtp_port} ({exc.strerror or exc}); run a new demo with --keep and a new DIR",
              file=sys.stderr)
        return EX_UNAVAILABLE
    print(f"Serving the demo's mail servers for {directory}: IMAP 127.0.0.1:{imap_port}, SMTP "
          f"127.0.0.1:{smtp_port}\n(mailboxes start empty: the demo's mail lived in memory; "
          f"every user's password is {PASSWORD!r}). In another terminal:\n"
          f"  mailflow --config {config} run\n"
          "and send a complaint, for example:\n"
          f"  printf 'From: {RESIDENTS[0]}\\nTo: {INBOX}\\nSubject: Pengaduan Masyarakat\\n\\n"
          "Jalan di RT 04 rusak.\\n' \\\n"
          f"    | curl -sS smtp://127.0.0.1:{smtp_port} --mail-from {RESIDENTS[0]} "
          f"--mail-rcpt {INBOX} -T -\n"
          "Ctrl-C stops the servers.", flush=True)
    if stop is None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        smtp.stop()
        imap.stop()
    return 0
