"""Database tables.

The database, not the mailbox, is the record of what mailflow has taken: servers
may refuse private keywords, and staff keep using the same inbox in webmail.
Reporter identity lives in its own table so that later work can restrict who
reads it. Every outgoing message is a row in `outbox`, written in the same
transaction as the change that caused it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from mailflow.core.identity import Identity
from mailflow.core.tickets import TicketFacts, parse_missing
from mailflow.store.column_types import (
    IMAP_NUMBER,
    enum_column,
    utc_column,
)
from mailflow.vocabulary import (
    Channel,
    EntryKind,
    EventKind,
    IntakeOutcome,
    Missing,
    OutboxKind,
    OutboxState,
    Priority,
    Status,
)


class MailboxState(SQLModel, table=True):
    """Where intake stopped in one mailbox folder: UIDVALIDITY, the highest UID examined, and
    where mailflow's first start divides it."""

    __tablename__ = "mailbox_state"
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(unique=True)  # "user@host/folder"
    uidvalidity: int = Field(sa_type=IMAP_NUMBER)
    last_uid: int = Field(default=0, sa_type=IMAP_NUMBER)
    # The first start's boundary (core/first_start.py): UIDNEXT at first sight, valid under
    # `uidvalidity` (cleared when it changes), and the moment of first sight. Both None for a
    # mailbox first seen before they were recorded: it is taken whole, as it was then.
    first_uid: int | None = Field(default=None, sa_type=IMAP_NUMBER)
    first_seen_at: datetime | None = utc_column(nullable=True)
    # The `[intake] take_since` day whose older mail has been looked at again (once per day).
    backlog_since: date | None = None


class IntakeRecord(SQLModel, table=True):
    """One message mailflow looked at closely (subject matched) and what it decided."""

    __tablename__ = "intake"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        # What every poll asks (queries.unmarked_intake): the unmarked ones, by UID (0013).
        Index("ix_intake_unmarked", "mailbox", "uidvalidity", "marked", "decision", "uid"),
    )
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str
    uidvalidity: int = Field(sa_type=IMAP_NUMBER)
    uid: int = Field(sa_type=IMAP_NUMBER)
    message_key: str = Field(index=True)
    decision: IntakeOutcome = enum_column(IntakeOutcome)
    reason: str = ""
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    marked: bool = False  # keyword set / moved in the mailbox (best effort)
    created_at: datetime = utc_column()
    # What `mailflow trace` finds a message by (NULL in rows written before revision 0006):
    # its Message-ID, when the server received it (INTERNALDATE), and a keyed digest of the
    # sender's address (core/intake_trace.py), never the address itself.
    message_id: str | None = Field(default=None, index=True)
    received_at: datetime | None = utc_column(nullable=True, index=True)
    sender_digest: str | None = Field(default=None, index=True)


class SkippedMessage(SQLModel, table=True):
    """A message intake looked at and left alone (its subject is not a complaint's), kept so
    that `mailflow trace` can say so without debug logs. Not an intake record: it blocks
    nothing, and a message seen again may have two rows. Identity as in IntakeRecord: a
    digest of the sender, never the address."""

    __tablename__ = "skipped_message"
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str
    uidvalidity: int = Field(sa_type=IMAP_NUMBER)
    uid: int = Field(sa_type=IMAP_NUMBER)
    reason: str = ""
    message_id: str | None = Field(default=None, index=True)
    received_at: datetime | None = utc_column(nullable=True, index=True)
    sender_digest: str | None = Field(default=None, index=True)
    created_at: datetime = utc_column()


class TicketCounter(SQLModel, table=True):
    """Per-village, per-year sequence; a number once given is never given again."""

    __tablename__ = "ticket_counter"
    scope: str = Field(primary_key=True)  # the village's prefix (store/scope.py)
    year: int = Field(primary_key=True)
    last: int = 0


