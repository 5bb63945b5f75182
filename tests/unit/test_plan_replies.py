"""Replies to a ticket, decided without a database: the `ReplyPlan` for staff and residents.

Each test states one behaviour the end-to-end tests check through Dovecot
(tests/e2e/test_workflow_mail.py) on the plan alone: who may set which status, what a
refusal says, what an unproven command causes, what the resident and the staff are sent.
"""

from __future__ import annotations

import pytest

from mailflow.config import Config
from mailflow.core.commands import parse_staff_reply
from mailflow.core.identity import Identity
from mailflow.core.notices import Outgoing, new_ticket_notices
from mailflow.core.replies import (
    ReplyPlan,
    check_staff_reply,
    is_status_request,
    merge_identity,
    plan_resident_reply,
    plan_staff_reply,
)
from mailflow.core.tickets import TicketFacts
from mailflow.vocabulary import EventKind, Missing, OutboxKind, Priority, Status
from tests.unit.plan_support import (
    ACK_ID,
    ADMIN,
    BUDI,
    KADES,
    KASI,
    SEKDES,
    SITI,
    SITI_NIK,
    SITI_SECRETS,
    STAFF,
    config,
    member,
    resident_mail,
    sent,
    siti,
    staff_mail,
    text_of,
    ticket,
    to,
    waiting_for,
)

SIGNED = "signed_reply"
ROLE_REFUSAL = "hanya dapat diberikan oleh verifikator atau kepala desa"


def _staff(sender: str, body: str, facts: TicketFacts | None = None, *,
           method: str | None = SIGNED, reporter: Identity | None = None,
           cfg: Config | None = None) -> ReplyPlan:
    cfg = cfg or config()
    return plan_staff_reply(facts or ticket(), reporter or siti(), member(cfg, sender),
                            staff_mail(sender, body), method, cfg)


def _resident(body: str, facts: TicketFacts | None = None, *, sender: str = SITI,
              reporter: Identity | None = None, cfg: Config | None = None,
              method: str | None = SIGNED) -> ReplyPlan:
    """A resident's reply, proven (by default) to come from `sender`."""
    return plan_resident_reply(facts or ticket(), reporter or siti(), resident_mail(body, sender=sender),
                               cfg or config(), method)


def _reasons(plan: ReplyPlan) -> str:
    """What the refused staff member is told (the explanation's paragraphs)."""
    [explanation] = [o for o in plan.outgoing if o.kind is OutboxKind.STAFF_NOTE]
    return "\n".join(explanation.context["paragraphs"])


def _not_receipts(plan: ReplyPlan) -> list[Outgoing]:
    """What an applied reply sends besides its sender's receipt."""
    return [o for o in plan.outgoing if o.kind is not OutboxKind.RECEIPT]


def _refused(plan: ReplyPlan, before: TicketFacts, sender: str) -> None:
    """A refusal changes nothing, is recorded, and is explained to its sender only."""
    assert plan.outcome == "command refused"
    assert plan.ticket == before
    assert [(e.kind, e.actor) for e in plan.events] == [(EventKind.COMMAND_REFUSED, sender)]
    assert sent(plan.outgoing) == [(OutboxKind.STAFF_NOTE, sender)]


# -- staff: applied -------------------------------------------------------------------------

def test_a_verifier_verifies_and_the_resident_hears_it_in_the_acknowledgements_thread() -> None:
    plan = _staff(SEKDES, "#status diverifikasi\n\nPengaduan Anda sudah kami periksa.")
    assert plan.outcome == "command applied"
    assert plan.ticket.status is Status.DIVERIFIKASI
    [event] = plan.events
    assert (event.kind, event.actor, event.from_status, event.to_status, event.auth) == (
        EventKind.STATUS, SEKDES, Status.DITERIMA, Status.DIVERIFIKASI, SIGNED)
    assert event.note == "Pengaduan Anda sudah kami periksa."
    [update] = _not_receipts(plan)
    assert (update.kind, update.to) == (OutboxKind.STATUS, SITI)
    assert update.subject == "[ADU-2026-00001] Status pengaduan: Sudah diverifikasi"
    assert update.in_reply_to == ACK_ID
    assert update.context["message"] == "Pengaduan Anda sudah kami periksa."
    assert update.context["changed"] is True


def test_the_quoted_notification_is_not_part_of_the_command_or_the_message() -> None:
    plan = _staff(SEKDES, "#status diverifikasi\nSudah kami cek.")
    [update] = _not_receipts(plan)
    assert update.context["message"] == "Sudah kami cek."
    assert "menulis:" not in plan.events[0].note


