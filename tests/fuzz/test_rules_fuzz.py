"""The intake's decisions on hostile messages: total, deterministic, and never losing a complaint.

Everything here is pure (mailflow/core): classify, route, the two keys, the robot checks,
staff commands, sender proofs and the whole plan of a new ticket, each fed parsed fuzzed
messages. A rule that raises would end the message's intake in quarantine at best; a rule
that is not deterministic would make the same message two tickets.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import cache

from hypothesis import assume, example, given
from hypothesis import strategies as st

from mailflow.config import Config
from mailflow.core.auth_results import Vouched, vouches
from mailflow.core.autoreply import subject_wording, text_wording
from mailflow.core.commands import StaffReply, parse_staff_reply
from mailflow.core.dkim_rules import coverage_problem, parse_signature
from mailflow.core.intake_rules import (
    Decision,
    Kind,
    Route,
    classify,
    content_key,
    find_ticket_number,
    message_key,
    not_complaint_reason,
    route,
    ticket_number_pattern,
)
from mailflow.core.new_ticket import NewTicket, plan_new_ticket
from mailflow.core.parse import ParsedMessage, parse_message
from mailflow.core.reply_address import Purpose, read_address, signed_address
from mailflow.core.reply_text import new_text
from mailflow.core.sender_auth import Claim, Proof, authenticate, signature_digests
from mailflow.core.workdays import calendar_for
from tests.fuzz.budget import fuzz
from tests.fuzz.strategies import INBOX, PHRASE, PREFIX, built_messages, complaint_subjects, messages, texts
from tests.unit.plan_support import config

PHRASES = [PHRASE]
OWN = {INBOX}


@cache
def _cfg() -> Config:
    return config()


def _decide(msg: ParsedMessage) -> Decision:
    return classify(msg, PHRASES, PREFIX, OWN)


@fuzz(70)
@given(messages)
def test_classify_route_and_keys_are_total_and_deterministic(raw: bytes) -> None:
    msg = parse_message(raw)
    decision = _decide(msg)
    assert decision.kind in set(Kind)
    assert decision == _decide(msg)
    if decision.kind is Kind.REPLY:
        assert decision.ticket_number and ticket_number_pattern(PREFIX).fullmatch(decision.ticket_number)
    if decision.kind is Kind.SKIP:
        assert find_ticket_number(msg.subject, PREFIX) is None
    for taken in (False, True):
        for target in (False, True):
            for staff in (False, True):
                assert route(decision, taken, target, staff) in set(Route)
    reason = not_complaint_reason(msg, OWN)
    assert reason is None or isinstance(reason, str)
    # The same bytes, parsed again, are the same message: a second delivery is a duplicate.
    again = parse_message(raw)
    key = message_key(msg)
    assert key == message_key(again) and key.startswith(("mid:", "sha256:"))
    key.encode("utf-8")
    assert content_key(msg) == content_key(again)
    assert subject_wording(msg.subject) == subject_wording(again.subject)
    assert text_wording(msg.subject, msg.text) == text_wording(again.subject, again.text)


@fuzz(50)
@given(built_messages(subject=complaint_subjects().map(lambda pair: pair[1]), sane=True))
# Found by this fuzzer: CR CR LF line ends (CRLF mail copied in text mode) ended the header
# block after its first line, and the Subject was read as body.
@example(b"From: siti@warga.example\r\r\nSubject: Pengaduan Masyarakat\r\r\n\r\r\nJalan rusak\r\r\n")
def test_a_subject_with_the_phrase_is_never_skipped(raw: bytes) -> None:
    """However the phrase is cased, spaced, encoded or folded, the complaint is looked at:
    it may be ignored as a robot's, never skipped as if it were not about a complaint."""
    msg = parse_message(raw)
    assert _decide(msg).kind is not Kind.SKIP, (msg.subject, msg.problems)


@fuzz(60)
@given(st.sampled_from(["ADU-2026-00042", "adu-2026-00042", "ADU-2026-123456"]),
       st.sampled_from(["Re: [{}] Pengaduan", "{}", "Balas: {}: lampu", "Fwd: ({})"]),
       st.sampled_from(["utf-8", "iso-8859-1", "windows-1252"]), st.booleans())
def test_a_ticket_number_in_an_encoded_subject_is_found(number: str, shape: str, charset: str,
                                                         words: bool) -> None:
    subject = shape.format(number)
    data = subject.encode(charset)
    if words:
        data = f"=?{charset}?B?{base64.b64encode(data).decode()}?=".encode()
    msg = parse_message(b"From: siti@warga.example\r\nSubject: " + data + b"\r\n\r\nisi\r\n")
    decision = _decide(msg)
    assert decision.kind is Kind.REPLY and decision.ticket_number == number.upper()


