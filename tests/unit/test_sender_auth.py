"""The proofs, decided without a network: Authentication-Results, DKIM coverage, signed addresses.

The end-to-end tests (tests/e2e/test_attack_proofs.py) deliver each attack through Dovecot;
these state the rules behind them on plain values, one rule per test.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mailflow.core.auth_results import vouches
from mailflow.core.dkim_rules import (
    DkimSignature,
    ambiguous_fields,
    coverage_problem,
    digest,
    parse_signature,
)
from mailflow.core.parse import parse_message
from mailflow.core.reply_address import Purpose, signed_address
from mailflow.core.sender_auth import Claim, Proof, authenticate, signature_digests
from tests.unit.plan_support import INBOX, KASI, NUMBER, SECRET, SEKDES, config

DOMAIN = "klero.desa.id"
TRUSTED = ["mx.klero.desa.id"]
SUBJECT = f"Re: [{NUMBER}] Pengaduan baru: Pengaduan Masyarakat"
FULL = ("from", "to", "subject", "message-id", "in-reply-to", "references")


def _raw(*headers: str, subject: str = SUBJECT, sender: str = SEKDES, to: str = INBOX) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}",
             "Message-ID: <balasan-1@klero.desa.id>", "In-Reply-To: <notify-1@klero.desa.id>",
             *headers]
    return ("\r\n".join(lines) + "\r\n\r\n#status diverifikasi\r\n").encode()


def _sig(*signed: str, domain: str = DOMAIN, length: bool = False, b: str = "QUFB") -> DkimSignature:
    return DkimSignature(domain, signed or FULL, length, b)


def _dkim_header(signed: Sequence[str] = FULL, domain: str = DOMAIN, b: str = "QUFB") -> str:
    return f"DKIM-Signature: v=1; a=rsa-sha256; d={domain}; s=desa; h={':'.join(signed)}; bh=x; b={b}"


def _auth(raw: bytes, *, accept: Sequence[str], verified: Sequence[DkimSignature] = (),
          claim: Claim | None = None, replayed: bool = False) -> Proof:
    cfg = config(commands={"accept": list(accept)})
    claim = claim or Claim(SEKDES, Purpose.STAFF, NUMBER, (SEKDES, KASI))
    return authenticate(parse_message(raw), raw, claim, cfg.commands, INBOX, "ADU",
                        lambda _raw: tuple(verified), replayed=replayed)


# -- Authentication-Results (RFC 8601) ------------------------------------------------------

@pytest.mark.parametrize("value", [
    "mx.klero.desa.id; dkim=pass header.d=klero.desa.id",
    "mx.klero.desa.id; dkim=pass (2048-bit key) header.d=Klero.Desa.Id header.b=abcd",
    "mx.klero.desa.id 1; spf=fail smtp.mailfrom=x.test; dmarc=pass header.from=klero.desa.id",
    "(comment) mx.klero.desa.id;\r\n\tdkim = pass header . d = klero.desa.id",
])
def test_an_aligned_pass_from_a_trusted_server_vouches(value: str) -> None:
    assert vouches(value, TRUSTED, DOMAIN).ok


@pytest.mark.parametrize(("value", "why"), [
    ("mx.klero.desa.id; spf=pass smtp.mailfrom==?utf-8?q?x=3B_dkim=3Dpass_header.d=3Dklero.desa.id_?="
     "@evil.test", "no dkim=pass or dmarc=pass"),
    ("mx.klero.desa.id; spf=pass (via smtp.mailfrom=sekdes@klero.desa.id) smtp.mailfrom=evil.test",
     "no dkim=pass"),
    ("mx.klero.desa.id; dkim=fail (dkim=pass header.d=klero.desa.id) header.d=klero.desa.id",
     "no dkim=pass"),
    ('mx.klero.desa.id; dkim=fail reason="dkim=pass header.d=klero.desa.id" header.d=x.test',
     "no dkim=pass"),
    ("mx.klero.desa.id; spf=pass smtp.mailfrom=klero.desa.id", "no dkim=pass"),
    ("mx.klero.desa.id; dkim=pass header.d=klero.desa.id; dmarc=fail header.from=klero.desa.id",
     "dmarc=fail"),
    ("mx.klero.desa.id; dkim=pass header.d=desa.id", "no dkim=pass"),  # strict alignment
    ("mx.klero.desa.id; dkim=pass header.d=klero.desa.id.evil.test", "no dkim=pass"),
    ("mx.klero.desa.id; dkim=pass header.i=sekdes@klero.desa.id", "no dkim=pass"),
    ("evil.test; dkim=pass header.d=klero.desa.id", "untrusted server"),
    ("mx.klero.desa.id; dkim=pass header.d=klero.desa.id; garbage", "does not parse"),
    (None, "no Authentication-Results"),
])
def test_anything_else_vouches_for_nothing(value: str | None, why: str) -> None:
    vouched = vouches(value, TRUSTED, DOMAIN)
    assert not vouched.ok
    assert why in vouched.reason


def test_the_header_is_read_undecoded_even_where_decoding_would_make_a_pass() -> None:
    ar = ("Authentication-Results: mx.klero.desa.id; spf=pass smtp.mailfrom==?utf-8?q?x=3B_dkim=3Dpass"
          "_header.d=3Dklero.desa.id=3B_x=3Dy_header.a=3Db?=@evil.test; dkim=fail header.d=klero.desa.id")
    proof = _auth(_raw(ar, _dkim_header()), accept=["authserv"])
    assert proof.method is None and "no dkim=pass or dmarc=pass" in proof.reason


def test_only_the_topmost_header_is_read() -> None:
    raw = _raw("Authentication-Results: mx.klero.desa.id; dkim=fail header.d=klero.desa.id",
               "Authentication-Results: mx.klero.desa.id; dmarc=pass header.from=klero.desa.id")
    assert _auth(raw, accept=["authserv"]).method is None


def test_authserv_needs_every_aligned_signature_to_cover_what_is_acted_on() -> None:
    ar = "Authentication-Results: mx.klero.desa.id; dkim=pass header.d=klero.desa.id"
    covering = _raw(ar, _dkim_header())
    assert _auth(covering, accept=["authserv"]) == Proof("authserv")
    partial = _raw(ar, _dkim_header(("from", "to")), _dkim_header(b="QkJC"))
    assert "does not cover From and Subject" in _auth(partial, accept=["authserv"]).reason
    unsigned = _raw(ar)
    assert "without a DKIM signature" in _auth(unsigned, accept=["authserv"]).reason
    spf_aligned = _raw("Authentication-Results: mx.klero.desa.id; dmarc=pass header.from=klero.desa.id")
    assert _auth(spf_aligned, accept=["authserv"]) == Proof("authserv")


# -- DKIM coverage --------------------------------------------------------------------------

def test_a_signature_header_is_read_as_tags() -> None:
    sig = parse_signature("v=1; a=rsa-sha256; d=Klero.Desa.Id; s=desa;\r\n h=From : Subject:to;"
                          " bh=x; l=120; b=QU\r\n FB")
    assert sig == DkimSignature(DOMAIN, ("from", "subject", "to"), True, "QUFB")
    assert parse_signature("v=1; d=klero.desa.id; b=x") is None  # no h=
    assert parse_signature("garbage") is None


@pytest.mark.parametrize(("sig", "subject", "problem"), [
    (_sig(), SUBJECT, None),
    (_sig("from", "to", "message-id"), SUBJECT, "does not cover From and Subject"),
    (_sig("subject", "to"), SUBJECT, "does not cover From and Subject"),
    (_sig(length=True), SUBJECT, "only part of the body"),
    # The subject names no ticket: the thread headers found it, so they must be signed.
    (_sig("from", "subject"), "Re: laporan jalan", "in-reply-to, which the DKIM signature"),
    (_sig("from", "subject", "in-reply-to"), "Re: laporan jalan", None),
    # Microsoft 365 signs neither; fine while the signed Subject names the ticket.
    (_sig("from", "subject"), SUBJECT, None),
])
def test_what_a_signature_must_cover(sig: DkimSignature, subject: str, problem: str | None) -> None:
    found = coverage_problem(sig, parse_message(_raw(subject=subject)), NUMBER, "ADU")
    assert found == problem or (problem is not None and found is not None and problem in found)


def test_a_new_recording_needs_from_and_subject_only() -> None:
    msg = parse_message(_raw(subject="Pengaduan Masyarakat"))
    assert coverage_problem(_sig("from", "subject"), msg, None, "ADU") is None


@pytest.mark.parametrize("extra", ["Subject: Re: [ADU-2026-00002] x", "From: kasi@klero.desa.id",
                                   "Message-ID: <lain@evil.test>", "In-Reply-To: <lain@evil.test>",
                                   "References: <a@x> <b@x>\r\nReferences: <c@x>"])
def test_a_second_instance_of_an_acted_on_field_voids_every_proof(extra: str) -> None:
    raw = _raw(extra, to=signed_address(INBOX, Purpose.STAFF, SEKDES, SECRET.encode(), NUMBER))
    assert ambiguous_fields(parse_message(raw))
    proof = _auth(raw, accept=["signed_reply", "dkim"], verified=[_sig()])
    assert proof.method is None and "more than one" in proof.reason


def test_the_signed_subject_found_the_ticket_or_the_signature_is_not_for_it() -> None:
    raw = _raw()
    assert _auth(raw, accept=["dkim"], verified=[_sig()]) == Proof("dkim")
    other = Claim(SEKDES, Purpose.STAFF, "ADU-2026-00002")
    assert _auth(raw, accept=["dkim"], verified=[_sig("from", "subject")], claim=other).method is None


def test_a_signature_of_another_domain_proves_nothing() -> None:
    proof = _auth(_raw(), accept=["dkim"], verified=[_sig(domain="warga.example")])
    assert proof == Proof(None, "dkim: no valid DKIM signature of the From domain")


def test_a_copy_of_a_used_signature_proves_nothing_whatever_else_holds() -> None:
    raw = _raw(to=signed_address(INBOX, Purpose.STAFF, SEKDES, SECRET.encode(), NUMBER))
    assert _auth(raw, accept=["signed_reply"]).method == "signed_reply"
    proof = _auth(raw, accept=["signed_reply"], replayed=True)
    assert proof.method is None and "already used" in proof.reason


def test_every_signature_of_a_message_is_fingerprinted() -> None:
    raw = _raw(_dkim_header(b="QUFB"), _dkim_header(domain="gmail.com", b="Q\r\n UNE"))
    assert signature_digests(raw) == (digest(_sig(b="QUFB")), digest(_sig(b="QUNE")))
    assert signature_digests(_raw()) == ()


# -- signed addresses -----------------------------------------------------------------------

def test_a_signed_address_proves_only_its_holder_and_its_ticket() -> None:
    mine = signed_address(INBOX, Purpose.STAFF, SEKDES, SECRET.encode(), NUMBER)
    assert _auth(_raw(to=mine), accept=["signed_reply"]) == Proof("signed_reply")
    officers = signed_address(INBOX, Purpose.STAFF, KASI, SECRET.encode(), NUMBER)
    proof = _auth(_raw(to=officers), accept=["signed_reply"])
    assert proof == Proof(None, "signed_reply: signed address issued to another person")
    elsewhere = signed_address(INBOX, Purpose.STAFF, SEKDES, SECRET.encode(), "ADU-2026-00002")
    proof = _auth(_raw(to=elsewhere), accept=["signed_reply"])
    assert proof == Proof(None, "signed_reply: signed address issued for another ticket")


def test_a_record_address_proves_a_recording_not_a_command() -> None:
    record = signed_address(INBOX, Purpose.RECORD, SEKDES, SECRET.encode())
    recording = Claim(SEKDES, Purpose.RECORD, None)
    assert _auth(_raw(to=record), accept=["signed_reply"], claim=recording) == Proof("signed_reply")
    assert _auth(_raw(to=record), accept=["signed_reply"]).method is None