def test_status_assignee_and_priority_in_one_reply_each_leave_an_event() -> None:
    plan = _staff(SEKDES, f"#status diverifikasi\n#petugas {KASI}\n#prioritas tinggi\n\nOk.")
    assert (plan.ticket.status, plan.ticket.assignee, plan.ticket.priority) == (
        Status.DIVERIFIKASI, KASI, Priority.TINGGI)
    assert [(e.kind, e.note) for e in plan.events] == [
        (EventKind.PRIORITY, "sedang -> tinggi"),
        (EventKind.ASSIGNEE, f"- -> {KASI}"),
        (EventKind.STATUS, "Ok."),
    ]
    assert {e.actor for e in plan.events} == {SEKDES}


def test_a_priority_alone_changes_the_ticket_but_tells_the_resident_nothing() -> None:
    plan = _staff(KASI, "#prioritas darurat", ticket(Status.DIPROSES))
    assert plan.ticket.priority is Priority.DARURAT
    assert [(e.kind, e.note) for e in plan.events] == [(EventKind.PRIORITY, "sedang -> darurat")]
    assert sent(plan.outgoing) == [(OutboxKind.RECEIPT, KASI)]  # only the receipt


def test_the_same_priority_again_from_staff_is_no_event() -> None:
    plan = _staff(SEKDES, "#prioritas tinggi", ticket(priority=Priority.TINGGI,
                                                      priority_set_by=KASI))
    assert plan.outcome == "command applied"
    assert plan.events == ()
    assert plan.ticket.priority_set_by == KASI


def test_staff_confirming_the_suggestion_makes_it_theirs() -> None:
    # The system suggested tinggi; a verifier's "#prioritas tinggi" is recorded as their word,
    # so that no later suggestion replaces it.
    plan = _staff(SEKDES, "#prioritas tinggi", ticket(priority=Priority.TINGGI,
                                                      priority_reason="tinggi (urgensi ...)"))
    assert plan.ticket.priority_set_by == SEKDES
    assert [(e.kind, e.actor, e.note) for e in plan.events] == [
        (EventKind.PRIORITY, SEKDES,
         "tinggi (saran sistem dikonfirmasi); saran sistem: tinggi (urgensi ...)")]


def test_a_staff_priority_replaces_the_suggestion_and_keeps_its_reason() -> None:
    reason = "darurat (urgensi segera, dampak luas): 'banjir' (banjir) -> urgensi segera"
    plan = _staff(KASI, "#prioritas rendah", ticket(Status.DIPROSES, priority=Priority.DARURAT,
                                                    priority_reason=reason))
    assert (plan.ticket.priority, plan.ticket.priority_set_by) == (Priority.RENDAH, KASI)
    assert plan.ticket.priority_reason == reason  # the system's proposal stays as history
    [event] = plan.events
    assert event.note == f"darurat -> rendah; saran sistem: {reason}"


def test_the_assigned_officer_is_notified_without_the_reporters_identity() -> None:
    plan = _staff(SEKDES, f"#status diverifikasi\n#petugas {KASI}\n\nOk.",
                  ticket(subject="Pengaduan Masyarakat dari Siti Aminah",
                         description="Saya Siti Aminah (0812-3456-7890) dari Dusun Krajan RT 02/RW 05: "
                                     "jalan rusak."))
    [notice] = to(plan.outgoing, KASI)
    assert notice.kind is OutboxKind.NOTIFY
    assert notice.context["action"] == "ditindaklanjuti"
    assert notice.subject.startswith("[ADU-2026-00001] Tugas tindak lanjut: ")
    assert notice.context["identity"] is None
    for secret in SITI_SECRETS:
        assert secret not in text_of(notice), secret
    assert "jalan rusak" in notice.context["description"]


def test_the_officers_notification_shows_the_state_after_every_command_of_the_reply() -> None:
    plan = _staff(SEKDES, f"#petugas {KASI}\n#status diverifikasi\n#prioritas tinggi\n\nOk.")
    [notice] = to(plan.outgoing, KASI)
    # The officer reads what this reply set, not what the ticket was before it.
    assert notice.context["status_label"] == Status.DIVERIFIKASI.label
    assert notice.context["priority"] == "tinggi"


def test_the_officers_notification_lists_only_the_commands_an_officer_may_use() -> None:
    plan = _staff(SEKDES, f"#status diverifikasi\n#petugas {KASI}\n\nOk.")
    [notice] = to(plan.outgoing, KASI)
    commands = notice.context["commands"]
    assert commands[0] == "#status diproses | selesai"
    assert not any(line.startswith("#tolak") for line in commands)
    assert "#petugas alamat@email" in commands


