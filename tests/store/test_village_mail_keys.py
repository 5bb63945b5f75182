"""What one village remembers of mail is its own: the DKIM signatures that already acted, and
the kinds of mail a reply answers.

A resident's proven answer sent to two villages completes the ticket in each (before, the
first village to read it used its signature up for both, and the second took it for a copy).
A reply citing another village's note is no reply to this village's mail (before, citing one
of Tegal's notes made a Klero suggestion-box opening "a reply to mailflow's mail").
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from mailflow.store import cited_mail, intake_queries, queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage, UsedSignature
from mailflow.vocabulary import OutboxKind
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def test_a_residents_signature_that_acted_in_one_village_still_acts_in_another(
        tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    try:
        with transaction(engine) as session:
            queries.use_signatures(session, ["aa", "bb"], None, "<m@warga.example>", NOW, "KLR")
            # Remembered before signatures were kept per village: bare, every village's.
            session.add(UsedSignature(digest="cc", used_at=NOW))
        with Session(engine) as session:
            assert queries.signatures_used(session, ["aa"], "KLR")
            assert queries.signatures_used(session, ["zz", "bb"], "KLR")
            assert not queries.signatures_used(session, ["aa", "bb"], "TGL")
            assert queries.signatures_used(session, ["cc"], "TGL")
            assert queries.signatures_used(session, ["cc"], "KLR")
            assert not queries.signatures_used(session, [], "KLR")
        with transaction(engine) as session:  # Tegal may remember the same signature too
            queries.use_signatures(session, ["aa"], None, "<m@warga.example>", NOW, "TGL")
            # A staff member's message: remembered for every village.
            queries.use_signatures(session, ["dd"], None, "<s@klero.desa.id>", NOW, None)
        with Session(engine) as session:
            assert queries.signatures_used(session, ["aa"], "TGL")
            assert queries.signatures_used(session, ["dd"], "KLR")
            assert queries.signatures_used(session, ["dd"], "TGL")
    finally:
        engine.dispose()


def test_a_reply_answers_only_its_own_villages_mail(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    try:
        rows = [intake_queries.outbox_row(kind=kind, recipient="kasi@klero.desa.id", raw=b"x",
                                          message_id=mid, next_attempt_at=NOW, created_at=NOW,
                                          scope=scope)
                for kind, mid, scope in ((OutboxKind.STAFF_NOTE, "<note@tegal>", "TGL"),
                                         (OutboxKind.RECEIPT, "<receipt@klero>", "KLR"),
                                         (OutboxKind.ACK, "<ack@tegal>", "TGL"))]
        with transaction(engine) as session:
            session.execute(insert(OutboxMessage), rows)
        with Session(engine) as session:
            cited = ["<note@tegal>", "<receipt@klero>", "<other@warga>"]
            assert cited_mail.outbox_kinds(session, cited, "KLR") == {OutboxKind.RECEIPT}
            assert cited_mail.outbox_kinds(session, cited, "TGL") == {OutboxKind.STAFF_NOTE}
            # A would-be complaint citing Tegal's mail to its staff is Tegal's business...
            assert cited_mail.village_of_cited_mail(session, cited, "KLR") == "TGL"
            assert cited_mail.village_of_cited_mail(session, ["<note@tegal>"], "TGL") is None
            # ... but one citing Tegal's acknowledgement to its reporter quotes only them.
            assert cited_mail.village_of_cited_mail(session, ["<ack@tegal>"], "KLR") is None
    finally:
        engine.dispose()
