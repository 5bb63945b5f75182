"""Staff commands written at the top of a reply: `#status diproses`, `Prioritas: tinggi`, ...

Pure: text in, a `StaffReply` out. Staff are not technical, so the grammar forgives:
Indonesian or English words, any case, with or without a colon, `#` optional for
the known keywords when a colon follows. Parsing stops at the first line that is
not a command; the rest is the message to the reporter (or an internal note after
`#internal`). Anything that cannot be understood becomes an error with a reason in
Bahasa Indonesia and an example, so the reply to the sender can say how to write it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from mailflow.core.workflow import may_set, settable
from mailflow.vocabulary import PUBLISH_ROLES, Channel, Priority, Role, Status


def _fold(word: str) -> str:
    return re.sub(r"[\s_\-]+", "_", word.strip().lower())


_KEYWORDS: dict[str, str] = {
    **dict.fromkeys(("status", "state"), "status"),
    **dict.fromkeys(("prioritas", "priority", "prio"), "prioritas"),
    **dict.fromkeys(("petugas", "assign", "assignee", "owner", "penanggung_jawab"), "petugas"),
    **dict.fromkeys(("internal", "intern", "catatan", "note", "komentar", "comment"), "internal"),
    **dict.fromkeys(("tolak", "reject", "ditolak"), "tolak"),
    **dict.fromkeys(("kanal", "channel", "saluran"), "kanal"),
    **dict.fromkeys(("publik", "public", "umumkan"), "publik"),
}

_STATUS_WORDS: dict[str, Status] = {
    **dict.fromkeys(("diterima", "terima", "received", "new", "baru"), Status.DITERIMA),
    **dict.fromkeys(("diverifikasi", "verifikasi", "terverifikasi", "verified", "verify"),
                    Status.DIVERIFIKASI),
    **dict.fromkeys(("diproses", "proses", "tindak_lanjut", "ditindaklanjuti", "in_progress",
                     "processing", "progress", "open"), Status.DIPROSES),
    **dict.fromkeys(("selesai", "tuntas", "done", "resolved", "closed", "solved"), Status.SELESAI),
    **dict.fromkeys(("perlu_data", "kurang_data", "lengkapi_data", "needs_data", "need_info",
                     "needs_info", "waiting"), Status.PERLU_DATA),
    **dict.fromkeys(("ditolak", "tolak", "rejected", "reject"), Status.DITOLAK),
}

_PRIORITY_WORDS: dict[str, Priority] = {
    **dict.fromkeys(("rendah", "low"), Priority.RENDAH),
    **dict.fromkeys(("sedang", "normal", "medium", "biasa"), Priority.SEDANG),
    **dict.fromkeys(("tinggi", "high", "penting"), Priority.TINGGI),
    **dict.fromkeys(("darurat", "mendesak", "urgent", "critical", "segera"), Priority.DARURAT),
}

_CHANNEL_WORDS: dict[str, Channel] = {
    **dict.fromkeys(("telepon", "telpon", "telp", "phone", "call"), Channel.TELEPON),
    **dict.fromkeys(("whatsapp", "wa"), Channel.WHATSAPP),
    **dict.fromkeys(("email", "surel", "e_mail"), Channel.EMAIL),
    **dict.fromkeys(("kotak_saran", "suggestion_box", "kotak"), Channel.KOTAK_SARAN),
}

# Without '#', only these are commands: "Catatan: ..." or "Tolak: ..." opening an ordinary
# message must not turn it internal or reject a complaint.
_PLAIN_ALLOWED = frozenset({"status", "prioritas", "petugas", "kanal"})

_HASHED = re.compile(r"^#\s*(?P<word>[A-Za-z_\-]{1,30})\s*:?\s*(?P<value>.*)$")
_PLAIN = re.compile(r"^(?P<word>[A-Za-z_\- ]{2,30}?)\s*:\s*(?P<value>.*)$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def command_lines(roles: Iterable[Role]) -> list[str]:
    """The commands a staff member with `roles` may use, one line each: an officer is not
    shown the statuses only a verifier may give, nor #tolak."""
    held = frozenset(roles)
    statuses = settable(held)
    lines = [f"#status {' | '.join(s.value for s in statuses)}"] if statuses else []
    lines += ["#prioritas rendah | sedang | tinggi | darurat", "#petugas alamat@email"]
    if may_set(held, Status.DITOLAK):
        lines.append("#tolak <alasan penolakan>")
    if not PUBLISH_ROLES.isdisjoint(held):
        lines.append("#publik [teks]   (pesan ini, atau teks sesudah #publik, tampil di halaman "
                     "publik desa; jangan tulis identitas pelapor)")
    lines.append("#internal   (sisa balasan menjadi catatan internal, tidak dikirim ke pelapor)")
    return lines


def help_for(roles: Iterable[Role]) -> str:
    """How to write commands, listing only those `roles` may use."""
    return ("Cara menulis perintah (di baris paling atas balasan, satu perintah per baris):\n"
            + "\n".join("  " + line for line in command_lines(roles))
            + "\nTulis pesan untuk pelapor di bawah baris perintah.")