def test_a_verifier_is_shown_every_status_and_tolak() -> None:
    [notice] = new_ticket_notices(config(), ticket(), siti(), [])
    assert notice.context["commands"][0] == (
        "#status diverifikasi | diproses | selesai | perlu_data | ditolak")
    assert "#tolak <alasan penolakan>" in notice.context["commands"]


def test_an_officers_refusal_explains_only_the_commands_an_officer_may_use() -> None:
    plan = _staff(KASI, "#status diverifikasi\nSudah dicek.")
    reasons = _reasons(plan)
    assert "#status diproses | selesai" in reasons
    assert "#status diverifikasi |" not in reasons and "#tolak" not in reasons


def test_assigning_the_officer_already_assigned_sends_nothing_new() -> None:
    plan = _staff(SEKDES, f"#petugas {KASI}", ticket(Status.DIVERIFIKASI, assignee=KASI))
    assert plan.outcome == "command applied"
    assert plan.events == () and sent(plan.outgoing) == [(OutboxKind.RECEIPT, SEKDES)]


def test_an_officer_reports_progress_and_completion() -> None:
    progress = _staff(KASI, "#status diproses\nPetugas datang besok pagi.", ticket(Status.DIVERIFIKASI))
    assert progress.ticket.status is Status.DIPROSES
    assert [o.subject for o in _not_receipts(progress)] == [
        "[ADU-2026-00001] Status pengaduan: Sedang ditindaklanjuti"]
    done = _staff(KASI, "#status selesai\nJalan sudah ditambal kemarin sore.", progress.ticket)
    assert done.ticket.status is Status.SELESAI
    [update] = _not_receipts(done)
    assert update.subject == "[ADU-2026-00001] Status pengaduan: Selesai"
    assert update.context["final"] is True
    assert update.context["message"] == "Jalan sudah ditambal kemarin sore."


def test_the_head_of_the_village_may_verify() -> None:
    plan = _staff(KADES, "#status diverifikasi\nSudah saya periksa.")
    assert plan.outcome == "command applied"
    assert plan.ticket.status is Status.DIVERIFIKASI


def test_a_rejection_tells_the_resident_the_reason() -> None:
    plan = _staff(SEKDES, "#tolak bukan wewenang desa\nSilakan hubungi kecamatan.")
    assert plan.ticket.status is Status.DITOLAK
    [update] = _not_receipts(plan)
    assert update.subject == "[ADU-2026-00001] Status pengaduan: Tidak dapat ditindaklanjuti"
    # The reason once, as "Alasan:", and the rest as the officer's message.
    assert (update.context["reason"], update.context["message"]) == (
        "bukan wewenang desa", "Silakan hubungi kecamatan.")
    assert update.context["final"] is True


def test_an_internal_note_is_recorded_and_never_mailed_to_the_reporter() -> None:
    plan = _staff(SEKDES, "#internal\nPelapor tetangga Pak Kadus.")
    assert plan.outcome == "command applied"
    assert plan.ticket == ticket()
    assert [(e.kind, e.note) for e in plan.events] == [
        (EventKind.INTERNAL_NOTE, "Pelapor tetangga Pak Kadus.")]
    assert sent(plan.outgoing) == [(OutboxKind.RECEIPT, SEKDES)]  # only the receipt


def test_a_message_without_commands_goes_to_the_resident_without_a_status_change() -> None:
    plan = _staff(SEKDES, "Mohon kirimkan foto lokasinya.")
    assert plan.ticket == ticket()
    assert [(e.kind, e.note) for e in plan.events] == [(EventKind.MESSAGE, "Mohon kirimkan foto lokasinya.")]
    [update] = _not_receipts(plan)
    assert (update.to, update.context["changed"], update.context["message"]) == (
        SITI, False, "Mohon kirimkan foto lokasinya.")


def test_a_status_change_for_a_reporter_without_email_is_applied_and_noted() -> None:
    plan = _staff(SEKDES, "#status diverifikasi\nOk.", reporter=siti(email=None))
    assert plan.ticket.status is Status.DIVERIFIKASI
    assert sent(plan.outgoing) == [(OutboxKind.RECEIPT, SEKDES)]
    assert plan.notes == ("reporter has no email ticket=ADU-2026-00001; status change not mailed",)


def test_the_summary_of_an_applied_command_names_no_one() -> None:
    plan = _staff(SEKDES, f"#status diverifikasi\n#petugas {KASI}\nOk Bu Siti Aminah.")
    assert plan.summary.startswith("staff command applied ticket=ADU-2026-00001 status=diterima->")
    for secret in SITI_SECRETS:
        assert secret not in plan.summary


