"""Issue 7 item 7: `mailflow show` without identity is scrubbed, and every view of the identity
is an event on the ticket (who, when, how) in its audit trail, not only a line on stderr."""

from __future__ import annotations

import getpass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailflow.service import Service
from tests.e2e.support import INBOX, KASI, SEKDES, SITI, config_for, rows
from tests.e2e.test_cli import mailflow, write_config
from tests.harness.village import SENT_AT

pytestmark = pytest.mark.e2e

BODY = ("Saya Siti Aminah warga RT 02 Dusun Krajan, NIK 33.22.11.450689.0002, telp (0298) 321456.\n"
        "Jalan di depan balai dusun berlubang besar sejak bulan lalu.\n\n"
        "Hormat saya,\nSiti Aminah\nRT 02 Dusun Krajan\n")
SECRETS = ("Siti", "Aminah", "RT 02", "450689", "321456", SITI, "3322114506890002")


def _complaint() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Siti Aminah <{SITI}>", INBOX
    msg["Subject"] = "Pengaduan Masyarakat - Siti Aminah, Dusun Krajan"
    msg["Date"] = SENT_AT.strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg.set_content(BODY)
    msg.add_attachment(b"\xff\xd8 ktp", maintype="image", subtype="jpeg",
                       filename="KTP_Siti_Aminah_3322114506890002.jpg")
    return msg.as_bytes()


def test_show_is_scrubbed_and_each_identity_view_is_recorded(mail_world: Any, tmp_path: Path) -> None:
    from mailflow.store.models import TicketEvent

    cfg = config_for(mail_world, tmp_path)
    path = write_config(cfg, tmp_path / "config.toml")
    mail_world.deliver(INBOX, _complaint())
    service = Service(cfg)
    service.poll_once()
    service.engine.dispose()

    refused = mailflow("--config", str(path), "show", "ADU-2026-00001", "--with-identity", "--as", KASI)
    assert refused.returncode == 77
    assert "no identity rights" in refused.stderr
    assert rows(cfg, TicketEvent)[-1].kind == "created"  # nothing recorded, nothing shown
    for secret in SECRETS:
        assert secret not in refused.stdout

    revealed = mailflow("--config", str(path), "show", "ADU-2026-00001", "--with-identity",
                        "--as", SEKDES)
    assert revealed.returncode == 0, revealed.stderr
    assert "Nama       : Siti Aminah" in revealed.stdout
    assert "Lampiran   : KTP_Siti_Aminah_3322114506890002.jpg" in revealed.stdout
    user = getpass.getuser()
    assert f"identitas pelapor dilihat  oleh {SEKDES} [pengguna OS]" in revealed.stdout
    assert (f"lewat mailflow show --with-identity oleh pengguna OS {user} untuk {SEKDES}"
            in revealed.stdout)
    assert "identity viewed ticket=ADU-2026-00001" in revealed.stderr

    shown = mailflow("--config", str(path), "show", "ADU-2026-00001")
    for secret in SECRETS:
        assert secret not in shown.stdout + shown.stderr, secret
    assert "Identitas pelapor dirahasiakan" in shown.stdout
    assert "Perihal    : Pengaduan Masyarakat - [nama disembunyikan], Dusun [disembunyikan]" in (
        shown.stdout)
    assert "Jalan di depan balai dusun berlubang besar sejak bulan lalu." in shown.stdout
    assert "Lampiran   : KTP_[disembunyikan].jpg (image/jpeg" in shown.stdout
    # The trail keeps the view.
    assert f"identitas pelapor dilihat  oleh {SEKDES} [pengguna OS]" in shown.stdout
    [viewed] = [e for e in rows(cfg, TicketEvent) if e.kind == "identity_viewed"]
    assert (viewed.actor, viewed.auth) == (SEKDES, "os_user")
