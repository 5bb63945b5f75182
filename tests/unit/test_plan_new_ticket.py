"""A new complaint, decided without a database: the plan `plan_new_ticket` returns.

Each test states one behaviour the end-to-end tests check through Dovecot
(tests/e2e/test_spine.py, test_staff_mail.py, test_workflow_mail.py) on the plan alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.message import EmailMessage

import pytest

from mailflow.config import Config
from mailflow.core.new_ticket import NewTicket, plan_new_ticket, plan_refused_recording, source_of
from mailflow.core.parse import ParsedMessage, parse_message
from mailflow.core.reply_address import Purpose, signed_address
from mailflow.core.workdays import calendar_for
from mailflow.vocabulary import Channel, EventKind, Missing, OutboxKind, Status
from tests.unit.plan_support import (
    ADMIN,
    BUDI,
    COMPLETE_BODY,
    DUE,
    INBOX,
    KADES,
    KASI,
    NUMBER,
    RECEIVED,
    SECRET,
    SEKDES,
    SITI,
    SITI_NIK,
    SITI_SECRETS,
    WIB,
    config,
    mail,
    member,
    sent,
    to,
)

LAMP_ONLY = "Nama: Budi Santoso\n\nLampu jalan di gang Melati mati sejak seminggu yang lalu."
PHONE_BODY = ("#kanal telepon\n\nNama: Budi Santoso\nNIK: 3322110506890002\nEmail: budi@warga.example\n\n"
              "Penelepon melaporkan saluran irigasi di Dusun Krajan jebol sejak kemarin malam.")


def _plan(msg: ParsedMessage | None = None, received: datetime = RECEIVED,
          cfg: Config | None = None) -> NewTicket:
    cfg = cfg or config()
    return plan_new_ticket(msg or mail(), received, NUMBER, cfg, calendar_for(cfg.calendar))


# -- the ticket -----------------------------------------------------------------------------

def test_a_complete_complaint_is_received_with_nothing_missing() -> None:
    plan = _plan()
    assert (plan.ticket.number, plan.ticket.status, plan.ticket.missing) == (NUMBER, Status.DITERIMA, ())
    assert plan.ticket.channel is Channel.EMAIL
    assert plan.ticket.received_at == RECEIVED
    assert plan.recorder is None


def test_identity_is_taken_out_of_the_description_and_kept_apart() -> None:
    plan = _plan()
    assert (plan.identity.name, plan.identity.nik, plan.identity.phone, plan.identity.email) == (
        "Siti Aminah", SITI_NIK, "+6281234567890", SITI)
    assert plan.identity.address == "Dusun Krajan RT 02/RW 05"
    for secret in SITI_SECRETS:
        assert secret not in plan.ticket.description, secret
    assert "berlubang besar" in plan.ticket.description


def test_the_due_date_is_seven_working_days_after_the_day_of_receipt() -> None:
    assert _plan().ticket.due_date == DUE == date(2026, 12, 8)


def test_the_day_of_receipt_is_the_village_day_not_the_utc_day() -> None:
    # Thursday 18:00 UTC is already Friday 01:00 in Jakarta: counting starts after Friday.
    plan = _plan(received=datetime(2026, 11, 26, 18, tzinfo=UTC))
    assert plan.ticket.due_date == date(2026, 12, 8)


def test_a_village_holiday_from_the_configuration_moves_the_due_date() -> None:
    cfg = config(calendar={"extra_holidays": [date(2026, 12, 1)]})
    assert _plan(cfg=cfg).ticket.due_date == date(2026, 12, 9)


def test_receipt_on_a_saturday_counts_from_the_saturday() -> None:
    plan = _plan(received=datetime(2026, 11, 28, 9, tzinfo=WIB))
    assert plan.ticket.due_date == date(2026, 12, 8)
    assert plan.outgoing[0].context["received"] == "Sabtu, 28 November 2026 pukul 09.00 WIB"


def test_the_first_event_is_created_by_the_system_with_the_status() -> None:
    plan = _plan()
    assert (plan.event.kind, plan.event.actor, plan.event.to_status) == (
        EventKind.CREATED, "system", Status.DITERIMA)
    assert plan.event.message_id == "<keluhan-1@warga.example>"
    assert plan.source_message_id == "<keluhan-1@warga.example>"


def test_a_complaint_without_nik_waits_for_data_and_says_so_in_its_event() -> None:
    plan = _plan(mail(LAMP_ONLY, sender=BUDI))
    assert (plan.ticket.status, plan.ticket.missing) == (Status.PERLU_DATA, (Missing.NIK,))
    assert plan.event.to_status is Status.PERLU_DATA
    assert plan.event.note == "missing: nik"


def test_an_html_only_complaint_is_marked_and_read_as_text() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = BUDI, INBOX, "Pengaduan Masyarakat"
    msg.set_content("<p>Nama: <b>Budi Santoso</b></p><p>Air bersih di <i>RT&nbsp;03</i> tidak "
                    "mengalir sudah lima hari &amp; warga membeli galon.</p>", subtype="html")
    plan = _plan(parse_message(msg.as_bytes()))
    assert plan.html_only is True
    assert "tidak mengalir sudah lima hari & warga membeli galon." in " ".join(
        plan.ticket.description.split())
    assert "<" not in plan.ticket.description


def test_a_very_long_subject_is_cut_to_what_the_column_holds() -> None:
    plan = _plan(mail(subject="Pengaduan Masyarakat " + "x" * 600))
    assert len(plan.ticket.subject) == 500


# -- the acknowledgement --------------------------------------------------------------------

def test_the_reporter_is_acknowledged_in_the_thread_of_the_complaint() -> None:
    plan = _plan(mail(References="<awal@warga.example>"))
    [ack] = to(plan.outgoing, SITI)
    assert ack.kind is OutboxKind.ACK
    assert ack.subject == "[ADU-2026-00001] Pengaduan Bapak/Ibu telah diterima"
    assert ack.in_reply_to == "<keluhan-1@warga.example>"
    assert ack.references == ("<awal@warga.example>",)


def test_the_acknowledgement_gives_the_number_receipt_and_due_date_in_indonesian() -> None:
    [ack] = to(_plan().outgoing, SITI)
    assert ack.context["number"] == NUMBER
    assert ack.context["due"] == "Selasa, 8 Desember 2026"
    assert ack.context["received"] == "Jumat, 27 November 2026 pukul 10.00 WIB"
    assert ack.context["salutation"] == "Bapak/Ibu Siti Aminah"
    assert ack.context["missing"] == []


def test_the_acknowledgement_lists_exactly_what_is_missing() -> None:
    [ack] = to(_plan(mail(LAMP_ONLY, sender=BUDI)).outgoing, BUDI)
    assert ack.context["missing"] == ["NIK (16 digit, sesuai KTP)"]
    assert "nama lengkap" not in ack.context["missing"]


def test_an_anonymous_short_complaint_is_asked_for_everything() -> None:
    [ack] = to(_plan(mail("Tolong.", sender=BUDI)).outgoing, BUDI)
    assert ack.context["missing"] == [m.text for m in (Missing.NAME, Missing.NIK, Missing.DESCRIPTION)]
    assert ack.context["salutation"] == "Bapak/Ibu"


def test_an_impossible_nik_is_missing_and_the_acknowledgement_says_why() -> None:
    plan = _plan(mail(COMPLETE_BODY.replace(SITI_NIK, "9922114506890002")))
    assert plan.ticket.missing == (Missing.NIK,)
    [ack] = to(plan.outgoing, SITI)
    assert ack.context["nik_problem"] == "kode wilayah pada NIK tidak dikenal"


def test_the_from_address_is_answered_never_a_foreign_reply_to() -> None:
    # Reply-To is anyone's to write: answering it would mail an address that never wrote.
    plan = _plan(mail(Reply_To="Siti <siti.rumah@warga.example>"))
    assert plan.identity.email == SITI
    assert [o.to for o in plan.outgoing if o.kind is OutboxKind.ACK] == [SITI]
    assert "siti.rumah@warga.example" not in [o.to for o in plan.outgoing]
    [note] = to(plan.outgoing, SEKDES)
    assert note.context["other_reply_to"] == "siti.rumah@warga.example"
    assert "reply-to differs" in plan.event.note
    assert "siti.rumah" not in plan.event.note


def test_a_reply_to_equal_to_from_is_not_reported() -> None:
    plan = _plan(mail(Reply_To=SITI))
    [note] = to(plan.outgoing, SEKDES)
    assert note.context["other_reply_to"] is None
    assert "reply-to" not in plan.event.note


# -- staff notifications --------------------------------------------------------------------

def test_only_verifiers_are_notified_of_a_new_complaint() -> None:
    plan = _plan()
    assert sent(plan.outgoing) == [(OutboxKind.ACK, SITI), (OutboxKind.NOTIFY, SEKDES)]
    assert not to(plan.outgoing, KASI) and not to(plan.outgoing, KADES)


def test_every_verifier_gets_a_notification_of_their_own() -> None:
    staff = [{"email": SEKDES, "name": "Sekretaris Desa", "roles": ["verifikator"]},
             {"email": KADES, "name": "Kepala Desa", "roles": ["kepala_desa", "verifikator"]},
             {"email": KASI, "name": "Kasi Pelayanan", "roles": ["petugas"]}]
    plan = _plan(cfg=config(staff=staff))
    assert sorted(o.to for o in plan.outgoing if o.kind is OutboxKind.NOTIFY) == [KADES, SEKDES]


def test_the_verifiers_notification_carries_identity_and_a_signed_reply_address() -> None:
    plan = _plan(mail(subject="Pengaduan Masyarakat - jalan rusak",
                      attachments=[("jalan.png", b"\x89PNG foto")]))
    [note] = to(plan.outgoing, SEKDES)
    assert note.subject == "[ADU-2026-00001] Pengaduan baru: Pengaduan Masyarakat - jalan rusak"
    assert note.context["action"] == "diverifikasi"
    assert note.context["identity"] == plan.identity
    assert note.reply_to is not None
    # Signed for this ticket and for the verifier alone (her own address, not a shared one).
    assert note.reply_to == signed_address(INBOX, Purpose.STAFF, SEKDES, SECRET.encode(), NUMBER)
    assert [name for name, _type, _data in note.attachments] == ["jalan.png"]


def test_no_staff_mail_names_the_resident_as_a_recipient() -> None:
    plan = _plan()
    for item in plan.outgoing:
        if item.kind is not OutboxKind.ACK:
            assert SITI not in (item.to, item.reply_to), item


# -- a complaint recorded by staff from a phone call ----------------------------------------

@pytest.mark.parametrize(("kanal", "channel"), [("telepon", Channel.TELEPON), ("WA", Channel.WHATSAPP)])
def test_a_phone_complaint_makes_the_caller_the_reporter(kanal: str, channel: Channel) -> None:
    plan = _plan(mail(PHONE_BODY.replace("telepon", kanal, 1), sender=f"Kasi Pelayanan <{KASI}>"))
    assert (plan.ticket.channel, plan.ticket.status) == (channel, Status.DITERIMA)
    assert (plan.identity.name, plan.identity.email) == ("Budi Santoso", BUDI)
    assert plan.recorder is not None and plan.recorder.address == KASI
    [ack] = to(plan.outgoing, BUDI)
    assert ack.kind is OutboxKind.ACK
    assert ack.context["salutation"] == "Bapak/Ibu Budi Santoso"


def test_the_recording_staff_member_gets_the_acknowledgement_to_read_out() -> None:
    plan = _plan(mail(PHONE_BODY, sender=f"Kasi Pelayanan <{KASI}>"))
    [copy] = to(plan.outgoing, KASI)
    assert copy.kind is OutboxKind.ACK_STAFF
    assert copy.subject == "[ADU-2026-00001] Pengaduan Bapak/Ibu telah diterima"
    assert copy.context["due"] == "Selasa, 8 Desember 2026"
    assert sent(plan.outgoing) == [(OutboxKind.ACK, BUDI), (OutboxKind.ACK_STAFF, KASI),
                                   (OutboxKind.NOTIFY, SEKDES)]


def test_the_phone_command_and_the_callers_email_stay_out_of_the_description() -> None:
    plan = _plan(mail(PHONE_BODY, sender=KASI))
    assert "#kanal" not in plan.ticket.description
    assert BUDI not in plan.ticket.description
    assert "saluran irigasi" in plan.ticket.description


def test_the_recording_is_in_the_first_events_actor_and_note() -> None:
    plan = _plan(mail(PHONE_BODY, sender=KASI))
    assert plan.event.actor == KASI
    assert plan.event.note.strip() == "recorded by staff for a telepon complaint"


def test_a_phone_complaint_without_caller_email_is_acknowledged_to_the_staff_only() -> None:
    body = "#kanal telepon\nNama: Pak Darmo\n\nJembatan bambu di RT 04 patah, anak sekolah memutar jauh."
    plan = _plan(mail(body, sender=KASI))
    assert (plan.ticket.channel, plan.ticket.status) == (Channel.TELEPON, Status.PERLU_DATA)
    assert plan.identity.email is None
    assert sent(plan.outgoing) == [(OutboxKind.ACK_STAFF, KASI), (OutboxKind.NOTIFY, SEKDES)]


def test_a_resident_cannot_claim_to_record_a_phone_complaint() -> None:
    source = source_of(mail(PHONE_BODY, sender=SITI), config())
    assert (source.channel, source.recorder, source.reply_to) == (Channel.EMAIL, None, SITI)
    assert "#kanal telepon" in source.text


def test_staff_writing_without_a_channel_command_are_an_ordinary_reporter() -> None:
    plan = _plan(mail(sender=KASI))
    assert plan.recorder is None
    assert plan.ticket.channel is Channel.EMAIL
    assert sent(plan.outgoing) == [(OutboxKind.ACK, KASI), (OutboxKind.NOTIFY, SEKDES)]



# -- a recording whose sender is unproven (issue 7, item 4) ---------------------------------

PHONE = ("#kanal telepon\nNama: Budi Santoso\nEmail: budi@warga.example\n\n"
         "Penelepon melaporkan jembatan bambu di RT 04 patah sejak pagi.")


def test_an_unproven_recording_mails_only_the_administrator_and_the_claimed_member() -> None:
    cfg = config()
    refused = plan_refused_recording(mail(PHONE, sender=KASI), member(cfg, KASI), cfg, "why")
    assert [(o.kind, o.to) for o in refused.outgoing] == [(OutboxKind.STAFF_NOTE, ADMIN),
                                                          (OutboxKind.STAFF_NOTE, KASI)]
    alert, told = refused.outgoing
    assert alert.reply_to is None  # needs no answer: no command address
    record = signed_address(INBOX, Purpose.RECORD, KASI, SECRET.encode())
    assert told.reply_to == record and record in "\n".join(told.context["paragraphs"])
    assert "Pengaduan Masyarakat" in told.subject  # a reply to it is taken by intake
    assert BUDI not in repr(refused)  # nothing of the forged text is mailed or logged
    assert refused.summary == ("security: unproven phone/WhatsApp recording refused "
                               "claimed_staff=Kasi Pelayanan")


def test_without_signed_addresses_the_member_is_told_to_send_it_signed() -> None:
    cfg = config(commands={"accept": ["dkim"]})
    refused = plan_refused_recording(mail(PHONE, sender=KASI), member(cfg, KASI), cfg, "why")
    told = refused.outgoing[-1]
    assert told.reply_to is None
    assert "DKIM" in "\n".join(told.context["paragraphs"])
