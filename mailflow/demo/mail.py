"""Mail and configuration files as the demo and the tests write them.

The demo's seeded messages and the tests' complaints are the same thing, a resident
writing to the village inbox, so one builder makes both and they cannot drift apart;
the tests only fix their own defaults (a complete complaint, a fixed date). `to_toml`
writes a configuration back as a file, because the demo leaves one to try the CLI on,
and the CLI tests hand one to a real `mailflow` process. Neither is needed by the
service itself, which only reads TOML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

#: The demo village's inbox, where residents write.
INBOX = "pengaduan@klero.desa.id"


def resident_mail(sender: str, subject: str, text: str | None = None, html: str | None = None,
                  *, to: str = INBOX, date: datetime | None = None, message_id: str | None = "",
                  **headers: str) -> EmailMessage:
    """A message from `sender` to the inbox, as a resident's mail program would send it.

    `text` and `html` together make a multipart/alternative, `html` alone an HTML-only
    mail (which mailflow must turn into readable text). `date` defaults to now. A
    `message_id` of "" makes a fresh one; None leaves the header out, as some senders
    do. Extra headers are given as keywords, underscores standing for hyphens
    (Auto_Submitted="auto-replied"). Returned unserialised so attachments can be added.
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    if message_id is not None:
        msg["Message-ID"] = message_id or make_msgid(domain="warga.example")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    return msg


def _toml_value(value: Any) -> str:
    """A JSON value as TOML: a table inline (`{ "darurat" = 1 }`), the rest as JSON writes it."""
    if isinstance(value, dict):
        pairs = [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    return json.dumps(value)


def to_toml(data: Mapping[str, Any]) -> str:
    """Configuration data as TOML (sections and arrays of tables), for the demo and tests.

    JSON's scalars and arrays of scalars are valid TOML values; absent (None) values are
    left out, as TOML has no null.
    """
    lines: list[str] = []
    for section, values in data.items():
        tables = values if isinstance(values, list) else [values]
        for table in tables:
            lines.append(f"[[{section}]]" if isinstance(values, list) else f"[{section}]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in table.items()
                         if value is not None)
            lines.append("")
    return "\n".join(lines)
