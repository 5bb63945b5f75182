"""Replies to a ticket, decided: a staff member's commands, or a resident's answer.

Each reply becomes one `ReplyPlan`: what changes on the ticket and the reporter, which
events join the audit trail, and which messages go out. The intake handler applies it in
the reply's own transaction, so changes, events and mail commit together or not at all.

Staff: a command that cannot be applied changes nothing and its sender is told why; a
command not proven to come from its sender changes nothing, is a security event, is reported
to the administrator, and never reaches the resident.
Residents: only the reporter's own address can complete identity or ask for the status, so
a stranger who quotes a ticket number learns nothing and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from mailflow.config import Config, StaffMember
from mailflow.core.commands import StaffReply, help_for, parse_staff_reply
from mailflow.core.identity import Identity, extract_identity, nik_problem
from mailflow.core.notices import Outgoing, proof_words, staff_note, status_update, ticket_notice
from mailflow.core.parse import ParsedMessage
from mailflow.core.priority_lists import WordLists
from mailflow.core.privacy import redactor_for
from mailflow.core.receipts import Told, staff_receipt, wants_receipt
from mailflow.core.reply_text import new_text
from mailflow.core.ticket_priority import set_by_staff, suggested
from mailflow.core.tickets import SYSTEM, EventPlan, TicketFacts, assess
from mailflow.core.workflow import FINAL, check_box_closing, check_transition, may_set
from mailflow.vocabulary import (
    PUBLISH_ROLES,
    Channel,
    EventKind,
    Missing,
    OutboxKind,
    Role,
    Status,
)

_STATUS_REQUEST = re.compile(r"^\s*(cek\s+|check\s+)?status\b", re.IGNORECASE)
_NOTE_LIMIT = 20000
_UNVERIFIED_WARNING = (
    "Perhatian: balasan ini tidak terbukti berasal dari pelapor (alamat pengirim email dapat "
    "dipalsukan). Data di dalamnya tidak dimasukkan ke tiket dan status tidak diubah; periksa "
    "kebenarannya kepada pelapor sebelum menindaklanjuti.")


@dataclass(frozen=True)
class ReplyPlan:
    """What one reply does. `ticket` is the ticket after the reply; `reporter` is set when the
    reporter's identity changes. `summary` is a log line without identity."""

    outcome: str
    ticket: TicketFacts
    reporter: Identity | None = None
    events: tuple[EventPlan, ...] = ()
    outgoing: tuple[Outgoing, ...] = ()
    summary: str = ""
    security: bool = False
    notes: tuple[str, ...] = field(default=())  # further log lines (no identity)


