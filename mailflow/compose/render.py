"""Outgoing mail: Jinja2 templates in Bahasa Indonesia, built into RFC 5322 bytes.

Resident text only ever enters a template as a variable, never as template
source, and the HTML alternative is autoescaped, so nothing a resident writes is
evaluated or rendered as markup.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mailflow.core.workdays import format_tanggal
from mailflow.errors import ConfigError

_ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
                       "Asia/Jayapura": "WIT"}


def default_templates_dir() -> Path:
    """The checkout's `templates/`, else the copy installed under `share/mailflow`."""
    candidates = (
        Path(__file__).resolve().parents[2] / "templates",
        Path(sys.prefix) / "share" / "mailflow" / "templates",
    )
    for candidate in candidates:
        if (candidate / "ack.txt.j2").is_file():
            return candidate
    raise ConfigError("templates not found; looked in " + ", ".join(map(str, candidates)))


def format_moment(moment: datetime, zone_name: str) -> str:
    """'Sabtu, 28 November 2026 pukul 09.00 WIB'."""
    day = format_tanggal(moment.date())
    zone = _ZONE_ABBREVIATIONS.get(zone_name, moment.strftime("%Z"))
    return f"{day} pukul {moment:%H.%M} {zone}"


class Renderer:
    def __init__(self, directory: Path | None = None) -> None:
        folder = directory or default_templates_dir()
        self._text = Environment(
            loader=FileSystemLoader(folder), autoescape=False, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
        self._html = Environment(
            loader=FileSystemLoader(folder), autoescape=select_autoescape(["html", "j2"]),
            undefined=StrictUndefined,
        )

    def render(self, name: str, context: Mapping[str, Any]) -> tuple[str, str]:
        text = self._text.get_template(f"{name}.txt.j2").render(context)
        html = self._html.get_template(f"{name}.html.j2").render(context)
        return text, html


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


def new_message_id(from_address: str) -> str:
    return make_msgid(idstring="mailflow", domain=from_address.rsplit("@", 1)[-1])


def build_message(
    envelope: Envelope, text: str, html: str, message_id: str, now: datetime
) -> bytes:
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
    refs = [*envelope.references, *([envelope.in_reply_to] if envelope.in_reply_to else [])]
    if refs:
        msg["References"] = " ".join(dict.fromkeys(refs))
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
    return msg.as_bytes()
