"""The clock's mail to staff: reminders, escalations and daily digests, as `Outgoing` values.

The plan (core/reminders.py) says what is due and to whom; this says it in the village
government's voice, in Bahasa Indonesia. No field of a plan carries the reporter's identity,
and the only free text, a ticket's subject, comes in already redacted (`Redacted`), for
every reader alike, the village head included. Pure: "now" and the calendar are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mailflow.config import Config
from mailflow.core.commands import command_lines
from mailflow.core.notices import Outgoing, signature
from mailflow.core.promise import workdays_between
from mailflow.core.reminders import Digest, DigestLine, Escalation, Redacted, Reminder
from mailflow.core.reply_address import Purpose, signed_address
from mailflow.core.workdays import WorkCalendar, format_tanggal
from mailflow.vocabulary import OutboxKind

# What a paused ticket shows instead of a due date: the clock waits for the reporter.
WAITING_FOR_DATA = "menunggu data pelapor"


def _greeting(cfg: Config, address: str) -> str:
    member = cfg.staff_member(address)
    return f"Yth. {member.name}," if member is not None else "Yth. Bapak/Ibu,"


def _reply_to(cfg: Config, address: str, number: str) -> str:
    """The member's own command address for the ticket, as in its notification."""
    if "signed_reply" not in cfg.commands.accept or cfg.staff_member(address) is None:
        return cfg.smtp.from_address
    return signed_address(cfg.smtp.from_address, Purpose.STAFF, address,
                          cfg.commands.secret_bytes(), number)


def _common(cfg: Config, address: str) -> dict[str, Any]:
    member = cfg.staff_member(address)
    return {"greeting": _greeting(cfg, address), "village": cfg.village.name,
            "signature": signature(cfg), "working_days": cfg.calendar.working_days,
            "commands": command_lines(member.roles) if member is not None else []}


def _officer(cfg: Config, address: str | None) -> str:
    member = cfg.staff_member(address)
    if member is None:
        return "belum ditunjuk"
    return f"{member.name} ({', '.join(role.label for role in member.roles)})"


def reminder_mail(cfg: Config, calendar: WorkCalendar, item: Reminder, to: str,
                  subject: Redacted | None, now: datetime) -> Outgoing:
    """A reminder of a due date to one officer (or verifier)."""
    left = workdays_between(calendar, calendar.local_day(now), item.due)
    due = format_tanggal(item.due)
    context = {
        **_common(cfg, to), "number": item.number, "due": due, "left": left,
        "priority": item.priority.label, "status_label": item.status.label,
        "subject": subject or "",
    }
    when = "hari ini" if left == 0 else f"{left} hari kerja lagi"
    return Outgoing(OutboxKind.REMINDER, to,
                    f"[{item.number}] Pengingat: batas waktu tanggapan {when} ({due})",
                    "reminder", context, reply_to=_reply_to(cfg, to, item.number))


def escalation_mail(cfg: Config, item: Escalation, to: str,
                    subject: Redacted | None) -> Outgoing:
    """An overdue, unanswered ticket reported to the village head, once."""
    context = {
        **_common(cfg, to), "number": item.number, "due": format_tanggal(item.due),
        "overdue_days": item.overdue_days, "priority": item.priority.label,
        "status_label": item.status.label, "officer": _officer(cfg, item.assignee),
        "subject": subject or "",
    }
    return Outgoing(OutboxKind.ESCALATION, to,
                    f"[{item.number}] Eskalasi: belum ditanggapi, terlambat "
                    f"{item.overdue_days} hari kerja", "escalation", context,
                    reply_to=_reply_to(cfg, to, item.number))


def _line(line: DigestLine, subjects: Mapping[str, Redacted]) -> dict[str, Any]:
    due = WAITING_FOR_DATA if line.paused else format_tanggal(line.due)
    return {
        "number": line.number, "priority": line.priority.label,
        "status_label": line.status.label, "due": due, "paused": line.paused,
        "overdue": f"TERLAMBAT {line.overdue_days} hari kerja" if line.overdue_days > 0 else "",
        "answered": line.answered, "subject": line.subject or subjects.get(line.number, ""),
    }


def digest_mail(cfg: Config, digest: Digest, subjects: Mapping[str, Redacted]) -> Outgoing:
    """One staff member's open tickets for the day, in the plan's order (overdue first)."""
    lines = [_line(line, subjects) for line in digest.lines]
    overdue = sum(1 for line in digest.lines if line.overdue_days > 0)
    context = {**_common(cfg, digest.to), "day": format_tanggal(digest.day), "lines": lines,
               "count": len(lines), "overdue_count": overdue}
    late = f", {overdue} terlambat" if overdue else ""
    return Outgoing(OutboxKind.DIGEST, digest.to,
                    f"Daftar pengaduan terbuka {format_tanggal(digest.day)} "
                    f"({len(lines)} tiket{late})", "digest", context)