# -- staff: receipts ------------------------------------------------------------------------

def _receipt(plan: ReplyPlan) -> Outgoing:
    [receipt] = [o for o in plan.outgoing if o.kind is OutboxKind.RECEIPT]
    return receipt


def test_an_applied_reply_gets_one_receipt_in_its_thread_saying_what_changed_and_who_was_told(
        ) -> None:
    plan = _staff(SEKDES, f"#status diverifikasi\n#petugas {KASI}\n#prioritas tinggi\n\nOk.")
    receipt = _receipt(plan)
    assert receipt.to == SEKDES
    assert receipt.subject == "Re: [ADU-2026-00001] Perintah sudah dijalankan"
    assert receipt.in_reply_to == "<balasan-1@klero.desa.id>"
    assert receipt.references == ("<notify-1@klero.desa.id>",)
    assert receipt.reply_to is not None and receipt.reply_to.startswith("pengaduan+adu-2026-00001.")
    said = text_of(receipt)
    assert "Status: Tercatat \u2013 menunggu verifikasi -> Sudah diverifikasi\n" in said
    assert "diterima ->" not in said
    assert f"Petugas tindak lanjut: {KASI}" in said
    assert "Prioritas: Sedang -> Tinggi" in said
    assert "Pesan untuk pelapor dicatat" in said
    assert "Pelapor: ya" in said
    assert f"Petugas: {KASI} (pemberitahuan tugas tindak lanjut)" in said
    for secret in SITI_SECRETS:
        assert secret not in said, secret


def test_a_receipt_for_an_internal_note_says_the_resident_was_not_told() -> None:
    said = text_of(_receipt(_staff(KASI, "#internal\nSudah ditinjau.", ticket(Status.DIPROSES))))
    assert "Catatan internal dicatat" in said
    assert "Pelapor: tidak (perubahan ini tidak dikirim kepada pelapor)" in said
    assert "Petugas:" not in said.replace("Petugas tindak lanjut", "")


def test_a_receipt_says_when_the_reporter_has_no_email() -> None:
    said = text_of(_receipt(_staff(SEKDES, "#status diverifikasi\nOk.", reporter=siti(email=None))))
    assert "Pelapor: tidak (pelapor tidak mempunyai alamat email" in said


def test_refused_and_forged_replies_get_no_receipt() -> None:
    refused = _staff(KASI, "#status diverifikasi\nOk.")
    forged = _staff(SEKDES, "#status diverifikasi\nOk.", method=None)
    for plan in (refused, forged):
        assert OutboxKind.RECEIPT not in {o.kind for o in plan.outgoing}


def test_receipts_can_be_turned_off_for_everyone_or_for_one_staff_member() -> None:
    off = config(commands={"receipts": False})
    assert _not_receipts(plan := _staff(SEKDES, "#status diverifikasi\nOk.", cfg=off)) == list(
        plan.outgoing)
    staff = [dict(m, receipts=False) if m["email"] == SEKDES else m for m in STAFF]
    one_off = config(staff=staff)
    assert OutboxKind.RECEIPT not in {o.kind for o in _staff(SEKDES, "#status diverifikasi\nOk.",
                                                             cfg=one_off).outgoing}
    assert _receipt(_staff(KASI, "#status diproses\nOk.", ticket(Status.DIVERIFIKASI), cfg=one_off))


def test_a_reply_to_a_receipt_without_commands_gets_no_receipt_so_robots_cannot_loop() -> None:
    cfg = config()
    away = plan_staff_reply(ticket(), siti(), member(cfg, SEKDES),
                            staff_mail(SEKDES, "Saya sedang cuti sampai Senin."), SIGNED, cfg,
                            answers_receipt=True)
    assert OutboxKind.RECEIPT not in {o.kind for o in away.outgoing}
    command = plan_staff_reply(ticket(), siti(), member(cfg, SEKDES),
                               staff_mail(SEKDES, "#status diverifikasi\nOk."), SIGNED, cfg,
                               answers_receipt=True)
    assert _receipt(command).to == SEKDES


# -- staff: refused -------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "target"), [
    ("#status diverifikasi\nSudah dicek.", "diverifikasi"),
    ("#tolak bukan wewenang desa", "ditolak"),
    ("#status perlu_data\nMohon NIK.", "perlu_data"),
])
def test_an_officer_may_not_move_a_complaint_into_or_out_of_verification(body: str, target: str) -> None:
    before = ticket()
    plan = _staff(KASI, body, before)
    _refused(plan, before, KASI)
    assert f"status '{target}' {ROLE_REFUSAL}" in _reasons(plan)


