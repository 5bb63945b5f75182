"""Attacks on the regency promise (README "A regency"): nothing of one village reaches another's
staff; a reply to one village citing another's mail or ticket is not taken as a reply to it.

Written by a review that attacked the promise (2026-11-30); the cases it broke are mended:
one mailbox written two ways as two villages (config.py mailbox_identity), a reply to another
village's notification taken as a complaint with that village's reporter in its quoted text
(runners/intake.py `_elsewhere`), a suggestion-box opening dropped for citing another
village's note, and a proven answer sent to two villages taken as a copy by the second
(store/cited_mail.py, store/scope.py signature_key). Outgoing mail of before revision 0012
is tests/store/test_outbox_scope_migration.py's.
"""

from __future__ import annotations

import email
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from mailflow.config import Config, parse_configs
from mailflow.core.reply_address import Purpose, signed_address
from mailflow.errors import ConfigError
from mailflow.service import Service
from mailflow.store.models import OutboxMessage, Reporter, Ticket, TicketEvent
from mailflow.vocabulary import OutboxKind, Status
from tests.e2e.support import (
    INBOX,
    KASI,
    SECRET,
    SEKDES,
    complaint,
    config_for,
    rows,
    tickets,
)

TEGAL = "pengaduan@tegalwaton.desa.id"
TSEKDES = "sekdes@tegalwaton.desa.id"  # Tegal's own verifier
TEGAL_STAFF = [
    {"email": TSEKDES, "name": "Sekdes Tegal", "roles": ["verifikator"]},
    # Kasi is an officer of both villages (a petugas in Klero, a verifier in Tegal).
    {"email": KASI, "name": "Kasi Pelayanan", "roles": ["verifikator"]},
]


def _regency(world: Any, tmp_path: Path, *, tegal: dict[str, Any] | None = None,
             klero: dict[str, Any] | None = None) -> tuple[Config, Config]:
    """Klero and Tegal as two [[mailboxes]] of one file over one database."""
    if TEGAL not in world.users:
        world.add_user(TEGAL, "tegal-secret")
    if TSEKDES not in world.users:
        world.add_user(TSEKDES, "tsekdes-secret")
    data = config_for(world, tmp_path).model_dump(mode="json")
    entry_tegal = {"name": "tegal", "village": {"name": "Desa Tegalwaton"},
                   "imap": {"username": TEGAL, "password": "tegal-secret"},
                   "smtp": {"from_address": TEGAL, "from_name": "Pemerintah Desa Tegalwaton"},
                   "tickets": {"prefix": "TGL"}, "staff": TEGAL_STAFF}
    entry_klero = {"name": "klero", "tickets": {"prefix": "KLR"}}
    for entry, extra in ((entry_tegal, tegal or {}), (entry_klero, klero or {})):
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(entry.get(key), dict):
                entry[key] = {**entry[key], **value}
            else:
                entry[key] = value
    data["mailboxes"] = [entry_klero, entry_tegal]
    k, t = parse_configs(data, source="attack")
    return k, t


def _poll(cfg: Config, **kwargs: Any) -> Any:
    service = Service(cfg, **kwargs)
    try:
        result = service.poll_once()
        assert result.imap_error is None and result.storage_error is None, result
        return result
    finally:
        service.engine.dispose()


def _texts(world: Any, user: str) -> list[str]:
    out = []
    for stored in world.messages(user):
        msg = email.message_from_bytes(stored.raw, policy=default_policy)
        body = msg.get_body(("plain",))
        out.append(f"{msg['Subject']}\n{body.get_content() if body else ''}")
    return out


def _of(cfg: Config, prefix: str) -> list[Ticket]:
    return [t for t in tickets(cfg) if t.number.startswith(prefix + "-")]


# -- 1. two villages on one IMAP mailbox ----------------------------------------------------

@pytest.mark.parametrize("variant", [
    {"imap": {"username": INBOX, "password": "inbox-secret", "folder": "inbox"}},
    {"imap": {"username": INBOX.upper(), "password": "inbox-secret"}},
], ids=["folder-case", "username-case"])
def test_one_mailbox_cannot_be_served_as_two_villages(mail_world: Any, tmp_path: Path,
                                                       variant: dict[str, Any]) -> None:
    """The file refuses two villages on one [imap] mailbox ("each village needs its own"),
    however it is written: INBOX in any case, the login in capitals. Served as two, Klero's
    complaint became a Tegal ticket too, and Tegal's verifier read Klero's reporter."""
    with pytest.raises(ConfigError, match="is given to two mailboxes"):
        _regency(mail_world, tmp_path, tegal=variant)


