"""Redaction for roles without identity rights, one identity form at a time: it fails closed,
and the complaint stays readable."""

from __future__ import annotations

import pytest

from mailflow.core.identity import Identity, extract_identity
from mailflow.core.privacy import Redactor, redactor_for
from tests.unit.plan_support import ADMIN, INBOX, KASI, config

BUDI = Identity(name="Budi Santoso", nik="3322011203850001", phone="+62298321456",
                address="Dusun Krajan RT 01/RW 03", email="budi.s@warga.example")
ROAD = "Jalan di depan balai dusun Krajan berlubang besar sejak bulan lalu"


def hide(text: str, identity: Identity = BUDI) -> str:
    return Redactor(identity).text(text)


# -- the reporter's own name and address, wherever they recur ---------------------------------

@pytest.mark.parametrize(
    "text",
    ["Mohon Pak Budi dibantu.", "budi santoso sudah lapor", "BUDI  SANTOSO melapor", "Bu Santoso",
     "Budi-Santoso", "rumah keluarga Santoso"],
)
def test_the_reporters_name_is_hidden_whole_and_word_by_word(text: str) -> None:
    hidden = hide(text)
    assert "budi" not in hidden.casefold() and "santoso" not in hidden.casefold()
    assert "[nama disembunyikan]" in hidden


@pytest.mark.parametrize(
    "text",
    ["tinggal di Dusun Krajan RT 01/RW 03 sejak lahir", "lampu di RT 1 mati", "RT.001 RW.003",
     "depan rumah RT 01"],
)
def test_the_reporters_address_and_its_rt_rw_are_hidden(text: str) -> None:
    hidden = hide(text)
    for piece in ("RT 01", "RT 1", "RT.001", "RW 03", "RW.003", "RT 01/RW 03"):
        assert piece not in hidden
    assert "[alamat disembunyikan]" in hidden


def test_street_and_house_number_of_the_address_are_hidden_elsewhere() -> None:
    identity = Identity(name="Wahyu Nugroho", address="Jl. Kenanga No. 7, Dusun Krajan")
    hidden = hide("Got di Jl Kenanga depan no. 7 mampet.", identity)
    assert "Kenanga" not in hidden and "7" not in hidden
    assert "Got di" in hidden and "mampet" in hidden


def test_a_hamlet_alone_stays_because_it_is_where_the_problem_is() -> None:
    assert hide(ROAD) == ROAD


# -- names and addresses in prose, also when extraction could not read them -------------------

@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Nama saya Joko Widodo, warga RT 03. " + ROAD, "Joko Widodo"),
        ("Saya Sri Lestari warga RT 02 ingin melapor. " + ROAD, "Sri Lestari"),
        ("Perkenalkan, saya Bambang Sutrisno. " + ROAD, "Bambang Sutrisno"),
        ("nama saya budi dan saya mau melapor. " + ROAD, "budi"),
        ("saya sri lestari warga rt 2 mau melapor. " + ROAD, "sri lestari"),
        ("anak saya Rina sakit karena baunya. " + ROAD, "Rina"),
        ("a.n. Slamet Riyadi. " + ROAD, "Slamet Riyadi"),
        ("Saya tinggal di Perum Griya Asri Blok C-5. " + ROAD, "Griya Asri Blok C-5"),
        ("warga RT 04/RW 02 Dusun Lor. " + ROAD, "RT 04/RW 02"),
        ("rumah saya di Gang Mawar III. " + ROAD, "Mawar III"),
    ],
)
def test_prose_identity_of_anyone_is_hidden(text: str, secret: str) -> None:
    hidden = hide(text, Identity())
    assert secret not in hidden
    assert ROAD in hidden


@pytest.mark.parametrize(
    "text",
    ["Saya sangat kecewa, lampu jalan mati.", "Saya mau melapor jalan rusak.",
     "Saya melihat sampah dibuang di sungai.", "Saya sudah lapor ke RT tapi belum ada tanggapan.",
     "Rumah saya kebanjiran setiap hujan.", "Saya sampaikan keluhan warga.",
     "Banyak warga Dusun Krajan mengeluh."],
)
def test_ordinary_sentences_after_saya_stay(text: str) -> None:
    assert hide(text, Identity()) == text