def _scope_of_number(context: Any) -> str:
    """A new ticket's village, from its number (ADU-2026-00042 is ADU's)."""
    return str(context.get_current_parameters()["number"]).split("-", 1)[0]


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        # One village's tickets in a status (the clock's open tickets at every poll), a seek
        # in a regency's shared database too; a seek by status where no village is asked (0016).
        Index("ix_ticket_status_scope", "status", "scope"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)
    status: Status = enum_column(Status)
    priority: Priority = enum_column(Priority, default=Priority.SEDANG)
    # Why: the suggester's reasons (core/priority.py), kept when staff override; '' before 0007.
    priority_reason: str = Field(default="", sa_column=Column(Text, nullable=False,
                                                              server_default=text("''")))
    # Who set the priority: "system" (suggested) or the staff address whose #prioritas won.
    priority_set_by: str = Field(default="system", sa_column=Column(
        String, nullable=False, server_default="system"))
    assignee: str | None = None  # a staff address
    channel: Channel = enum_column(Channel, default=Channel.EMAIL)
    received_at: datetime = utc_column(index=True)
    due_date: date
    subject: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    missing: str = ""  # comma-separated Missing values: nama,nik,deskripsi
    # Indexed (0015): a reply that cites no message of ours is looked up by the complaint's
    # own Message-ID, and most mail to a village's address that is not a complaint cites some.
    source_message_id: str | None = Field(default=None, index=True)
    message_key: str = Field(unique=True)
    # Sender, subject and new text (intake_rules.content_key): the same complaint again from
    # the same address within [limits] repeat_window_hours is a repeat, not a new ticket.
    content_key: str | None = Field(default=None, index=True)
    html_only: bool = False
    created_at: datetime = utc_column()
    # A suggestion-box entry's kind (saran, kritik, keluhan, pengaduan); None for other channels.
    kind: EntryKind | None = enum_column(EntryKind, nullable=True)
    # The village: the number's prefix (store/scope.py), written by the default below whatever
    # inserts the ticket, so that a village's tickets are found by an index (0016).
    scope: str | None = Field(default=None, sa_column=Column(String, nullable=True,
                                                             default=_scope_of_number))

    @property
    def missing_items(self) -> tuple[Missing, ...]:
        return parse_missing(self.missing)

    def facts(self, ack_message_id: str | None = None) -> TicketFacts:
        """The ticket as plain data for the core's decisions."""
        return TicketFacts(
            number=self.number, status=self.status, received_at=self.received_at,
            due_date=self.due_date, subject=self.subject, description=self.description,
            channel=self.channel, priority=self.priority, assignee=self.assignee,
            missing=self.missing_items, ack_message_id=ack_message_id,
            priority_reason=self.priority_reason, priority_set_by=self.priority_set_by,
        )

    def update_from(self, facts: TicketFacts) -> None:
        """Take what a plan changed: status, priority (its reason and setter), assignee,
        description, missing items, and the due date (moved when a ticket leaves perlu_data,
        core/promise.py)."""
        self.status, self.priority, self.assignee = facts.status, facts.priority, facts.assignee
        self.priority_reason, self.priority_set_by = facts.priority_reason, facts.priority_set_by
        self.due_date = facts.due_date
        self.description, self.missing = facts.description, ",".join(facts.missing)


class Reporter(SQLModel, table=True):
    """The reporter's identity: confidential, one row per ticket."""

    __tablename__ = "reporter"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    name: str | None = None
    nik: str | None = None
    nik_problem: str | None = None
    phone: str | None = None
    address: str | None = Field(default=None, sa_column=Column(Text))
    email: str | None = None

    def identity(self) -> Identity:
        return Identity(name=self.name, nik=self.nik, nik_problem=self.nik_problem,
                        phone=self.phone, address=self.address, email=self.email)

    def update_from(self, identity: Identity) -> None:
        self.name, self.nik, self.nik_problem = identity.name, identity.nik, identity.nik_problem
        self.phone, self.address, self.email = identity.phone, identity.address, identity.email


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    filename: str
    content_type: str
    size: int
    sha256: str
    path: str  # relative to the storage directory


class TicketEvent(SQLModel, table=True):
    """The audit trail: who changed what, when, and from which message."""

    __tablename__ = "ticket_event"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    # Indexed (0015): the security events since a waiting alert was queued
    # (queries.security_events_since), read again at each forged command merged into it, are
    # the few recent events, not the whole trail. Not (kind, at): SQLite, without statistics,
    # then walked the clock's timeline events by kind and sorted them all, 1.8 x slower.
    at: datetime = utc_column(index=True)
    actor: str  # "system", "reporter", or a staff address
    kind: EventKind = enum_column(EventKind)
    from_status: Status | None = enum_column(Status, nullable=True)
    to_status: Status | None = enum_column(Status, nullable=True)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    message_id: str | None = None
    auth: str = ""  # how the actor was authenticated: signed_reply, dkim, authserv, or ""