# -- 2. a staff member of both villages (Tegal verifier, Klero officer) writes to Klero ----------

def _tegal_ticket_and_notice(world: Any, tmp_path: Path) -> tuple[Config, Config, str, Any]:
    """Siti's complaint in Tegal (TGL-2026-00001), Budi's in Klero (KLR-2026-00001); the
    notification Kasi received from Tegal."""
    klero, tegal = _regency(world, tmp_path)
    world.deliver(TEGAL, complaint(message_id="<siti-tegal@warga.example>", to=TEGAL))
    world.deliver(INBOX, complaint(sender="Budi <budi@warga.example>",
                                   body="Nama: Budi Santoso\nNIK: 3322110101900003\n"
                                        "Alamat: Dusun Krajan RT 01\n\nSaluran air di RT 01 "
                                        "tersumbat sejak minggu lalu, mohon dibersihkan.\n",
                                   message_id="<budi-klero@warga.example>"))
    _poll(tegal)
    _poll(klero)
    [notice] = [email.message_from_bytes(m.raw, policy=default_policy)
                for m in world.messages(KASI) if "TGL-2026-00001" in m.raw.decode("utf-8", "replace")]
    return klero, tegal, "TGL-2026-00001", notice


def _state(cfg: Config) -> list[tuple[str, str, str | None, int]]:
    """The village's own tickets: number, status, assignee, events."""
    evs = rows(cfg, TicketEvent)
    return [(t.number, str(t.status), t.assignee, sum(1 for e in evs if e.ticket_id == t.id))
            for t in _of(cfg, cfg.scope)]


CROSS = {
    "subject-number": dict(subject="Re: [TGL-2026-00001] tindak lanjut"),
    "subject-lowercase": dict(subject="Re: [tgl-2026-00001] tindak lanjut"),
    "subject-fullwidth": dict(subject="Re: [\uff34\uff27\uff2c-2026-00001] tindak lanjut"),
    "subject-odd-space": dict(subject="Re: [TGL - 2026 - 00001] tindak lanjut"),
    "in-reply-to-only": dict(subject="Re: tindak lanjut", thread=True),
    "signed-tegal-address": dict(subject="Re: [TGL-2026-00001] tindak lanjut", thread=True,
                                 signed="tegal"),
    "tegal-token-on-klero-domain": dict(subject="Re: [TGL-2026-00001] tindak lanjut",
                                        thread=True, signed="klero"),
    "klero-number-tegal-thread": dict(subject="Re: [KLR-2026-00001] tindak lanjut", thread=True,
                                      signed="klero-for-klr"),
}


@pytest.mark.parametrize("how", list(CROSS), ids=list(CROSS))
def test_a_command_to_klero_naming_tegals_ticket_acts_on_nothing_of_tegal(
        mail_world: Any, tmp_path: Path, how: str) -> None:
    klero, tegal, _number, notice = _tegal_ticket_and_notice(mail_world, tmp_path)
    spec = CROSS[how]
    before_k, before_t = _state(klero), _state(tegal)
    headers: dict[str, str] = {}
    if spec.get("thread"):
        headers["In-Reply-To"] = notice["Message-ID"]
        headers["References"] = notice["Message-ID"]
    to = INBOX
    if spec.get("signed") == "tegal":
        to = str(notice["Reply-To"])  # Tegal's address signed for Kasi and TGL-2026-00001
    elif spec.get("signed") == "klero":
        to = str(notice["Reply-To"]).replace("@tegalwaton.desa.id", "@klero.desa.id")
    elif spec.get("signed") == "klero-for-klr":
        to = signed_address(INBOX, Purpose.STAFF, KASI, SECRET.encode(), "KLR-2026-00001")
    body = f"#status diverifikasi\n#petugas {KASI}\n\nSudah dicek.\n"
    if spec.get("quote"):  # the mail program quotes the notification below the answer
        quoted = notice.get_body(("plain",)).get_content()
        body += "\nPada 27/11/2026, Pemerintah Desa Tegalwaton menulis:\n" + "".join(
            f"> {line}\n" for line in quoted.splitlines())
    subject = spec["subject"] or f"Re: {notice['Subject']}"
    mail_world.deliver(INBOX, complaint(sender=f"Kasi <{KASI}>", subject=subject,
                                        body=body, to=to, **headers))
    _poll(klero)
    _poll(tegal)
    assert _state(tegal) == before_t, "Tegal's ticket changed from mail to Klero's mailbox"
    # Kasi is a Klero officer only: nothing of Klero's may be verified by him either.
    assert all(c[1] == str(Status.DITERIMA) for c in _state(klero)), (before_k, _state(klero))
    leaked = [t for t in _texts(mail_world, SEKDES) if "Siti Aminah" in t or "3322114506890002" in t]
    assert leaked == [], "Klero's verifier received Tegal's reporter identity"


