"""A resident's reply to one of mailflow's messages: it joins the same ticket, never a new one.

The reply is recorded; "status" or "cek status ADU-..." gets the current status;
a reply to a ticket waiting for data is checked again and moves the ticket on when
the data is complete; the staff who act on the ticket are told. Only the reporter's
own address can complete identity or ask for the status, so a stranger who quotes a
ticket number learns nothing and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from mailflow.config import Config
from mailflow.core.identity import Identity, extract_identity, nik_problem, scrub
from mailflow.core.notices import Notices
from mailflow.core.parse import ParsedMessage
from mailflow.core.reply_text import new_text
from mailflow.core.tickets import Status, assess
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.store.queries import ack_message_id, reporter_of

log = logging.getLogger(__name__)

_STATUS_REQUEST = re.compile(r"^\s*(cek\s+|check\s+)?status\b", re.IGNORECASE)


def is_status_request(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return bool(_STATUS_REQUEST.match(first)) and len(text) < 200


class ResidentReplies:
    def __init__(self, cfg: Config, notices: Notices, clock: Callable[[], datetime]) -> None:
        self.cfg = cfg
        self.notices = notices
        self.clock = clock

    def handle(self, session: Session, ticket: Ticket, msg: ParsedMessage) -> str:
        assert ticket.id is not None
        text = new_text(msg.text)
        reporter = reporter_of(session, ticket.id)
        own = reporter is not None and bool(reporter.email) and (
            msg.from_addr == (reporter.email or "").lower())
        session.add(TicketEvent(ticket_id=ticket.id, at=self.clock(),
                                actor="reporter" if own else "other", kind="reply",
                                note=text[:20000], message_id=msg.message_id))
        if not own or reporter is None:
            log.info("reply from someone other than the reporter ticket=%s; recorded only",
                     ticket.number)
            return "reply from another sender"
        if is_status_request(text):
            session.add(self.notices.status_update(ticket, reporter, "", False,
                                                   ack_message_id(session, ticket.id)))
            log.info("status request answered ticket=%s", ticket.number)
            return "status request"
        outcome = "reply"
        if ticket.status == Status.PERLU_DATA:
            outcome = self._complete(session, ticket, reporter, text)
        self._tell_staff(session, ticket, reporter, text)
        return outcome

    def _complete(self, session: Session, ticket: Ticket, reporter: Reporter, text: str) -> str:
        """Merge what the reply adds; when nothing is missing any more, the ticket moves on."""
        found = extract_identity(text)
        keep_nik = reporter.nik and not reporter.nik_problem
        nik = reporter.nik if keep_nik else (found.identity.nik or reporter.nik)
        merged = Identity(
            name=reporter.name or found.identity.name, nik=nik,
            nik_problem=nik_problem(nik) if nik else None,
            phone=reporter.phone or found.identity.phone,
            address=reporter.address or found.identity.address, email=reporter.email,
        )
        description = ticket.description
        if "deskripsi" in ticket.missing_items and found.description:
            description = (description + "\n\n" + found.description).strip()
        verdict = assess(merged, description)
        reporter.name, reporter.nik, reporter.nik_problem = merged.name, merged.nik, merged.nik_problem
        reporter.phone, reporter.address = merged.phone, merged.address
        ticket.description, ticket.missing = description, ",".join(verdict.missing)
        session.add(reporter)
        session.add(ticket)
        if verdict.missing:
            log.info("reporter data still incomplete ticket=%s missing=%s", ticket.number, ticket.missing)
            return "data still incomplete"
        ticket.status = Status.DITERIMA.value
        session.add(TicketEvent(ticket_id=ticket.id, at=self.clock(), actor="reporter", kind="status",
                                from_status=Status.PERLU_DATA.value, to_status=Status.DITERIMA.value,
                                note="data pelapor sudah lengkap"))
        session.add(self.notices.status_update(ticket, reporter,
                                               "Terima kasih, data Anda sudah lengkap.", True,
                                               ack_message_id(session, ticket.id)))
        log.info("reporter data complete ticket=%s status=perlu_data->diterima", ticket.number)
        return "data completed"

    def _tell_staff(self, session: Session, ticket: Ticket, reporter: Reporter, text: str) -> None:
        identity = reporter.identity()
        recipients = {m.address: m for m in self.cfg.staff_with("verifikator")}
        assignee = self.cfg.staff_member(ticket.assignee)
        if assignee is not None:
            recipients[assignee.address] = assignee
        for member in recipients.values():
            shown = text if member.sees_identity else scrub(text, identity)
            session.add(self.notices.to_staff_plain(
                ticket, member.email, f"[{ticket.number}] Balasan dari pelapor",
                f"Yth. {member.name},",
                [f"Pelapor membalas tiket {ticket.number} (status: {ticket.status}):", shown,
                 "Balas email ini dengan perintah (#status ...) untuk menindaklanjuti."]))