HELP = help_for(Role)  # every command, as the verifier and the village head may use them


@dataclass(frozen=True)
class CommandError:
    line: str
    reason: str


@dataclass(frozen=True)
class StaffReply:
    status: Status | None = None
    priority: Priority | None = None
    assignee: str | None = None
    internal: bool = False
    reject_reason: str | None = None
    channel: Channel | None = None
    # #publik: the reply's message (or `public_text`, written after #publik) goes on the
    # public page (core/public_page.py).
    public: bool = False
    public_text: str = ""
    message: str = ""
    errors: tuple[CommandError, ...] = ()
    commands: tuple[str, ...] = field(default=())

    @property
    def has_commands(self) -> bool:
        return bool(self.commands)

    @property
    def public_words(self) -> str:
        """What #publik puts on the public page: the text after it, else the message to the
        reporter (with a rejection's reason); nothing of an #internal note."""
        if not self.public:
            return ""
        if self.public_text or self.internal:
            return self.public_text
        return "\n\n".join(t for t in (self.reject_reason and f"Alasan: {self.reject_reason}",
                                        self.message) if t)


def _command(line: str) -> tuple[str, str] | None:
    """(canonical keyword or '?word', value) when the line is meant as a command."""
    hashed = _HASHED.match(line)
    if hashed:
        word = _fold(hashed["word"])
        return _KEYWORDS.get(word, "?" + hashed["word"]), hashed["value"].strip()
    plain = _PLAIN.match(line)
    if plain and _KEYWORDS.get(_fold(plain["word"])) in _PLAIN_ALLOWED:
        return _KEYWORDS[_fold(plain["word"])], plain["value"].strip()
    return None


def _apply(reply: StaffReply, keyword: str, value: str, line: str) -> StaffReply:
    def error(reason: str) -> StaffReply:
        return replace(reply, errors=(*reply.errors, CommandError(line, reason)))

    if keyword.startswith("?"):
        return error(f"perintah '#{keyword[1:]}' tidak dikenal")
    if keyword == "status":
        status = _STATUS_WORDS.get(_fold(value))
        if status is None:
            return error(f"status '{value}' tidak dikenal; pilih salah satu: "
                         + ", ".join(s.value for s in Status))
        if reply.status not in (None, status):
            return error("dua status berbeda dalam satu balasan")
        return replace(reply, status=status)
    if keyword == "prioritas":
        priority = _PRIORITY_WORDS.get(_fold(value))
        if priority is None:
            return error(f"prioritas '{value}' tidak dikenal; pilih: rendah, sedang, tinggi, darurat")
        return replace(reply, priority=priority)
    if keyword == "petugas":
        address = value.strip("<>").lower()
        if not _EMAIL.match(address):
            return error("tuliskan alamat email petugas, misalnya: #petugas staf2@desa.example")
        return replace(reply, assignee=address)
    if keyword == "internal":
        return replace(reply, internal=True)
    if keyword == "tolak":
        if not value:
            return error("tuliskan alasan penolakan, misalnya: #tolak bukan wewenang desa")
        if reply.status not in (None, Status.DITOLAK):
            return error("#tolak tidak dapat digabung dengan status lain")
        return replace(reply, status=Status.DITOLAK, reject_reason=value)
    if keyword == "publik":
        return replace(reply, public=True, public_text=value or reply.public_text)
    channel = _CHANNEL_WORDS.get(_fold(value))
    if channel is None:
        return error(f"kanal '{value}' tidak dikenal; pilih: " + ", ".join(c.value for c in Channel))
    return replace(reply, channel=channel)


def parse_staff_reply(text: str) -> StaffReply:
    """Commands from the top of `text` (already without quoted history), then the message."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    reply = StaffReply()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if not line:
            index += 1
            continue
        parsed = _command(line[:500])
        if parsed is None:
            break
        keyword, value = parsed
        reply = _apply(reply, keyword, value, line[:200])
        reply = replace(reply, commands=(*reply.commands, line[:200]))
        index += 1
    return replace(reply, message="\n".join(lines[index:]).strip())


def status_from_word(word: str) -> Status | None:
    """The status a word names, as `#status WORD` reads it ("verified" too): for the CLI's
    filters, so staff type the words they write in mail."""
    return _STATUS_WORDS.get(_fold(word))


def priority_from_word(word: str) -> Priority | None:
    """The priority a word names, as `#prioritas WORD` reads it ("high" too)."""
    return _PRIORITY_WORDS.get(_fold(word))


def words_for(value: Status | Priority) -> list[str]:
    """Every word staff may write for `value` (its own first), for help texts."""
    table: dict[str, Status] | dict[str, Priority] = (
        _STATUS_WORDS if isinstance(value, Status) else _PRIORITY_WORDS)
    return [value.value, *(word for word, v in table.items() if v == value and word != value)]