def test_a_reply_to_tegals_notification_landing_in_klero_carries_no_tegal_identity(
        mail_world: Any, tmp_path: Path) -> None:
    """Kasi answers Tegal's notification (the mail program quotes it) and the answer reaches
    Klero's mailbox. It cites Tegal's notification (In-Reply-To, its signed Reply-To): not a
    reply to anything of Klero's, and Tegal's reporter must not reach Klero's verifier."""
    klero, _tegal, _, notice = _tegal_ticket_and_notice(mail_world, tmp_path)
    quoted = notice.get_body(("plain",)).get_content()
    body = ("#status diverifikasi\n\nSudah dicek.\n\nPada 27/11/2026, Pemerintah Desa Tegalwaton "
            "menulis:\n" + "".join(f"> {line}\n" for line in quoted.splitlines()))
    mail_world.deliver(INBOX, complaint(sender=f"Kasi <{KASI}>", subject=f"Re: {notice['Subject']}",
                                        body=body, to=str(notice["Reply-To"]),
                                        **{"In-Reply-To": notice["Message-ID"],
                                           "References": notice["Message-ID"]}))
    _poll(klero)
    made = {t.id: t.number for t in _of(klero, "KLR")}
    names = [(made[r.ticket_id], r.name, r.nik) for r in rows(klero, Reporter) if r.ticket_id in made]
    leaked = [t for t in _texts(mail_world, SEKDES) if "Siti Aminah" in t or "3322114506890002" in t]
    assert not any(n == "Siti Aminah" for _, n, _ in names) and leaked == [], (
        f"Klero's reporters {names}; Klero's verifier got {len(leaked)} mail(s) with Tegal's "
        "reporter's name and NIK")


# -- 3. a Kotak Saran opening to Klero that cites a Tegal note -----------------------------------

@pytest.mark.parametrize("cites", ["nothing", "tegal-note"])
def test_klero_opening_citing_a_tegal_note_is_still_an_opening(mail_world: Any, tmp_path: Path,
                                                              cites: str) -> None:
    """Kasi (Tegal verifier; Klero's suggestion-box team) records Klero's box opening with his
    Klero record address; his mail cites a note Tegal sent him. Tegal's mail is not Klero's:
    the opening must not be dropped as "a reply to mailflow's mail"."""
    klero, tegal = _regency(mail_world, tmp_path, klero={"suggestion_box": {"team": [KASI]}})
    mail_world.deliver(TEGAL, complaint(message_id="<siti-tegal@warga.example>", to=TEGAL))
    _poll(tegal)
    [notice] = [email.message_from_bytes(m.raw, policy=default_policy)
                for m in mail_world.messages(KASI)]
    # An impossible command: Tegal explains it in a note to Kasi (a STAFF_NOTE).
    mail_world.deliver(TEGAL, complaint(sender=f"Kasi <{KASI}>", subject=f"Re: {notice['Subject']}",
                                        body="#status selesai\n", to=str(notice["Reply-To"]),
                                        **{"In-Reply-To": notice["Message-ID"]}))
    _poll(tegal)
    tegal_notes = [row.message_id for row in rows(tegal, OutboxMessage)
                   if row.kind is OutboxKind.STAFF_NOTE and row.scope == "TGL"]
    assert tegal_notes, "setup: Tegal sent Kasi no note"
    record = signed_address(INBOX, Purpose.RECORD, KASI, SECRET.encode())
    mail_world.deliver(INBOX, complaint(sender=f"Kasi <{KASI}>", subject="Kotak Saran",
                                        body="saran\nLampu balai desa sering mati.\n---\n"
                                             "kritik\nPelayanan KTP lambat.\n",
                                        to=record, **({"In-Reply-To": tegal_notes[-1]}
                                                      if cites == "tegal-note" else {})))
    _poll(klero)
    assert len(_of(klero, "KLR")) == 2, "Klero's opening was dropped: it cited Tegal's note"


# -- 4. one proven message to two villages --------------------------------------------------------