# -- signature blocks ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "signature",
    ["Hormat saya,\nRatna Kusuma\nRT 01 Dusun Lor", "Salam,\n\nRatna Kusuma\n0298-321456",
     "Terima kasih.\nRatna Kusuma (warga RT 01)", "Hormat saya, Ratna Kusuma",
     "Wassalamu'alaikum Wr. Wb.\nPelapor\nRatna Kusuma\nRT 01 Dusun Lor",
     "-- \nRatna Kusuma\nIbu rumah tangga, RT 01 Dusun Lor", "Ratna Kusuma\nRT 01 Dusun Lor"],
)
def test_signature_blocks_are_hidden_whole(signature: str) -> None:
    hidden = hide(f"{ROAD}.\n\n{signature}\n", Identity())
    for secret in ("Ratna", "Kusuma", "RT 01", "Dusun Lor", "321456"):
        assert secret not in hidden, (secret, hidden)
    assert hidden.startswith(ROAD)


def test_a_sentence_after_a_closing_is_not_taken_for_a_signature() -> None:
    text = (f"{ROAD}.\nTerima kasih.\nKalau hujan deras jalan ini sama sekali tidak bisa dilewati "
            "oleh anak sekolah.")
    assert hide(text, Identity()) == text


# -- numbers, in any grouping --------------------------------------------------------------------

@pytest.mark.parametrize(
    "written",
    ["3322011203850001", "33.22.01.120385.0001", "3322 0112 0385 0001", "3322-0112-0385-0001",
     "(0298) 321456", "0298-321456", "+62 298 321456", "0812-3456-7890", "+62 812 3456 7890",
     "6281234567890", "0812 3456 7890", "telp 321456"],
)
def test_nik_and_phone_numbers_in_any_grouping_are_hidden(written: str) -> None:
    hidden = hide(f"Hubungi {written} kalau perlu. {ROAD}", Identity())
    digits = "".join(ch for ch in written if ch.isdigit())
    assert digits[-6:] not in "".join(ch for ch in hidden if ch.isdigit())
    assert ROAD in hidden


def test_dates_times_and_amounts_stay() -> None:
    text = "Sejak 05/06/2026 pukul 19.30 air mati; iuran Rp 25.000 per bulan untuk 12 KK."
    assert hide(text, Identity()) == text


# -- email addresses and accounts ------------------------------------------------------------------

@pytest.mark.parametrize(
    "written",
    ["rina.w@mail.example", "RINA.W@MAIL.EXAMPLE", "rina [at] mail.example", "rina(at)mail(dot)example",
     "@rina_wulan", "instagram.com/rina.wulan", "https://www.facebook.com/rina.wulan",
     "wa.me/6281234567890"],
)
def test_any_email_address_or_account_is_hidden(written: str) -> None:
    hidden = hide(f"Adik saya bisa dihubungi: {written} . {ROAD}", Identity())
    assert "rina" not in hidden.casefold() and "6281234567890" not in hidden


def test_staff_and_inbox_addresses_stay_in_notes() -> None:
    redactor = redactor_for(config(), BUDI)
    note = f"- -> {KASI}; salinan ke {ADMIN} dan {INBOX}; pelapor {BUDI.email}"
    assert redactor.text(note) == (f"- -> {KASI}; salinan ke {ADMIN} dan {INBOX}; pelapor "
                                   "[email disembunyikan]")


# -- labelled lines -------------------------------------------------------------------------------

def test_form_lines_and_other_ktp_fields_are_hidden_whole() -> None:
    text = ("Nama: Ratna Kusuma\nNIK: 3322014506900003\nTTL: Semarang, 05-06-1990\n"
            f"Pekerjaan: Pedagang\nEmail: ratna@mail.example\n\n{ROAD}.")
    hidden = hide(text, Identity())
    assert hidden == f"[data pelapor disembunyikan]\n\n{ROAD}."


# -- subjects and file names: only known words survive ---------------------------------------------

