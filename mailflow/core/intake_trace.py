"""What `mailflow trace` needs: a sender's address made unreadable, and intake's reasons in
plain words for a clerk.

The sender's address is identity, so intake stores only `sender_digest(address, key)`, an
HMAC-SHA256 under a key kept outside the database (store/files.py, `sender_key`): the same
address always gives the same digest, so `trace --from ADDRESS` can find its messages, but
the digests alone (a copy of the database) give no list of addresses, nor can they be
checked against a list of guesses without the key. Pure.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

from mailflow.vocabulary import IntakeOutcome

#: The decision of a message intake looked at and left alone (no IntakeOutcome: no record).
SKIPPED = "skipped"
_CONTEXT = b"mailflow sender digest v1\x00"


def sender_digest(address: str | None, key: bytes) -> str | None:
    """The keyed digest of an address (case-insensitive, as mail systems compare them)."""
    if not address or not key:
        return None
    return hmac.new(key, _CONTEXT + address.strip().lower().encode(), hashlib.sha256).hexdigest()


def normal_message_id(value: str) -> str:
    """A Message-ID as intake stores it, from what a person pastes (with or without <>)."""
    return f"<{value.strip().strip('<>').strip()}>"


def decision_words(decision: str) -> str:
    """What intake did, for a clerk: "tiket baru", "dilewati (bukan pengaduan)", ..."""
    if decision == SKIPPED:
        return "dilewati (bukan pengaduan)"
    return IntakeOutcome(decision).label


_Rewrite = Callable[[re.Match[str]], str]
# Intake's reasons (English, for logs) in plain Indonesian; the first that matches is used.
_REASONS: tuple[tuple[re.Pattern[str], _Rewrite], ...] = tuple(
    (re.compile(pattern), words) for pattern, words in (
        (r"^subject does not match$",
         lambda m: "subjek tidak memuat kata kunci pengaduan maupun nomor tiket"),
        (r"^subject matches$", lambda m: "subjek memuat kata kunci pengaduan"),
        (r"^ticket number in subject$", lambda m: "subjek memuat nomor tiket"),
        (r"^replies to a ticket's message$", lambda m: "membalas email dari tiket"),
        (r"^same message as one already taken for (\S+)$",
         lambda m: f"pesan yang sama sudah diterima untuk {m[1]}"),
        (r"^repeat of (\S+): .* within (\d+) h",
         lambda m: f"pengulangan {m[1]}: pengirim, subjek dan isi sama dalam {m[2]} jam"),
        (r"^message too large \((\d+) bytes",
         lambda m: f"pesan terlalu besar ({m[1]} byte): baca di webmail"),
        (r"^delivery status notification", lambda m: "pemberitahuan gagal kirim (bounce)"),
        (r"^empty return-path", lambda m: "tanpa alamat balik: bounce atau balasan otomatis"),
        (r"^from a mailer daemon$", lambda m: "dari mailer-daemon (sistem email)"),
        (r"^from mailflow's own address$", lambda m: "dari alamat mailflow sendiri"),
        (r"^(auto-submitted|precedence|auto-reply)",
         lambda m: f"balasan otomatis ({m.string})"),
        (r"^security: ", lambda m: "keamanan: pengirim tidak terbukti, tidak ada yang diubah"),
        (r"^answers mail of village (\S+), sent to this village's mailbox",
         lambda m: f"membalas email desa lain ({m[1]}) yang terkirim ke kotak surat desa ini: "
                   "bukan pengaduan untuk desa ini"),
        (r"^command applied$", lambda m: "perintah staf dijalankan"),
        (r"^command refused$", lambda m: "perintah staf ditolak (lihat riwayat tiket)"),
        (r"^reply from another sender$", lambda m: "balasan dari pengirim lain"),
        (r"^status request$", lambda m: "warga menanyakan status"),
        (r"^reply$", lambda m: "balasan warga dicatat"),
        (r"^unverified reply$", lambda m: "balasan tanpa bukti pengirim: data tidak diubah"),
        (r"^data still incomplete$", lambda m: "data pelapor masih kurang"),
        (r"^data completed$", lambda m: "data pelapor sudah lengkap"),
    ))


def reason_words(decision: str, reason: str) -> str:
    """Why, in plain words. A quarantine's reason may quote the message (an exception that
    quotes a name or a NIK): only what precedes its first ":" is said, as in the log."""
    if decision == IntakeOutcome.QUARANTINED and not reason.startswith("message too large"):
        return f"tidak dapat dibaca ({reason.split(':', 1)[0][:80]}); disimpan di karantina"
    for pattern, words in _REASONS:
        found = pattern.search(reason)
        if found is not None:
            return words(found)
    return reason[:120]
