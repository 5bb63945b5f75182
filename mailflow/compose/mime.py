"""Outgoing messages as RFC 5322 bytes: the envelope, both alternatives and any attachments.

`Composer.compose` turns a core `Outgoing` into the bytes the outbox stores, with a fresh
Message-ID, so a message is composed once, when its cause is committed, and sent as stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid

from mailflow.compose.fast_mime import build_fast
from mailflow.compose.render import Renderer
from mailflow.config import Config
from mailflow.core.notices import Outgoing, signature


@dataclass(frozen=True)
class Envelope:
    from_address: str
    from_name: str
    to: str
    subject: str
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    ticket_number: str | None = None
    reply_to: str | None = None
    attachments: Sequence[tuple[str, str, bytes]] = ()  # (filename, content type, data)


# EmailMessage's own policy (line endings and all), with headers written in UTF-8.
_UTF8_HEADERS = default_policy.clone(utf8=True)


def new_message_id(from_address: str) -> str:
    return make_msgid(idstring="mailflow", domain=from_address.rsplit("@", 1)[-1])


# Ids written in References at most: the thread's root and the latest ones (RFC 5322
# 3.6.4 allows trimming). The email package parses a header it is given in time that
# grows faster than its length; 260,000 ids from a hostile complaint took minutes, in
# the intake's transaction, so the bound holds here whatever the caller passes.
MAX_REFERENCES_OUT = 20


def thread_references(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """The References of an answer: those it answers, then what it answers, bounded."""
    refs = list(dict.fromkeys([*references, *([in_reply_to] if in_reply_to else [])]))
    if len(refs) > MAX_REFERENCES_OUT:
        refs = [refs[0], *refs[-(MAX_REFERENCES_OUT - 1):]]
    return refs


def build_message(
    envelope: Envelope, text: str, html: str, message_id: str, now: datetime
) -> bytes:
    if not envelope.attachments:
        fast = build_fast(
            from_name=envelope.from_name, from_address=envelope.from_address, to=envelope.to,
            subject=envelope.subject, reply_to=envelope.reply_to,
            in_reply_to=envelope.in_reply_to,
            references=thread_references(envelope.references, envelope.in_reply_to),
            ticket_number=envelope.ticket_number, text=text, html=html,
            message_id=message_id, now=now)
        if fast is not None:
            return fast
    return build_with_email_package(envelope, text, html, message_id, now)


def build_with_email_package(
    envelope: Envelope, text: str, html: str, message_id: str, now: datetime
) -> bytes:
    """The general case (attachments, addresses that are not ASCII): EmailMessage."""
    msg = EmailMessage()
    msg["From"] = formataddr((envelope.from_name, envelope.from_address))
    msg["To"] = envelope.to
    msg["Subject"] = envelope.subject
    if envelope.reply_to:
        msg["Reply-To"] = envelope.reply_to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if envelope.in_reply_to:
        msg["In-Reply-To"] = envelope.in_reply_to
    refs = thread_references(envelope.references, envelope.in_reply_to)
    if refs:
        msg["References"] = " ".join(refs)
    # RFC 3834: marks this as an automatic answer so other robots do not answer it.
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    if envelope.ticket_number:
        msg["X-Mailflow-Ticket"] = envelope.ticket_number
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for filename, content_type, data in envelope.attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=filename)
    if international(envelope):
        # An address is not ASCII (büdi@desa.test): RFC 5322 has no way to write it, so the
        # headers are written in UTF-8 (RFC 6532) and the outbox sends it with SMTPUTF8.
        # The body keeps its 7-bit transfer encoding either way.
        return msg.as_bytes(policy=_UTF8_HEADERS)
    return msg.as_bytes()


def international(envelope: Envelope) -> bool:
    """Whether an address of the message is not ASCII, so it needs UTF-8 headers."""
    return not all(address.isascii() for address in
                   (envelope.from_address, envelope.to, envelope.reply_to or ""))


@dataclass(frozen=True)
class Composed:
    message_id: str
    recipient: str
    raw: bytes


class Composer:
    """Renders and builds every outgoing message from one sender address and name."""

    def __init__(self, renderer: Renderer, from_address: str, from_name: str) -> None:
        self.renderer = renderer
        self.from_address = from_address
        self.from_name = from_name

    def compose(self, outgoing: Outgoing, ticket_number: str | None, now: datetime) -> Composed:
        text, html = self.renderer.render(outgoing.template, outgoing.context)
        envelope = Envelope(
            from_address=self.from_address, from_name=self.from_name, to=outgoing.to,
            subject=outgoing.subject, in_reply_to=outgoing.in_reply_to,
            references=outgoing.references, ticket_number=ticket_number,
            reply_to=outgoing.reply_to, attachments=outgoing.attachments,
        )
        message_id = new_message_id(self.from_address)
        return Composed(message_id, outgoing.to, build_message(envelope, text, html, message_id, now))


def composer_for(cfg: Config) -> Composer:
    """The village's composer: its own templates over the shipped ones, its address."""
    return Composer(Renderer(own=cfg.templates.directory), cfg.smtp.from_address, signature(cfg))