def test_an_officer_may_not_send_a_verified_ticket_back_for_data() -> None:
    before = ticket(Status.DIPROSES, assignee=KASI)
    plan = _staff(KASI, "#status perlu_data\nMohon foto.", before)
    _refused(plan, before, KASI)
    assert ROLE_REFUSAL in _reasons(plan)


def test_check_staff_reply_accepts_the_officers_progress_and_refuses_verification() -> None:
    cfg = config()
    kasi, sekdes = member(cfg, KASI), member(cfg, SEKDES)
    verify = parse_staff_reply("#status diverifikasi\nOk.")
    assert check_staff_reply(ticket(), sekdes, verify, cfg) == []
    assert check_staff_reply(ticket(), kasi, verify, cfg) == [f"status 'diverifikasi' {ROLE_REFUSAL}"]
    progress = parse_staff_reply("#status diproses")
    assert check_staff_reply(ticket(Status.DIVERIFIKASI), kasi, progress, cfg) == []


def test_an_unknown_status_word_is_explained_with_how_to_write_it() -> None:
    before = ticket()
    plan = _staff(SEKDES, "#status beres\nSudah.", before)
    _refused(plan, before, SEKDES)
    reasons = _reasons(plan)
    assert "status 'beres' tidak dikenal" in reasons
    assert "#status diverifikasi" in reasons


def test_a_move_the_procedure_does_not_allow_is_explained_with_the_allowed_ones() -> None:
    before = ticket()
    plan = _staff(SEKDES, "#status selesai\nSudah.", before)
    _refused(plan, before, SEKDES)
    assert "dari 'diterima' hanya boleh ke: perlu_data, diverifikasi, ditolak" in _reasons(plan)
    assert plan.events[0].note.startswith("status tidak dapat diubah dari 'diterima'")


def test_closing_without_a_word_to_the_resident_is_refused() -> None:
    before = ticket(Status.DIPROSES)
    plan = _staff(KASI, "#status selesai", before)
    _refused(plan, before, KASI)
    assert "status 'selesai' perlu pesan untuk pelapor" in _reasons(plan)


def test_an_internal_note_does_not_count_as_the_word_to_the_resident() -> None:
    before = ticket(Status.DIPROSES)
    plan = _staff(KASI, "#status selesai\n#internal\nSudah beres.", before)
    _refused(plan, before, KASI)


def test_assigning_someone_who_is_not_staff_is_refused() -> None:
    before = ticket()
    plan = _staff(SEKDES, "#petugas tetangga@warga.example", before)
    _refused(plan, before, SEKDES)
    assert "'tetangga@warga.example' bukan staf yang terdaftar di mailflow" in _reasons(plan)


def test_an_empty_reply_is_refused() -> None:
    before = ticket()
    plan = _staff(SEKDES, "", before)
    _refused(plan, before, SEKDES)
    assert "balasan kosong" in _reasons(plan)


def test_the_explanation_answers_in_the_thread_and_states_the_current_status() -> None:
    plan = _staff(SEKDES, "#status selesai\nSudah.")
    [explanation] = plan.outgoing
    assert explanation.subject == "Re: [ADU-2026-00001] Perintah tidak dapat dijalankan"
    assert explanation.in_reply_to == "<balasan-1@klero.desa.id>"
    assert explanation.context["greeting"] == "Yth. Sekretaris Desa,"
    assert "Status tiket saat ini: Tercatat \u2013 menunggu verifikasi." in _reasons(plan)


# -- staff: not proven to come from its sender ----------------------------------------------

def test_an_unproven_command_changes_nothing_and_is_a_security_event() -> None:
    before = ticket()
    plan = _staff(SEKDES, "#tolak tidak penting\nDitutup.", before, method=None)
    assert plan.outcome == "security: unauthenticated command"
    assert plan.security is True
    assert plan.ticket == before and plan.reporter is None
    [event] = plan.events
    assert (event.kind, event.actor, event.to_status) == (EventKind.SECURITY, "unknown", None)
    assert event.note == f"unauthenticated command claiming to be from {SEKDES}"


def test_an_unproven_command_alerts_the_administrator() -> None:
    plan = _staff(SEKDES, "#tolak tidak penting", method=None)
    [alert] = to(plan.outgoing, ADMIN)
    assert alert.kind is OutboxKind.STAFF_NOTE
    assert alert.subject == "[ADU-2026-00001] Peringatan keamanan: perintah tanpa bukti pengirim"
    said = "\n".join(alert.context["paragraphs"])
    assert f"Sekretaris Desa <{SEKDES}>" in said
    assert "tidak diteruskan kepada pelapor" in said
    assert "Message-ID: <balasan-1@klero.desa.id>" in said


