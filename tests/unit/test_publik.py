"""#publik: staff mark text for the public page (core/commands.py, core/replies.py).

Only verifiers and officers may; the text is the reply's message (or what follows #publik),
never an #internal note unless written after #publik; a resident writing #publik marks
nothing."""

from __future__ import annotations

from mailflow.core.commands import help_for, parse_staff_reply
from mailflow.core.replies import ReplyPlan
from mailflow.vocabulary import EventKind, OutboxKind, Role, Status
from tests.unit.plan_support import ADMIN, KADES, KASI, SEKDES, STAFF, config, ticket
from tests.unit.test_plan_replies import _reasons, _resident, _staff

REFUSED_ROLE = "#publik hanya dapat digunakan oleh verifikator atau petugas tindak lanjut"


def _public(plan: ReplyPlan) -> list[str]:
    return [e.note for e in plan.events if e.kind is EventKind.PUBLIC]


def test_publik_marks_the_message_or_the_text_after_it() -> None:
    reply = parse_staff_reply("#status selesai\n#publik\nJalan sudah ditambal.")
    assert reply.public and reply.public_words == "Jalan sudah ditambal."
    own = parse_staff_reply("#publik Lampu sudah diganti\n#internal\nPelapor kenal Pak Kadus.")
    assert own.public_words == "Lampu sudah diganti"
    assert parse_staff_reply("#status selesai\nJalan sudah ditambal.").public_words == ""
    assert parse_staff_reply("#internal\n#publik\nCatatan.").public_words == ""
    # Without '#' it is an ordinary message, never a command.
    assert not parse_staff_reply("Publik: jalan sudah ditambal").public


def test_an_officers_closing_note_marked_public_is_an_event() -> None:
    plan = _staff(KASI, "#status selesai\n#publik\nJalan sudah ditambal kemarin sore.",
                  ticket(Status.DIPROSES))
    assert plan.outcome == "command applied"
    assert _public(plan) == ["Jalan sudah ditambal kemarin sore."]
    [receipt] = [o for o in plan.outgoing if o.kind is OutboxKind.RECEIPT]
    assert ("- Teks untuk halaman publik desa (tampil saat halaman diperbarui, tanpa identitas "
            "pelapor): Jalan sudah ditambal kemarin sore.") in receipt.context["paragraphs"][1]
    verifier = _staff(SEKDES, "#publik Pengaduan sedang kami periksa di lapangan.")
    assert verifier.outcome == "command applied"
    assert _public(verifier) == ["Pengaduan sedang kami periksa di lapangan."]
    rejected = _staff(SEKDES, "#tolak bukan wewenang desa\n#publik\nSilakan hubungi kecamatan.")
    assert _public(rejected) == ["Alasan: bukan wewenang desa\n\nSilakan hubungi kecamatan."]


def test_without_publik_nothing_is_public() -> None:
    plan = _staff(KASI, "#status selesai\nJalan sudah ditambal.", ticket(Status.DIPROSES))
    assert plan.outcome == "command applied" and _public(plan) == []


def test_publik_is_refused_for_the_head_and_the_administrator_and_without_text() -> None:
    cfg = config(staff=[*STAFF, {"email": ADMIN, "name": "Administrator", "roles": ["admin"]}])
    for sender in (KADES, ADMIN):
        plan = _staff(sender, "#publik\nJalan sudah ditambal.", cfg=cfg)
        assert plan.outcome == "command refused" and _public(plan) == []
        assert REFUSED_ROLE in _reasons(plan)
    empty = _staff(KASI, "#status diproses\n#publik", ticket(Status.DIVERIFIKASI))
    assert empty.outcome == "command refused" and _public(empty) == []
    assert "tidak ada teks untuk halaman publik" in _reasons(empty)
    internal = _staff(SEKDES, "#publik\n#internal\nPelapor tetangga Pak Kadus.")
    assert internal.outcome == "command refused" and _public(internal) == []


def test_a_resident_writing_publik_marks_nothing() -> None:
    plan = _resident("#publik\nNama saya Siti Aminah, tolong diumumkan.")
    assert _public(plan) == []
    assert [e.kind for e in plan.events] == [EventKind.REPLY]


def test_the_help_shows_publik_only_to_who_may_use_it() -> None:
    assert "#publik" in help_for([Role.PETUGAS]) and "#publik" in help_for([Role.VERIFIKATOR])
    assert "#publik" not in help_for([Role.KEPALA_DESA])