_COMMAND_TEXT = st.lists(st.sampled_from([
    "#status selesai", "#status", "#status ???", "#Status DIPROSES", "#tolak", "#tolak bukan wewenang",
    "#prioritas tinggi", "#prioritas x", "#petugas kasi@klero.desa.id", "#petugas <>", "#internal",
    "#publik", "#publik jalan sudah diperbaiki", "#kanal telepon", "#kanal ???", "#", "# status",
    "status: selesai", "prioritas: tinggi", "#ｓｔａｔｕｓ selesai", "#status\x00selesai", "",
]) | texts, max_size=8).map("\n".join)


@fuzz(150)
@given(_COMMAND_TEXT | texts)
@example("#status selesai\r#tolak alasan\r\n#kanal wa")
def test_staff_commands_never_raise(text: str) -> None:
    reply = parse_staff_reply(text)
    assert isinstance(reply, StaffReply)
    lines = {line.strip()[:200] for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")}
    assert set(reply.commands) <= lines
    assert len(reply.errors) <= len(reply.commands)
    assert reply == parse_staff_reply(text)


@fuzz(30)
@given(messages)
def test_staff_commands_from_any_message_never_raise(raw: bytes) -> None:
    msg = parse_message(raw)
    assert isinstance(parse_staff_reply(new_text(msg.text)), StaffReply)


def _no_dkim(_raw: bytes) -> list[object]:
    return []


@fuzz(40)
@given(messages, st.sampled_from(list(Purpose)), st.sampled_from([None, "ADU-2026-00001"]))
def test_sender_proofs_are_total(raw: bytes, purpose: Purpose, ticket: str | None) -> None:
    msg = parse_message(raw)
    cfg = _cfg()
    claim = Claim(msg.from_addr or "", purpose, ticket, tuple(m.address for m in cfg.staff))
    proof = authenticate(msg, raw, claim, cfg.commands, INBOX, PREFIX, _no_dkim)  # type: ignore[arg-type]
    assert isinstance(proof, Proof)
    # Nothing in a fuzzed message may pass for a proof: it holds no valid signed address.
    assert proof.method in (None, "authserv")
    assert all(len(d) == 64 for d in signature_digests(raw))


@fuzz(100)
@given(st.sampled_from(list(Purpose)), st.integers(0, 200), st.characters(codec="utf-8"))
def test_a_signed_address_changed_anywhere_is_refused(purpose: Purpose, at: int, char: str) -> None:
    secret = b"rahasia-desa-klero-untuk-tes"
    ticket = None if purpose is Purpose.RECORD else "ADU-2026-00001"
    holder = "kasi@klero.desa.id"
    address = signed_address(INBOX, purpose, holder, secret, ticket)
    at %= len(address)
    forged = address[:at] + char + address[at + 1:]
    assume(forged.strip().lower() != address.lower())
    assert read_address(forged, INBOX, secret, purpose, [holder]) is None
    assert read_address(address, INBOX, secret, purpose, [holder]) is not None


RECEIVED = datetime(2026, 11, 27, 3, tzinfo=UTC)


@fuzz(40)
@given(messages)
def test_planning_a_ticket_for_any_complaint_never_raises(raw: bytes) -> None:
    """Whatever a complaint holds, its ticket, acknowledgement and notices can be planned."""
    msg = parse_message(raw)
    cfg = _cfg()
    plan = plan_new_ticket(msg, RECEIVED, "ADU-2026-00001", cfg, calendar_for(cfg.calendar))
    assert isinstance(plan, NewTicket)
    assert plan.ticket.subject == msg.subject[:500]
    for outgoing in plan.outgoing:
        assert "\x00" not in outgoing.to and "\n" not in outgoing.subject


_AUTH_RESULTS = st.sampled_from([
    "mx.klero.desa.id; dkim=pass header.d=warga.example", "mx.klero.desa.id; dmarc=pass header.from=",
    "mx.klero.desa.id (comment; dkim=pass header.d=warga.example) none", "; ; ;", "=?utf-8?q?x?=",
    "mx.klero.desa.id; dkim=pass header.d=\"warga.example", "v=1; a=rsa-sha256; d=warga.example; h=",
    "d=warga.example; h=from:subject:to; b=abc; l=10", "d=; h=:::; b= ", "\x00; dkim=pass",
])


@fuzz(150)
@given(st.lists(_AUTH_RESULTS | texts | st.text(max_size=60), max_size=4).map(" ".join))
def test_header_readers_are_total(value: str) -> None:
    """Authentication-Results, DKIM-Signature, reply addresses, quoted replies and robot
    wording: each reads any text without raising."""
    vouched = vouches(value, ["mx.klero.desa.id"], "warga.example")
    assert isinstance(vouched, Vouched) and (vouched.ok or vouched.reason)
    sig = parse_signature(value)
    if sig is not None:
        msg = parse_message(b"Subject: Re: [ADU-2026-00001] x\r\nReferences: <a@b>\r\n\r\n")
        problem = coverage_problem(sig, msg, "ADU-2026-00002", PREFIX)
        assert problem is None or isinstance(problem, str)
    for purpose in Purpose:
        assert read_address(value, INBOX, b"secret", purpose, ["kasi@klero.desa.id", value]) is None
    assert isinstance(new_text(value), str)
    assert subject_wording(value) == subject_wording(value)