def test_the_genuine_staff_member_is_told_how_to_send_a_command_that_counts() -> None:
    plan = _staff(SEKDES, "#tolak tidak penting", method=None)
    [told] = to(plan.outgoing, SEKDES)
    said = "\n".join(told.context["paragraphs"])
    assert "tidak terbukti berasal dari alamat Bapak/Ibu" in said and "Balas (Reply)" in said


def test_nothing_of_an_unproven_command_reaches_the_resident() -> None:
    plan = _staff(SEKDES, "#status diverifikasi\nSudah kami periksa.", method=None)
    assert sent(plan.outgoing) == [(OutboxKind.STAFF_NOTE, ADMIN), (OutboxKind.STAFF_NOTE, SEKDES)]


def test_without_an_administrator_address_the_alert_is_logged_instead() -> None:
    plan = _staff(SEKDES, "#tolak x", method=None, cfg=config(commands={"admin_address": None}))
    assert sent(plan.outgoing) == [(OutboxKind.STAFF_NOTE, SEKDES)]
    assert plan.notes == ("security: no [commands] admin_address configured; alert not mailed",)


def test_the_security_summary_names_the_claimed_staff_but_not_the_resident() -> None:
    plan = _staff(SEKDES, "#tolak Siti Aminah bohong", method=None)
    assert plan.summary == ("security: unauthenticated staff command refused ticket=ADU-2026-00001 "
                            "claimed_staff=Sekretaris Desa")


# -- residents ------------------------------------------------------------------------------

def test_the_reporters_reply_is_recorded_without_the_quoted_acknowledgement() -> None:
    plan = _resident("Foto tambahan menyusul.")
    assert plan.outcome == "reply"
    assert plan.ticket == ticket()
    assert [(e.kind, e.actor, e.note) for e in plan.events] == [
        (EventKind.REPLY, "reporter", "Foto tambahan menyusul.")]
    assert plan.events[0].message_id == "<balasan-warga-1@warga.example>"


def test_the_verifiers_are_told_of_a_reply_and_the_resident_gets_nothing_back() -> None:
    plan = _resident("Foto tambahan menyusul.")
    assert sent(plan.outgoing) == [(OutboxKind.STAFF_NOTE, SEKDES)]
    [note] = plan.outgoing
    assert note.subject == "[ADU-2026-00001] Balasan dari pelapor"
    assert "Foto tambahan menyusul." in note.context["paragraphs"]


def test_the_assigned_officer_is_told_of_a_reply_with_identity_scrubbed() -> None:
    body = "Saya Siti Aminah, HP 0812-3456-7890, NIK 3322114506890002. Lubangnya makin besar."
    plan = _resident(body, ticket(Status.DIPROSES, assignee=KASI))
    assert sorted(o.to for o in plan.outgoing) == [KASI, SEKDES]
    [verifier] = to(plan.outgoing, SEKDES)
    assert body in verifier.context["paragraphs"]
    [officer] = to(plan.outgoing, KASI)
    for secret in SITI_SECRETS:
        assert secret not in text_of(officer), secret
    assert "Lubangnya makin besar." in text_of(officer)


def test_a_stranger_quoting_a_ticket_number_is_recorded_only() -> None:
    plan = _resident("status", sender=BUDI)
    assert plan.outcome == "reply from another sender"
    assert [(e.kind, e.actor) for e in plan.events] == [(EventKind.REPLY, "other")]
    assert plan.outgoing == ()
    assert plan.ticket == ticket() and plan.reporter is None


def test_a_stranger_cannot_complete_someone_elses_data() -> None:
    before = waiting_for(Missing.NIK)
    plan = _resident(f"NIK: {SITI_NIK}", before, sender=BUDI, reporter=siti(nik=None))
    assert plan.ticket == before and plan.reporter is None
    assert plan.outgoing == ()


def test_a_reply_to_a_ticket_without_reporter_is_from_another_sender() -> None:
    plan = plan_resident_reply(ticket(), None, resident_mail("status"), config())
    assert plan.outcome == "reply from another sender"
    assert plan.outgoing == ()