class OutboxMessage(SQLModel, table=True):
    """A message to send. `state`: pending -> sent, or parked after too many failures."""

    __tablename__ = "outbox"
    __table_args__ = (
        # What the per-address limits ask for each new message (intake_queries.mail_counts):
        # one address's rows of the last day, a seek whatever the day's volume (0014).
        Index("ix_outbox_recipient_day", func.lower(column("recipient")), "created_at"),
        # The newest coalesced row of a topic for an address (queries.last_with_topic), the
        # last entry of its key here (0014): with only the index above, SQLite took every row
        # ever sent to the address, a verifier's thousands, and sorted them.
        Index("ix_outbox_topic_recipient", "topic", func.lower(column("recipient"))),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    kind: OutboxKind = enum_column(OutboxKind)
    message_id: str = Field(unique=True)
    recipient: str
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: OutboxState = enum_column(OutboxState, default=OutboxState.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: datetime = utc_column(index=True)
    last_error: str = ""
    # Indexed: the per-address limits count the rows created for a recipient in the last day.
    created_at: datetime = utc_column(index=True)
    sent_at: datetime | None = utc_column(nullable=True)
    # What a coalesced message is about ("security-alert", "limit:<address>", ...): at most one
    # per topic and recipient per window (runners/mail_gate.py). None for ordinary mail.
    topic: str | None = None
    # Which instance claimed the row to send it ("host:pid:random"), and until when; others
    # skip it meanwhile, and take it when the lease ends (the instance died). None: unclaimed.
    claimed_by: str | None = None
    claimed_until: datetime | None = utc_column(nullable=True, index=True)
    # The village whose SMTP settings send it (its prefix); None: any (rows written before
    # 0012 into a database without tickets; 0017 gave the other rows of then their village).
    scope: str | None = None


class Quarantine(SQLModel, table=True):
    """A message mailflow could not turn into a ticket; kept for staff with its reason."""

    __tablename__ = "quarantine"
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str
    uidvalidity: int = Field(sa_type=IMAP_NUMBER)
    uid: int = Field(sa_type=IMAP_NUMBER)
    message_key: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw_path: str | None = None
    created_at: datetime = utc_column()


class UsedSignature(SQLModel, table=True):
    """A DKIM signature (its b= fingerprint) carried by a message whose sender was proven.

    A signed message may act at most once: a later message carrying the same signature is a
    copy (a replay with a new Message-ID or Subject) and proves nothing (core/dkim_rules.py).
    A resident's answer is remembered for its village (store/scope.py signature_key): one
    sent to two villages acts in each; a staff member's message for every village.
    """

    __tablename__ = "used_signature"
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True)  # sha256 of the b= value, hex ("<prefix>:" + it: a resident's)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    message_id: str | None = None
    used_at: datetime = utc_column()


class JobRun(SQLModel, table=True):
    """One run of a clock-driven job (a reminder round, a digest, ...), recorded once.

    The unique (job, run_key) pair is what makes a job run at most once per key: the row is
    written in the same transaction as everything the run creates, so a restart, a crash or
    a second instance finds it and does not repeat the run.
    """

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "run_key"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str
    run_key: str  # what the run is for, e.g. the working day "2026-12-01"
    done_at: datetime = utc_column()
    note: str = ""


class SuggestionBoxOpening(SQLModel, table=True):
    """One opening of the suggestion box (kotak saran): when, who, and what came of it."""

    __tablename__ = "suggestion_box_opening"
    id: int | None = Field(default=None, primary_key=True)
    opened_on: date = Field(index=True)  # the local day of the opening
    opened_at: datetime = utc_column()
    opened_by: str  # the staff address that recorded it
    entries: int
    ticket_numbers: str = Field(default="", sa_column=Column(Text, nullable=False,
                                                             server_default=text("''")))
    message_id: str | None = None  # the opening's mail; None when recorded with the CLI


class MailboxLease(SQLModel, table=True):
    """Which instance polls a mailbox, until when (core/lease.py has the rules).

    Taken and renewed only by one guarded UPDATE (store/lease.py): holder = me or expired.
    `generation` grows by one at each change of holder; the intake's writes check it in their
    own transaction (the fence), so a holder that lost the lease cannot commit.
    """

    __tablename__ = "mailbox_lease"
    mailbox: str = Field(primary_key=True)  # the mailbox key, "user@host/folder"
    holder: str  # "host:pid:random" of the instance, "" once released
    generation: int = 0
    expires_at: datetime = utc_column()
    heartbeat_at: datetime = utc_column()