@pytest.mark.parametrize("sent_to", ["both", "tegal-only"])
def test_a_residents_proven_reply_to_two_villages_counts_in_each(mail_world: Any,
                                                                 tmp_path: Path,
                                                                 sent_to: str) -> None:
    """Siti's complaint went to both villages (a ticket in each, both waiting for her NIK). Her
    answer to her own complaint, DKIM-signed and vouched by the trusted server, goes to both.
    Whether Tegal takes it must not depend on Klero having taken it first."""
    klero, tegal = _regency(mail_world, tmp_path)
    first = complaint(message_id="<tanpa-nik@warga.example>", to=f"{INBOX}, {TEGAL}",
                      body="Nama: Siti Aminah\nAlamat: Dusun Krajan RT 02\n\nJalan di depan "
                           "balai dusun Krajan berlubang besar sejak bulan lalu, mohon "
                           "segera diperbaiki.\n")
    mail_world.deliver(INBOX, first)
    mail_world.deliver(TEGAL, first)
    no_dns = {"dkim": lambda raw: []}
    _poll(klero, **no_dns)
    _poll(tegal, **no_dns)
    assert {str(t.status) for t in tickets(klero)} == {str(Status.PERLU_DATA)}, "setup"
    answer = complaint(subject="Re: Pengaduan Masyarakat", message_id="<nik@warga.example>",
                       to=f"{INBOX}, {TEGAL}",
                       body="NIK: 3322114506890002\n\nIni NIK saya.\n",
                       **{"In-Reply-To": "<tanpa-nik@warga.example>",
                          "References": "<tanpa-nik@warga.example>"})
    answer = (b"Authentication-Results: mx.klero.desa.id; dkim=pass header.d=warga.example\r\n"
              b"DKIM-Signature: v=1; a=rsa-sha256; d=warga.example; s=s1; c=relaxed/relaxed;"
              b" h=from:to:subject:date:message-id:in-reply-to:references; bh=AAAA; "
              b"b=c2lhcGEtc2FqYS1ib2xlaC1tZW5nYWt1LXNpdGk=\r\n" + answer)
    if sent_to == "both":
        mail_world.deliver(INBOX, answer)
    mail_world.deliver(TEGAL, answer)
    _poll(klero, **no_dns)
    _poll(tegal, **no_dns)
    notes = [(e.ticket_id, str(e.kind), e.note) for e in rows(klero, TicketEvent)][-3:]
    statuses = {t.number: str(t.status) for t in tickets(klero)}
    assert statuses["TGL-2026-00001"] == str(Status.DITERIMA), (
        f"{statuses}: Tegal refused the same proven answer as a copy of the one Klero used "
        f"(used_signature is one table for every village): {notes}")


# -- 5. a staff member's proven message replayed into another village ----------------------------

PHONE_BODY = ("#kanal telepon\n\nNama: Budi Santoso\nNIK: 3322110506890002\n"
              "Email: budi@warga.example\n\nPenelepon melaporkan jembatan bambu di RT 04 patah.")


def test_a_staff_recording_for_one_village_replayed_into_another_records_nothing(
        mail_world: Any, tmp_path: Path) -> None:
    """Kasi, staff of both villages, records a phone complaint for Tegal, vouched by the
    trusted server. The same bytes delivered to Klero's mailbox (a copy, a forward, a forger
    who got hold of them) must not record it in Klero too: a staff member's signature acts
    once in the whole database, and Tegal's caller does not reach Klero's staff."""
    klero, tegal = _regency(mail_world, tmp_path)
    recording = complaint(sender=f"Kasi Pelayanan <{KASI}>", body=PHONE_BODY, to=TEGAL,
                          message_id="<rekam@klero.desa.id>")
    recording = (b"Authentication-Results: mx.klero.desa.id; dkim=pass header.d=klero.desa.id\r\n"
                 b"DKIM-Signature: v=1; a=rsa-sha256; d=klero.desa.id; s=s1; c=relaxed/relaxed;"
                 b" h=from:to:subject:date:message-id; bh=AAAA; "
                 b"b=cmVrYW1hbi1rYXNpLXVudHVrLXRlZ2Fs\r\n" + recording)
    no_dns = {"dkim": lambda raw: []}
    mail_world.deliver(TEGAL, recording)
    _poll(tegal, **no_dns)
    assert [(t.number, str(t.channel)) for t in _of(tegal, "TGL")] == [
        ("TGL-2026-00001", "telepon")], "setup: Tegal records Kasi's proven phone complaint"
    mail_world.deliver(INBOX, recording)
    _poll(klero, **no_dns)
    assert _of(klero, "KLR") == [], "the replayed recording made a Klero ticket"
    leaked = [t for t in _texts(mail_world, SEKDES) if "Budi Santoso" in t or "3322110506890002" in t]
    assert leaked == [], "Tegal's caller reached Klero's verifier"