@pytest.mark.parametrize("ask", ["status", "Cek status ADU-2026-00001", "STATUS?", "check status"])
def test_the_reporter_asking_for_the_status_is_answered(ask: str) -> None:
    plan = _resident(ask)
    assert plan.outcome == "status request"
    [answer] = plan.outgoing
    assert (answer.kind, answer.to) == (OutboxKind.STATUS, SITI)
    # An answer, not a change: neither its subject nor its text says the status moved.
    assert answer.subject == "[ADU-2026-00001] Informasi status pengaduan"
    assert answer.in_reply_to == ACK_ID
    assert (answer.context["changed"], answer.context["asked"]) == (False, True)
    assert plan.ticket == ticket()


@pytest.mark.parametrize("text", [
    "Apa status pengaduan saya?", "Statusnya bagaimana?", "status " + "x" * 200, "",
])
def test_other_text_is_not_a_status_request(text: str) -> None:
    assert not is_status_request(text)


def test_an_incomplete_nik_keeps_the_ticket_waiting_without_a_status_mail() -> None:
    plan = _resident("NIK: 332211450689", waiting_for(Missing.NIK), reporter=siti(nik=None))
    assert plan.outcome == "data still incomplete"
    assert (plan.ticket.status, plan.ticket.missing) == (Status.PERLU_DATA, (Missing.NIK,))
    assert plan.reporter is not None
    assert plan.reporter.nik_problem == "NIK harus 16 digit angka"
    assert [o.kind for o in plan.outgoing] == [OutboxKind.STAFF_NOTE]


def test_the_missing_nik_completes_the_data_and_the_ticket_is_received() -> None:
    plan = _resident(f"NIK: {SITI_NIK}", waiting_for(Missing.NIK), reporter=siti(nik=None))
    assert plan.outcome == "data completed"
    assert (plan.ticket.status, plan.ticket.missing) == (Status.DITERIMA, ())
    assert plan.reporter is not None and plan.reporter.nik == SITI_NIK
    assert [(e.kind, e.actor, e.from_status, e.to_status) for e in plan.events] == [
        (EventKind.REPLY, "reporter", None, None),
        (EventKind.STATUS, "reporter", Status.PERLU_DATA, Status.DITERIMA),
    ]


def test_completed_data_is_announced_to_the_resident_and_the_verifier() -> None:
    plan = _resident(f"NIK: {SITI_NIK}", waiting_for(Missing.NIK), reporter=siti(nik=None))
    assert sent(plan.outgoing) == [(OutboxKind.STATUS, SITI), (OutboxKind.STAFF_NOTE, SEKDES)]
    update, note = plan.outgoing
    assert update.subject == "[ADU-2026-00001] Status pengaduan: Tercatat \u2013 menunggu verifikasi"
    assert update.in_reply_to == ACK_ID
    # An automatic text is a note, never "Pesan dari petugas" (the staff message stays empty).
    assert (update.context["changed"], update.context["message"], update.context["note"]) == (
        True, "", "Terima kasih, data yang Bapak/Ibu kirimkan sudah lengkap.")
    assert note.subject == "[ADU-2026-00001] Balasan dari pelapor"


def test_a_reply_without_a_nik_does_not_complete_the_data() -> None:
    plan = _resident("Mohon segera ditindaklanjuti, terima kasih banyak.", waiting_for(Missing.NIK),
                     reporter=siti(nik=None))
    assert plan.outcome == "data still incomplete"
    assert plan.ticket.status is Status.PERLU_DATA
    assert all(o.kind is not OutboxKind.STATUS for o in plan.outgoing)


def test_a_missing_description_is_completed_by_the_reply_text() -> None:
    plan = _resident("Lampu jalan di gang Melati mati sejak seminggu yang lalu.",
                     waiting_for(Missing.DESCRIPTION, description="Tolong."))
    assert plan.outcome == "data completed"
    assert plan.ticket.description == "Tolong.\n\nLampu jalan di gang Melati mati sejak seminggu yang lalu."


def test_a_reply_to_a_received_ticket_changes_no_data() -> None:
    plan = _resident(f"Nama: Budi\nNIK: 3322110506890002\n\n{'Tambahan. ' * 5}")
    assert plan.outcome == "reply"
    assert plan.reporter is None and plan.ticket == ticket()


# -- merging identity -----------------------------------------------------------------------

def test_what_the_reporter_gave_first_wins_and_the_reply_fills_the_gaps() -> None:
    merged = merge_identity(siti(phone=None), Identity(name="Bu Siti", nik="3322110506890002",
                                                       phone="+628111111111", email=BUDI))
    assert (merged.name, merged.nik, merged.phone, merged.email) == (
        "Siti Aminah", SITI_NIK, "+628111111111", SITI)


