"""The one mail to [commands] admin_address when a mail server starts refusing mailflow's login.

One per refusal episode (runners/login_alerts.py keeps the count), in Bahasa Indonesia, and
it says what to fix: which server and account, which configuration key or file holds the
password, and how to make the service try again. It never carries the password itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from mailflow.config import Config
from mailflow.core.notices import Outgoing, staff_note
from mailflow.core.workdays import format_moment

Server = Literal["imap", "smtp"]


def where_the_password_is(cfg: Config, server: Server) -> str:
    """The key or file an administrator edits, in the words of the configuration."""
    section = cfg.imap if server == "imap" else cfg.smtp
    if section.password_file:
        return f"berkas {section.password_file} (kunci [{server}] password_file)"
    return f"kunci [{server}] password di berkas konfigurasi"


def login_refused_notice(cfg: Config, server: Server, now: datetime) -> Outgoing | None:
    """The administrator's mail, or None without an admin_address."""
    admin = cfg.commands.admin_address
    if not admin:
        return None
    section = cfg.imap if server == "imap" else cfg.smtp
    account = section.username or "tanpa nama pengguna"
    port = section.effective_port
    if server == "imap":
        effect = ("Selama login ditolak, mailflow tidak dapat membaca kotak masuk: pengaduan baru "
                  "belum dicatat dan belum ditanggapi. Email keluar tetap dikirim.")
        subject = "Login IMAP ditolak: kotak masuk pengaduan tidak terbaca"
    else:
        effect = ("Selama login ditolak, mailflow tidak dapat mengirim email: tanda terima, "
                  "pemberitahuan kepada staf, dan email ini sendiri tertahan di antrean keluar "
                  "sampai login berhasil lagi. Tidak ada yang hilang.")
        subject = "Login SMTP ditolak: email keluar tertahan"
    paragraphs = [
        f"Sejak {format_moment(now, cfg.calendar.timezone)}, server {server.upper()} "
        f"{section.host}:{port} menolak login akun {account}. {effect}",
        f"Yang perlu diperiksa: nama pengguna pada kunci [{server}] username (saat ini: "
        f"{account}) dan kata sandi pada {where_the_password_is(cfg, server)}. Jika penyedia "
        "email memakai verifikasi dua langkah (misalnya Gmail atau Microsoft 365), gunakan "
        "sandi aplikasi.",
        "Sesudah diperbaiki, jalankan `mailflow check` untuk mencoba login, lalu "
        "`systemctl reload mailflow`: layanan langsung mencoba lagi. Sebelum itu mailflow "
        "mencoba dengan jeda yang makin panjang, paling banyak "
        f"{cfg.retry.login_attempts_per_hour} kali per jam, agar akun tidak dikunci penyedia.",
        "Email ini dikirim sekali untuk setiap kejadian. Jika login berhasil lalu ditolak lagi, "
        "Bapak/Ibu akan menerima email baru.",
    ]
    return staff_note(cfg, None, admin, subject, "Yth. Administrator,", paragraphs,
                      answerable=False)