def is_status_request(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return bool(_STATUS_REQUEST.match(first)) and len(text) < 200


# -- staff ----------------------------------------------------------------------------------

def check_staff_reply(ticket: TicketFacts, member: StaffMember, reply: StaffReply,
                      cfg: Config) -> list[str]:
    """Why a staff reply cannot be applied, in the staff member's words (empty: it can)."""
    problems = [f"{e.line}: {e.reason}" for e in reply.errors]
    if reply.status is not None:
        public = bool((reply.message or reply.reject_reason) and not reply.internal)
        refusal = check_transition(ticket.status, reply.status, has_message=public)
        if ticket.channel is Channel.KOTAK_SARAN:  # no reporter: any note is the follow-up
            noted = bool(reply.message or reply.reject_reason)
            refusal = (check_transition(ticket.status, reply.status, has_message=True)
                       or check_box_closing(reply.status, noted))
        if refusal is not None:
            problems.append(refusal.reason)
        elif not may_set(member.roles, reply.status):
            problems.append(f"status '{reply.status.value}' hanya dapat diberikan oleh "
                            "verifikator atau kepala desa")
    if reply.assignee is not None and cfg.staff_member(reply.assignee) is None:
        problems.append(f"'{reply.assignee}' bukan staf yang terdaftar di mailflow")
    if not reply.has_commands and not reply.message:
        problems.append("balasan kosong: tidak ada perintah maupun pesan")
    if reply.public and PUBLISH_ROLES.isdisjoint(member.roles):
        problems.append("#publik hanya dapat digunakan oleh verifikator atau petugas tindak lanjut")
    elif reply.public and not reply.public_words:
        problems.append("#publik: tidak ada teks untuk halaman publik; tulis sesudah #publik, "
                        "misalnya: #publik Jalan sudah ditambal pada 3 Desember")
    return problems


def plan_staff_reply(ticket: TicketFacts, reporter: Identity | None, member: StaffMember,
                     msg: ParsedMessage, method: str | None, cfg: Config,
                     reason: str = "", refusal: str | None = None, *,
                     answers_receipt: bool = False, now: datetime | None = None,
                     resumed_due: date | None = None) -> ReplyPlan:
    """A staff member's reply: refused unproven (`reason`: why no proof held), refused with
    reasons (`refusal`: one found before reading it, core/first_start.py), or applied (with a
    receipt to its proven sender; `answers_receipt`: the reply answers one of those, see
    core/receipts.py). `now` dates a closing for the resident; `resumed_due` is the due date
    should the ticket leave perlu_data now (core/promise.py `due_on_resuming`)."""
    if method is None:
        return _unproven(ticket, member, msg, cfg, reason)
    reply = parse_staff_reply(new_text(msg.text))
    problems = [*([refusal] if refusal else []), *check_staff_reply(ticket, member, reply, cfg)]
    if problems:
        event = _staff_event(member, msg, method, EventKind.COMMAND_REFUSED, note="; ".join(problems))
        return ReplyPlan("command refused", ticket, events=(event,),
                         outgoing=(_explanation(cfg, ticket, member, msg, problems),),
                         summary=f"staff command refused ticket={ticket.number} "
                                 f"problems={len(problems)}")
    plan = _apply(ticket, reporter, member, msg, method, reply, cfg, now, resumed_due)
    if not wants_receipt(cfg, member, reply, answers_receipt):
        return plan
    return replace(plan, outgoing=(*plan.outgoing, _receipt(cfg, member, msg, ticket, plan, reply,
                                                            reporter)))


def _receipt(cfg: Config, member: StaffMember, msg: ParsedMessage, before: TicketFacts,
             plan: ReplyPlan, reply: StaffReply, reporter: Identity | None) -> Outgoing:
    """The receipt for an applied reply, from what its plan sends."""
    kinds = {o.kind for o in plan.outgoing}
    officer = next((o.to for o in plan.outgoing if o.kind is OutboxKind.NOTIFY), None)
    if OutboxKind.STATUS in kinds:
        told = Told(True, officer=officer)
    elif reply.status is None and (reply.internal or not reply.message):
        told = Told(False, "perubahan ini tidak dikirim kepada pelapor", officer)
    elif reporter is None or not reporter.email:
        told = Told(False, "pelapor tidak mempunyai alamat email; sampaikan lewat telepon "
                    "atau WhatsApp bila perlu", officer)
    else:
        told = Told(False, "tidak ada yang perlu disampaikan kepada pelapor", officer)
    return staff_receipt(cfg, member, msg, before, plan.ticket, reply, told)


def _staff_event(member: StaffMember, msg: ParsedMessage, method: str, kind: EventKind,
                 note: str = "", from_status: Status | None = None,
                 to_status: Status | None = None) -> EventPlan:
    return EventPlan(kind, member.address, note=note[:_NOTE_LIMIT], from_status=from_status,
                     to_status=to_status, message_id=msg.message_id, auth=method)


def _apply(ticket: TicketFacts, reporter: Identity | None, member: StaffMember,
           msg: ParsedMessage, method: str, reply: StaffReply, cfg: Config,
           now: datetime | None = None, resumed_due: date | None = None) -> ReplyPlan:
    before = ticket
    public_text = "" if reply.internal else "\n\n".join(
        t for t in (reply.reject_reason and f"Alasan: {reply.reject_reason}", reply.message) if t)
    events: list[EventPlan] = []
    if reply.priority is not None:
        # The staff word wins and is never re-suggested (core/ticket_priority.py).
        ticket, changed = set_by_staff(ticket, reply.priority, member.address)
        if changed is not None:
            events.append(_staff_event(member, msg, method, EventKind.PRIORITY, note=changed))
    assignee = cfg.staff_member(reply.assignee) if reply.assignee else None
    if assignee is not None and assignee.address != ticket.assignee:
        events.append(_staff_event(member, msg, method, EventKind.ASSIGNEE,
                                   note=f"{ticket.assignee or '-'} -> {assignee.address}"))
        ticket = replace(ticket, assignee=assignee.address)
    if reply.status is not None:
        ticket = replace(ticket, status=reply.status)
        if _resumes(before.status, reply.status) and resumed_due is not None:
            ticket = replace(ticket, due_date=resumed_due)
        events.append(_staff_event(member, msg, method, EventKind.STATUS, note=public_text,
                                   from_status=before.status, to_status=reply.status))
    if reply.message and (reply.internal or reply.status is None):
        # Text after #internal is kept in the audit trail, with or without a status change.
        kind = EventKind.INTERNAL_NOTE if reply.internal else EventKind.MESSAGE
        events.append(_staff_event(member, msg, method, kind, note=reply.message))
    if reply.public_words:  # core/public_page.py shows it, scrubbed of identity again
        events.append(_staff_event(member, msg, method, EventKind.PUBLIC, note=reply.public_words))
    outgoing: list[Outgoing] = []
    if assignee is not None and ticket.assignee != before.assignee:
        # Built after every change of this reply, so the officer reads the status it set.
        outgoing.append(ticket_notice(cfg, assignee, ticket, reporter or Identity(), [],
                                      "ditindaklanjuti"))
    notes: list[str] = []
    if reply.status is not None or public_text:
        if reporter is not None and reporter.email:
            outgoing.append(_to_reporter(cfg, ticket, reporter, reply, now,
                                         resumed=ticket.due_date != before.due_date))
        else:
            notes.append(f"reporter has no email ticket={ticket.number}; status change not mailed")
    summary = (f"staff command applied ticket={ticket.number} status={before.status}->"
               f"{ticket.status} priority={ticket.priority} internal={reply.internal} auth={method}")
    return ReplyPlan("command applied", ticket, events=tuple(events), outgoing=tuple(outgoing),
                     summary=summary, notes=tuple(notes))


def _resumes(before: Status, after: Status) -> bool:
    """Whether a move ends a wait for the reporter's data (the clock resumes)."""
    return before is Status.PERLU_DATA and after is not Status.PERLU_DATA and after not in FINAL


def _to_reporter(cfg: Config, ticket: TicketFacts, reporter: Identity, reply: StaffReply,
                 now: datetime | None, resumed: bool = False) -> Outgoing:
    """The reporter's mail for an applied reply: a rejection's reason once, as "Alasan:", and
    the rest as the officer's message; nothing of an #internal reply."""
    if reply.internal:  # what follows #internal stays in the audit trail
        reason, message = "", ""
    else:
        reason, message = reply.reject_reason or "", reply.message
    if reply.status is Status.DITOLAK and not reason:
        reason, message = message, ""
    return status_update(cfg, ticket, reporter, message, changed=reply.status is not None,
                         reason=reason, closed_at=now if reply.status is not None else None,
                         resumed=resumed)


def _explanation(cfg: Config, ticket: TicketFacts, member: StaffMember, msg: ParsedMessage,
                 problems: list[str]) -> Outgoing:
    paragraphs = [
        f"Balasan Bapak/Ibu untuk tiket {ticket.number} tidak dijalankan; tidak ada yang "
        "diubah.",
        "Alasannya:\n" + "\n".join(f"- {p}" for p in problems),
        f"Status tiket saat ini: {ticket.status.label}.",
        help_for(member.roles),
    ]
    return staff_note(cfg, ticket, member.email, f"Re: [{ticket.number}] Perintah tidak dapat "
                      "dijalankan", f"Yth. {member.name},", paragraphs, in_reply_to=msg.message_id)


def _unproven(ticket: TicketFacts, member: StaffMember, msg: ParsedMessage,
              cfg: Config, reason: str = "") -> ReplyPlan:
    note = f"unauthenticated command claiming to be from {member.address}"
    event = EventPlan(EventKind.SECURITY, "unknown", message_id=msg.message_id,
                      note=f"{note} ({reason})" if reason else note)
    outgoing: list[Outgoing] = []
    notes: list[str] = []
    admin = cfg.commands.admin_address
    if admin:
        paragraphs = [
            f"Sebuah email yang mengaku berasal dari staf {member.name} <{member.address}> "
            f"berisi perintah untuk tiket {ticket.number}, tetapi tidak dapat dibuktikan bahwa "
            "staf tersebut yang mengirimnya. Perintah itu tidak dijalankan dan tidak diteruskan "
            "kepada pelapor.",
            f"Bukti pengirim yang diterima mailflow: {proof_words(cfg)}.",
            "Yang perlu diperiksa:\n"
            f"- Tanyakan kepada {member.name} apakah ia mengirim email ini. Jika ya, kemungkinan "
            "ia menulis email baru atau meneruskan (forward) email, bukan menekan Balas (Reply) "
            "pada email pemberitahuan tiket; mailflow sudah menjelaskan caranya kepadanya.\n"
            "- Jika tidak, alamat pengirimnya dipalsukan. Simpan email itu (cari Message-ID di "
            "bawah pada kotak masuk layanan pengaduan) dan laporkan kepada pengelola email desa.",
            f"Message-ID: {msg.message_id or '-'}",
            *([f"Keterangan teknis: {reason}"] if reason else []),
        ]
        # Needs no answer, so it carries no command address: a reply goes to the public one.
        outgoing.append(staff_note(
            cfg, ticket, admin, f"[{ticket.number}] Peringatan keamanan: perintah tanpa bukti "
            "pengirim", "Yth. Administrator,", paragraphs, answerable=False))
    else:
        notes.append("security: no [commands] admin_address configured; alert not mailed")
    # The genuine staff member learns of it at their real address: if they wrote it (from a
    # new message instead of a reply), they know how to do it right; if not, they know.
    outgoing.append(_explanation(cfg, ticket, member, msg, [
        "email ini tidak terbukti berasal dari alamat Bapak/Ibu, jadi perintahnya tidak "
        "dijalankan",
        "gunakan tombol Balas (Reply) pada email pemberitahuan tiket ini, agar balasan terkirim "
        "ke alamat khusus tiket; jika Bapak/Ibu tidak mengirim email ini, beri tahu "
        "administrator",
    ]))
    return ReplyPlan("security: unauthenticated command", ticket, events=(event,),
                     outgoing=tuple(outgoing), security=True, notes=tuple(notes),
                     summary=f"security: unauthenticated staff command refused "
                             f"ticket={ticket.number} claimed_staff={member.name}")


# -- residents ------------------------------------------------------------------------------

def plan_resident_reply(ticket: TicketFacts, reporter: Identity | None, msg: ParsedMessage,
                        cfg: Config, method: str | None = None,
                        lists: WordLists | None = None,
                        resumed_due: date | None = None) -> ReplyPlan:
    """A reply from the reporter (or anyone else) to a ticket's messages.

    `lists`: the priority suggester's; a description the reply completes is suggested anew
    unless staff set the priority.

    `method`: how the sender was proven to be the reporter (core/sender_auth.py), or None. A
    From address alone is enough to ask for the status (the answer goes to the reporter's
    own address, whoever asked) but not to change anything: without proof, what the reply
    would have completed is kept as an unverified note for the verifier. `resumed_due`: the
    due date should the data be complete now (core/promise.py `due_on_resuming`).
    """
    text = new_text(msg.text)
    own = reporter is not None and bool(reporter.email) and (
        msg.from_addr == (reporter.email or "").lower())
    event = EventPlan(EventKind.REPLY, "reporter" if own else "other", note=text[:_NOTE_LIMIT],
                      message_id=msg.message_id, auth=(method or "") if own else "")
    if not own or reporter is None:
        return ReplyPlan("reply from another sender", ticket, events=(event,),
                         summary=f"reply from someone other than the reporter "
                                 f"ticket={ticket.number}; recorded only")
    if is_status_request(text):
        return ReplyPlan("status request", ticket, events=(event,),
                         outgoing=(status_update(cfg, ticket, reporter, "", False, asked=True),),
                         summary=f"status request answered ticket={ticket.number}")
    plan = ReplyPlan("reply", ticket, events=(event,),
                     summary=f"reply added ticket={ticket.number}")
    if ticket.status is Status.PERLU_DATA:
        plan = (_complete(plan, reporter, text, cfg, lists, resumed_due) if method
                else _unverified(plan, msg))
    told = _tell_staff(cfg, plan.ticket, plan.reporter or reporter, text, verified=bool(method))
    return replace(plan, outgoing=(*plan.outgoing, *told))


def _unverified(plan: ReplyPlan, msg: ParsedMessage) -> ReplyPlan:
    """A reply that would complete data but whose sender is unproven: recorded, nothing changed."""
    event = EventPlan(EventKind.UNVERIFIED_DATA, "reporter", message_id=msg.message_id,
                      note="balasan tanpa bukti pengirim: data dan status tidak diubah")
    return replace(plan, outcome="unverified reply", events=(*plan.events, event),
                   summary=f"reply without proof of its sender ticket={plan.ticket.number}; "
                           "kept for the verifier, nothing changed")


def merge_identity(reporter: Identity, found: Identity) -> Identity:
    """What the reporter gave before wins; the reply fills what was missing or invalid."""
    keep_nik = reporter.nik and not reporter.nik_problem
    nik = reporter.nik if keep_nik else (found.nik or reporter.nik)
    return Identity(
        name=reporter.name or found.name, nik=nik,
        nik_problem=nik_problem(nik) if nik else None,
        phone=reporter.phone or found.phone,
        address=reporter.address or found.address, email=reporter.email,
    )


def _complete(plan: ReplyPlan, reporter: Identity, text: str, cfg: Config,
              lists: WordLists | None = None,
              resumed_due: date | None = None) -> ReplyPlan:
    """Merge what the reply adds; when nothing is missing any more, the ticket moves on, its
    due date counted from now (`resumed_due`: the clock stood still while it waited)."""
    ticket = plan.ticket
    found = extract_identity(text)
    merged = merge_identity(reporter, found.identity)
    description = ticket.description
    if Missing.DESCRIPTION in ticket.missing and found.description:
        description = (description + "\n\n" + found.description).strip()
    verdict = assess(merged, description)
    ticket = replace(ticket, description=description, missing=verdict.missing)
    if description != plan.ticket.description:
        plan = _resuggest(plan, ticket, lists, cfg, merged)
        ticket = plan.ticket
    if verdict.missing:
        return replace(plan, outcome="data still incomplete", ticket=ticket, reporter=merged,
                       summary=f"reporter data still incomplete ticket={ticket.number} "
                               f"missing={','.join(verdict.missing)}")
    moved = resumed_due is not None and resumed_due != ticket.due_date
    ticket = replace(ticket, status=Status.DITERIMA, due_date=resumed_due or ticket.due_date)
    event = EventPlan(EventKind.STATUS, "reporter", note="data pelapor sudah lengkap",
                      from_status=Status.PERLU_DATA, to_status=Status.DITERIMA)
    told = status_update(cfg, ticket, merged, "", True,
                         note="Terima kasih, data yang Bapak/Ibu kirimkan sudah lengkap.",
                         resumed=moved)
    return replace(plan, outcome="data completed", ticket=ticket, reporter=merged,
                   events=(*plan.events, event), outgoing=(*plan.outgoing, told),
                   summary=f"reporter data complete ticket={ticket.number} "
                           "status=perlu_data->diterima")


def _resuggest(plan: ReplyPlan, ticket: TicketFacts, lists: WordLists | None, cfg: Config,
               reporter: Identity) -> ReplyPlan:
    """The priority the completed description suggests (never over a staff member's word)."""
    after = suggested(ticket, lists, redactor_for(cfg, reporter))
    events = plan.events
    if after.priority != ticket.priority:
        events = (*events, EventPlan(EventKind.PRIORITY, SYSTEM, note=f"{ticket.priority} -> "
                                     f"{after.priority} (saran sistem dari uraian yang dilengkapi)"))
    return replace(plan, ticket=after, events=events)


def _tell_staff(cfg: Config, ticket: TicketFacts, reporter: Identity, text: str,
                verified: bool = True) -> list[Outgoing]:
    """The verifiers and the assigned officer hear of each reply; identity only for those who
    may see it; a reply whose sender is unproven says so, since its From may be forged."""
    recipients = {m.address: m for m in cfg.staff_with(Role.VERIFIKATOR)}
    assignee = cfg.staff_member(ticket.assignee)
    if assignee is not None:
        recipients[assignee.address] = assignee
    hidden = redactor_for(cfg, reporter).text(text)
    return [
        staff_note(cfg, ticket, member.email, f"[{ticket.number}] Balasan dari pelapor",
                   f"Yth. {member.name},",
                   [f"Pelapor membalas tiket {ticket.number} (status saat ini: "
                    f"{ticket.status.label}):",
                    text if member.sees_identity else hidden,
                    *([] if verified else [_UNVERIFIED_WARNING]),
                    "Balas email ini dengan perintah (#status ...) untuk menindaklanjuti."])
        for member in recipients.values()
    ]