def test_an_invalid_nik_is_replaced_by_a_valid_one_from_the_reply() -> None:
    merged = merge_identity(siti(nik="332211450689", nik_problem="NIK harus 16 digit angka"),
                            Identity(nik=SITI_NIK))
    assert (merged.nik, merged.nik_problem) == (SITI_NIK, None)


def test_an_invalid_nik_stays_with_its_problem_when_the_reply_has_none() -> None:
    merged = merge_identity(siti(nik="332211450689", nik_problem="x"), Identity())
    assert (merged.nik, merged.nik_problem) == ("332211450689", "NIK harus 16 digit angka")


# -- found while writing these tests, fixed since -------------------------------------------

def test_an_internal_note_beside_a_status_change_is_kept_in_the_audit_trail() -> None:
    plan = _staff(KASI, "#status diproses\n#internal\nPelapor tetangga Pak Kadus.",
                  ticket(Status.DIVERIFIKASI, assignee=KASI))
    assert plan.ticket.status is Status.DIPROSES
    assert all("Pak Kadus" not in str(o.context.get("message")) for o in to(plan.outgoing, SITI))
    assert any(e.note == "Pelapor tetangga Pak Kadus." for e in plan.events)


def test_the_assignment_notice_shows_the_status_the_same_reply_set() -> None:
    plan = _staff(SEKDES, f"#status diverifikasi\n#petugas {KASI}\n\nOk.")
    [notice] = to(plan.outgoing, KASI)
    assert notice.context["status_label"] == plan.ticket.status.label == "Sudah diverifikasi"


# -- proof: who may change what (issue 7, items 1 and 5) ------------------------------------

def test_a_reply_without_proof_completes_nothing_and_is_kept_for_the_verifier() -> None:
    before = waiting_for(Missing.NIK)
    plan = _resident("Nama: Budi\nNIK: 3322110506890002", before, reporter=siti(nik=None),
                     method=None)
    assert plan.outcome == "unverified reply"
    assert plan.ticket == before and plan.reporter is None
    assert [(e.kind, e.actor, e.auth) for e in plan.events] == [
        (EventKind.REPLY, "reporter", ""), (EventKind.UNVERIFIED_DATA, "reporter", "")]
    assert sent(plan.outgoing) == [(OutboxKind.STAFF_NOTE, SEKDES)]
    said = text_of(plan.outgoing[0])
    assert "tidak terbukti berasal dari pelapor" in said and "3322110506890002" in said
    assert "Siti" not in plan.summary and "3322110506890002" not in plan.summary


def test_a_proven_reply_records_how_it_was_proven() -> None:
    plan = _resident(f"NIK: {SITI_NIK}", waiting_for(Missing.NIK), reporter=siti(nik=None),
                     method="dkim")
    assert plan.outcome == "data completed"
    assert plan.events[0].auth == "dkim"


def test_an_unproven_reply_that_changes_nothing_anyway_is_passed_on_with_a_warning() -> None:
    plan = _resident("Foto tambahan menyusul.", method=None)
    assert plan.outcome == "reply"
    [note] = plan.outgoing
    assert "tidak terbukti berasal dari pelapor" in text_of(note)


def test_an_unproven_status_request_is_answered_to_the_reporter_only() -> None:
    plan = _resident("cek status", method=None)
    assert sent(plan.outgoing) == [(OutboxKind.STATUS, SITI)]


def test_each_staff_member_gets_their_own_reply_address_and_the_alert_none() -> None:
    forwarded = _resident("Foto tambahan menyusul.", ticket(Status.DIPROSES, assignee=KASI))
    addresses = {o.to: o.reply_to for o in forwarded.outgoing}
    assert addresses[KASI] != addresses[SEKDES]
    assert all((a or "").startswith("pengaduan+adu-2026-00001.") for a in addresses.values())
    unproven = _staff(SEKDES, "#tolak x", method=None)
    [alert] = to(unproven.outgoing, ADMIN)
    assert alert.reply_to is None
    [told] = to(unproven.outgoing, SEKDES)
    assert told.reply_to is not None and told.reply_to != addresses[KASI]


def test_the_reason_no_proof_held_is_in_the_security_event_and_the_alert() -> None:
    cfg = config()
    plan = plan_staff_reply(ticket(), siti(), member(cfg, SEKDES), staff_mail(SEKDES, "#tolak x"),
                            None, cfg, "signed_reply: signed address issued to another person")
    assert plan.events[0].note.endswith("(signed_reply: signed address issued to another person)")
    [alert] = to(plan.outgoing, ADMIN)
    assert "Keterangan teknis: signed_reply: signed address issued to another person" in text_of(alert)