@pytest.mark.parametrize(
    ("subject", "shown"),
    [
        ("Pengaduan Masyarakat - Budi Santoso, Dusun Krajan",
         "Pengaduan Masyarakat - [nama disembunyikan], Dusun [disembunyikan]"),
        ("Pengaduan Masyarakat - Ratna Kusuma RT 04", "Pengaduan Masyarakat - [disembunyikan] RT "
         "[disembunyikan]"),
        ("Pengaduan Masyarakat - Budi RT 01", "Pengaduan Masyarakat - [nama disembunyikan] "
         "[alamat disembunyikan]"),
        ("Re: Pengaduan Masyarakat: lampu jalan mati", "Re: Pengaduan Masyarakat: lampu jalan mati"),
        ("PENGADUAN MASYARAKAT 3322011203850001", "PENGADUAN MASYARAKAT [NIK disembunyikan]"),
        ("Pengaduan Masyarakat (0298) 321456 atas nama Sutrisno",
         "Pengaduan Masyarakat [nomor disembunyikan] atas nama [nama disembunyikan]"),
        ("Pengaduan Masyarakat dari ratna@mail.example", "Pengaduan Masyarakat dari "
         "[email disembunyikan]"),
    ],
)
def test_subjects_keep_only_known_words(subject: str, shown: str) -> None:
    assert Redactor(BUDI).subject(subject) == shown


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("KTP_Budi_Santoso_3322011203850001.jpg", "KTP_[disembunyikan].jpg"),
        ("KTPBudiSantoso.png", "KTP_[disembunyikan].png"),
        ("scan ktp ratna kusuma.pdf", "scan_ktp_[disembunyikan].pdf"),
        ("foto_jalan_rusak.jpg", "foto_jalan_rusak.jpg"),
        ("IMG_20261127_101530.jpg", "IMG_20261127_101530.jpg"),
        ("WhatsApp Image 2026-11-27 at 10.15.30.jpeg", "WhatsApp Image 2026-11-27 at 10.15.30.jpeg"),
        ("0812-3456-7890.jpg", "[disembunyikan].jpg"),
        ("budi.jpg", "[disembunyikan].jpg"),
        ("lampiran.exe.txt", "lampiran_[disembunyikan].txt"),
    ],
)
def test_attachment_names_keep_only_known_words(name: str, shown: str) -> None:
    assert Redactor(BUDI).filename(name) == shown


# -- the complaint survives -------------------------------------------------------------------------

def test_a_whole_complaint_keeps_its_substance() -> None:
    body = ("Assalamualaikum Wr. Wb.\nNama saya Ratna Kusuma, warga RT 01/RW 03 Dusun Lor.\n"
            "NIK 33.22.01.450690.0003, HP 0857-1122-3344.\n\n"
            "Lampu penerangan jalan di perempatan dekat masjid mati sejak Jumat 05/06/2026, "
            "jalan menjadi sangat gelap. Sudah dua motor jatuh.\n\n"
            "Hormat saya,\nRatna Kusuma\nRT 01 Dusun Lor\n")
    extraction = extract_identity(body)
    shown = Redactor(extraction.identity).text(extraction.description)
    for secret in ("Ratna", "Kusuma", "RT 01", "Dusun Lor", "450690", "1122"):
        assert secret not in shown, secret
    assert ("Lampu penerangan jalan di perempatan dekat masjid mati sejak Jumat 05/06/2026, "
            "jalan menjadi sangat gelap. Sudah dua motor jatuh.") in shown


# -- hostile input --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    ["1 " * 50_000, "saya " * 20_000, "Saya Budi " * 10_000, "Hormat saya,\n" * 8_000,
     "Hormat saya,\nBudi\n" * 5_000, "a" * 100_000, "a@" * 50_000, "Nama: x\n" * 12_000,
     "tinggal di RT 1 " * 6_000, "(" * 100_000, "Budi " * 20_000],
    ids=["digits", "saya", "saya-names", "closings", "signatures", "letters", "ats", "form-lines",
         "addresses", "brackets", "names"],
)
def test_hostile_text_is_redacted_in_bounded_time(text: str) -> None:
    # The parser caps a body at 100,000 characters; every rule is linear in it.
    redactor = Redactor(BUDI)
    shown = redactor.text(text)
    assert "Budi" not in shown and "3322011203850001" not in shown
    assert "Budi" not in redactor.subject(text[:1000])
    assert "Budi" not in redactor.filename(text[:300] + ".jpg")


# -- who may view identity ------------------------------------------------------------------------

def test_an_identity_view_names_the_os_user_and_the_staff_member() -> None:
    from mailflow.core.privacy import identity_view
    from mailflow.vocabulary import EventKind
    from tests.unit.plan_support import SEKDES

    cfg = config()
    alone = identity_view(cfg, "root", None, "mailflow show --with-identity")
    assert not isinstance(alone, str)
    assert (alone.kind, alone.actor, alone.auth) == (EventKind.IDENTITY_VIEWED, "os:root", "os_user")
    assert alone.note == "mailflow show --with-identity by OS user root"
    verifier = identity_view(cfg, "root", SEKDES.upper(), "mailflow show --with-identity")
    assert not isinstance(verifier, str)
    assert verifier.actor == SEKDES
    assert verifier.note.endswith(f"for {SEKDES}")


@pytest.mark.parametrize(("claimed", "reason"), [
    (KASI, "has no identity rights"), ("kades@klero.desa.id", "has no identity rights"),
    ("orang@lain.example", "is not configured staff"),
])
def test_an_identity_view_for_someone_without_rights_is_refused(claimed: str, reason: str) -> None:
    from mailflow.core.privacy import identity_view

    refusal = identity_view(config(), "root", claimed, "mailflow show --with-identity")
    assert isinstance(refusal, str) and reason in refusal
