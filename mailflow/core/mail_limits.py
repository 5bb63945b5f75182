"""How much mail may go to one address, and when a coalesced message goes: pure decisions.

mailflow answers every complaint and tells staff of every event, which makes it a mail
cannon for anyone who writes to it often enough (issue 7, item 11): 500 complaints from one
address were 500 acknowledgements and 500 notifications, five forged commands five alerts.
Two rules bound what it sends:

- **Limits per recipient address** (`limit_reached`): ordinary mail to one address is
  counted over the last hour and the last 24 hours; at a limit that address gets nothing
  more until the count falls. Residents and staff have their own limits ([limits]).
- **Coalescing per topic, recipient and window** (`coalesce`): a security alert, the
  explanation to a staff member whose address was forged, and the notice that an address
  reached its limit go at most once per window to each recipient. A message still waiting
  to be sent takes in what comes next (the alert then lists every attempt); one that went
  already is followed, when the window has passed, by one more that lists the rest.

These coalesced messages are not counted against the limits: each is already at most one
per window, and a flood must never hold back the alert about it. The runner counts and
queues (runners/mail_gate.py); here are only the decisions and what the messages say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from mailflow.config import Config, StaffMember
from mailflow.core.notices import Outgoing, proof_words
from mailflow.core.workdays import format_moment
from mailflow.vocabulary import OutboxKind

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: Topics of coalesced mail (the outbox row's `topic`); a limit notice's is limit_topic(address).
SECURITY_ALERT = "security-alert"
SECURITY_NOTE = "security-note"
#: An alert lists at most this many attempts, so a flood of forgeries cannot make it huge.
MAX_LISTED = 100


@dataclass(frozen=True)
class Sent:
    """Mail already queued for one address: rows created in the last hour and the last day."""

    last_hour: int
    last_day: int


@dataclass(frozen=True)
class Allowance:
    per_hour: int
    per_day: int


def allowance_for(cfg: Config, address: str) -> Allowance:
    """Staff have their own, higher limits; everyone else is a resident."""
    limits = cfg.limits
    if cfg.staff_member(address) is not None:
        return Allowance(limits.staff_per_hour, limits.staff_per_day)
    return Allowance(limits.resident_per_hour, limits.resident_per_day)


def limit_reached(sent: Sent, allowance: Allowance) -> str | None:
    """May one more mail go to this address now? None if so, else the limit it would pass."""
    if sent.last_day >= allowance.per_day:
        return f"{allowance.per_day} per day"
    if sent.last_hour >= allowance.per_hour:
        return f"{allowance.per_hour} per hour"
    return None


class Coalesce(StrEnum):
    SEND = "send"  # queue a new message now
    MERGE = "merge"  # fold into the message of this topic still waiting to be sent
    LATER = "later"  # queue a new message for when the window has passed
    DROP = "drop"  # the recipient heard of this topic within the window: nothing more


@dataclass(frozen=True)
class Previous:
    """The last message of a topic to a recipient: still waiting, or when it went (or was given up)."""

    waiting: bool
    at: datetime


def coalesce(previous: Previous | None, now: datetime, window: timedelta,
             mergeable: bool) -> tuple[Coalesce, datetime]:
    """What to do with one more message of a topic for a recipient, and when it may go.

    `mergeable` messages (alerts that list what happened) are folded in or sent later, so
    nothing is lost; the others (an explanation, a notice) are said once per window.
    """
    if previous is not None and previous.waiting:
        return (Coalesce.MERGE if mergeable else Coalesce.DROP), now
    if previous is None or previous.at + window <= now:
        return Coalesce.SEND, now
    return (Coalesce.LATER if mergeable else Coalesce.DROP), previous.at + window


def limit_topic(address: str) -> str:
    return f"limit:{address.lower()}"


def limit_notice(cfg: Config, member: StaffMember, address: str, reached: str,
                 ticket_number: str | None) -> Outgoing:
    """To a verifier, once per address and day: this address gets no more mail for now.

    It names the address, which is identity when it is a resident's: verifiers may see it,
    and only verifiers get this notice.
    """
    allowance = allowance_for(cfg, address)
    staff = cfg.staff_member(address) is not None
    paragraphs = [
        f"Alamat {'staf ' if staff else ''}{address} sudah mencapai batas email dari layanan "
        f"pengaduan ({reached}; batas untuk alamat ini: {allowance.per_hour} per jam dan "
        f"{allowance.per_day} per hari).",
        "Pengaduan tetap dicatat sebagai tiket seperti biasa, tetapi email ke alamat ini ditahan "
        "selama batas itu terlampaui" + ("." if staff else ", dan tiket baru dari alamat ini tidak "
                                         "lagi diberitahukan satu per satu."),
        "Penyebabnya bisa banjir email, robot balasan otomatis, atau alamat pengirim yang "
        "dipalsukan. Setiap email yang ditahan tercatat di riwayat tiketnya.",
        (f"Tiket terakhir: {ticket_number}. " if ticket_number else "")
        + "Lihat semua tiket dengan `mailflow tickets` dan riwayat satu tiket dengan "
        "`mailflow show NOMOR`.",
        "Pemberitahuan ini dikirim satu kali per alamat dalam 24 jam.",
    ]
    return Outgoing(OutboxKind.STAFF_NOTE, member.email, "Batas email tercapai untuk satu alamat",
                    "notice", {"greeting": f"Yth. {member.name},", "paragraphs": paragraphs,
                               "village": cfg.village.name})


@dataclass(frozen=True)
class Attempt:
    """One staff action refused as unproven: a command on a ticket (as its audit trail recorded
    it), or a phone recording, which has no ticket (`ticket` None)."""

    ticket: str | None
    at: datetime
    message_id: str | None
    note: str


def alert_digest(cfg: Config, admin: str, attempts: Sequence[Attempt]) -> Outgoing:
    """One security alert for every unproven command since the last alert.

    Carries no reply address: an alert needs no answer, and a per-ticket command address in
    it would only be one more address to misuse.
    """
    zone = cfg.calendar.timezone
    listed = [f"- {format_moment(a.at, zone)}, "
              f"{f'tiket {a.ticket}' if a.ticket else 'pencatatan telepon/WhatsApp (tanpa tiket)'}, "
              f"Message-ID {a.message_id or '-'} (keterangan teknis: {a.note})"
              for a in attempts[:MAX_LISTED]]
    if len(attempts) > MAX_LISTED:
        listed.append(f"- ... dan {len(attempts) - MAX_LISTED} lainnya (lihat riwayat tiket)")
    paragraphs = [
        f"{len(attempts)} email yang mengaku berasal dari staf berisi perintah, tetapi tidak "
        "dapat dibuktikan bahwa staf tersebut yang mengirimnya. Tidak satu pun dijalankan atau "
        "diteruskan kepada pelapor.",
        f"Bukti pengirim yang diterima mailflow: {proof_words(cfg)}. Tanyakan kepada staf yang "
        "bersangkutan apakah mereka mengirim email itu (mungkin tanpa menekan Balas/Reply pada "
        "email pemberitahuan tiket); jika tidak, alamat pengirimnya dipalsukan: simpan email itu "
        "dan laporkan kepada pengelola email desa.",
        "\n".join(listed),
        f"Peringatan keamanan digabung: paling banyak satu email per "
        f"{cfg.limits.alert_window_minutes} menit; yang datang sesudahnya dilaporkan pada email "
        "berikutnya. Rincian ada di riwayat tiket (`mailflow show NOMOR`).",
    ]
    return Outgoing(OutboxKind.STAFF_NOTE, admin,
                    f"Peringatan keamanan: {len(attempts)} perintah tanpa bukti pengirim", "notice",
                    {"greeting": "Yth. Administrator,", "paragraphs": paragraphs,
                     "village": cfg.village.name})
