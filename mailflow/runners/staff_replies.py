"""A staff member's reply to a ticket: authenticate, parse, check, apply, tell.

All of it happens inside the intake transaction of the reply, so the changes, the
events and every message they cause commit together or not at all. A command that
cannot be applied changes nothing and its sender is told why; a command that is not
proven to come from its sender changes nothing, is logged as a security event and
reported to the administrator, and never reaches the resident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from mailflow.config import Config, StaffMember
from mailflow.core.commands import HELP, StaffReply, parse_staff_reply
from mailflow.core.identity import Identity
from mailflow.core.notices import Notices
from mailflow.core.parse import ParsedMessage
from mailflow.core.reply_text import new_text
from mailflow.core.sender_auth import DnsTxt, authenticate
from mailflow.core.tickets import STATUS_LABELS, Status
from mailflow.core.workflow import check_transition
from mailflow.store.models import Ticket, TicketEvent
from mailflow.store.queries import ack_message_id, reporter_of

log = logging.getLogger(__name__)

# Moving a complaint into or out of verification is the verifier's call (or the head's);
# follow-up officers report progress and completion.
_VERIFIER_TARGETS = frozenset({Status.DIVERIFIKASI, Status.DITOLAK, Status.PERLU_DATA,
                               Status.DITERIMA})
_VERIFIER_ROLES = frozenset({"verifikator", "kepala_desa"})


class StaffReplies:
    def __init__(self, cfg: Config, notices: Notices, clock: Callable[[], datetime],
                 dns_txt: DnsTxt | None = None) -> None:
        self.cfg = cfg
        self.notices = notices
        self.clock = clock
        self.dns_txt = dns_txt

    def handle(self, session: Session, ticket: Ticket, member: StaffMember, msg: ParsedMessage,
               raw: bytes) -> str:
        """Apply one reply; returns what happened, for the intake record."""
        method = authenticate(msg, raw, ticket.number, self.cfg.commands,
                              self.cfg.smtp.from_address, self.dns_txt)
        if method is None:
            return self._refuse_unauthenticated(session, ticket, member, msg)
        reply = parse_staff_reply(new_text(msg.text))
        problems = [f"{e.line}: {e.reason}" for e in reply.errors] + self._check(ticket, member, reply)
        if problems:
            self._explain(session, ticket, member, msg, problems)
            self._event(session, ticket, member, msg, method, "command_refused", note="; ".join(problems))
            log.info("staff command refused ticket=%s problems=%d", ticket.number, len(problems))
            return "command refused"
        self._apply(session, ticket, member, msg, method, reply)
        return "command applied"

    # -- checks ---------------------------------------------------------------------------

    def _check(self, ticket: Ticket, member: StaffMember, reply: StaffReply) -> list[str]:
        problems: list[str] = []
        if reply.status is not None:
            public = bool((reply.message or reply.reject_reason) and not reply.internal)
            refusal = check_transition(Status(ticket.status), reply.status, has_message=public)
            if refusal is not None:
                problems.append(refusal.reason)
            elif reply.status in _VERIFIER_TARGETS and not _VERIFIER_ROLES & set(member.roles):
                problems.append(f"status '{reply.status.value}' hanya dapat diberikan oleh "
                                "verifikator atau kepala desa")
        if reply.assignee is not None:
            assignee = self.cfg.staff_member(reply.assignee)
            if assignee is None:
                problems.append(f"'{reply.assignee}' bukan staf yang terdaftar di mailflow")
        if not reply.has_commands and not reply.message:
            problems.append("balasan kosong: tidak ada perintah maupun pesan")
        return problems

    # -- applying -------------------------------------------------------------------------

    def _apply(self, session: Session, ticket: Ticket, member: StaffMember, msg: ParsedMessage,
               method: str, reply: StaffReply) -> None:
        assert ticket.id is not None
        before = Status(ticket.status)
        public_text = "" if reply.internal else "\n\n".join(
            t for t in (reply.reject_reason and f"Alasan: {reply.reject_reason}", reply.message) if t)
        if reply.priority is not None and reply.priority.value != ticket.priority:
            self._event(session, ticket, member, msg, method, "priority",
                        note=f"{ticket.priority} -> {reply.priority.value}")
            ticket.priority = reply.priority.value
        if reply.assignee is not None and reply.assignee != ticket.assignee:
            self._assign(session, ticket, member, msg, method, reply.assignee)
        if reply.status is not None:
            ticket.status = reply.status.value
            self._event(session, ticket, member, msg, method, "status", from_status=before.value,
                        to_status=reply.status.value, note=public_text)
        elif reply.message:
            self._event(session, ticket, member, msg, method,
                        "internal_note" if reply.internal else "message", note=reply.message)
        session.add(ticket)
        if reply.status is not None or public_text:
            self._tell_reporter(session, ticket, public_text, changed=reply.status is not None)
        log.info("staff command applied ticket=%s status=%s->%s priority=%s internal=%s auth=%s",
                 ticket.number, before.value, ticket.status, ticket.priority, reply.internal, method)

    def _assign(self, session: Session, ticket: Ticket, member: StaffMember, msg: ParsedMessage,
                method: str, address: str) -> None:
        assignee = self.cfg.staff_member(address)
        assert assignee is not None
        self._event(session, ticket, member, msg, method, "assignee",
                    note=f"{ticket.assignee or '-'} -> {assignee.address}")
        ticket.assignee = assignee.address
        reporter = reporter_of(session, ticket.id)
        identity = reporter.identity() if reporter is not None else Identity()
        session.add(self.notices.to_staff(assignee, ticket, identity, [], "ditindaklanjuti"))

    def _event(self, session: Session, ticket: Ticket, member: StaffMember, msg: ParsedMessage,
               method: str, kind: str, from_status: str | None = None,
               to_status: str | None = None, note: str = "") -> None:
        assert ticket.id is not None
        session.add(TicketEvent(ticket_id=ticket.id, at=self.clock(), actor=member.address,
                                kind=kind, from_status=from_status, to_status=to_status,
                                note=note[:20000], message_id=msg.message_id, auth=method))

    def _tell_reporter(self, session: Session, ticket: Ticket, message: str, changed: bool) -> None:
        reporter = reporter_of(session, ticket.id)
        if reporter is None or not reporter.email:
            log.info("reporter has no email ticket=%s; status change not mailed", ticket.number)
            return
        session.add(self.notices.status_update(ticket, reporter, message, changed,
                                               ack_message_id(session, ticket.id)))

    # -- refusals -------------------------------------------------------------------------

    def _explain(self, session: Session, ticket: Ticket, member: StaffMember, msg: ParsedMessage,
                 problems: list[str]) -> None:
        paragraphs = [
            f"Balasan Anda untuk tiket {ticket.number} tidak dijalankan; tidak ada yang diubah.",
            "Alasannya:\n" + "\n".join(f"- {p}" for p in problems),
            f"Status tiket saat ini: {ticket.status} ({STATUS_LABELS[ticket.status]}).",
            HELP,
        ]
        session.add(self.notices.to_staff_plain(
            ticket, member.email, f"Re: [{ticket.number}] Perintah tidak dapat dijalankan",
            f"Yth. {member.name},", paragraphs, in_reply_to=msg.message_id))

    def _refuse_unauthenticated(self, session: Session, ticket: Ticket, member: StaffMember,
                                msg: ParsedMessage) -> str:
        assert ticket.id is not None
        session.add(TicketEvent(ticket_id=ticket.id, at=self.clock(), actor="unknown",
                                kind="security", note=f"unauthenticated command claiming "
                                f"to be from {member.address}", message_id=msg.message_id))
        log.warning("security: unauthenticated staff command refused ticket=%s claimed_staff=%s",
                    ticket.number, member.name)
        admin = self.cfg.commands.admin_address
        if admin:
            paragraphs = [
                f"Sebuah email mengaku dari staf {member.name} <{member.address}> berisi perintah "
                f"untuk tiket {ticket.number}, tetapi tidak terbukti berasal dari staf tersebut "
                f"(metode yang diterima: {', '.join(self.cfg.commands.accept)}).",
                "Perintah itu tidak dijalankan dan tidak diteruskan kepada pelapor.",
                f"Message-ID: {msg.message_id or '-'}",
            ]
            session.add(self.notices.to_staff_plain(
                ticket, admin, f"[{ticket.number}] Peringatan keamanan: perintah tanpa bukti pengirim",
                "Yth. Administrator,", paragraphs))
        else:
            log.warning("security: no [commands] admin_address configured; alert not mailed")
        # The genuine staff member learns of it at their real address: if they wrote it (from
        # a new message instead of a reply), they know how to do it right; if not, they know.
        self._explain(session, ticket, member, msg, [
            "email ini tidak terbukti berasal dari alamat Anda, jadi perintahnya tidak dijalankan",
            "gunakan tombol Balas (Reply) pada email notifikasi tiket ini, agar balasan terkirim ke "
            "alamat khusus tiket; jika Anda tidak mengirim email ini, beri tahu administrator",
        ])
        return "security: unauthenticated command"
