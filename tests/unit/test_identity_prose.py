"""Names and addresses written in sentences and signatures, and numbers in any grouping."""

from __future__ import annotations

import pytest

from mailflow.core.identity import extract_identity
from mailflow.core.identity.shapes import redact_numbers
from mailflow.core.new_ticket import plan_new_ticket
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import Missing
from tests.unit.plan_support import RECEIVED, config, mail

COMPLAINT = "Lampu penerangan jalan di perempatan dekat masjid mati sejak Jumat."


# -- names in prose (issue 7 item 6) ---------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Nama saya Joko Widodo, warga RT 03. " + COMPLAINT, "Joko Widodo"),
        ("Nama saya adalah Joko Widodo. " + COMPLAINT, "Joko Widodo"),
        ("Saya Sri Lestari warga RT 02 ingin melapor. " + COMPLAINT, "Sri Lestari"),
        ("Perkenalkan, saya Bambang Sutrisno dari Dusun Lor. " + COMPLAINT, "Bambang Sutrisno"),
        ("Perkenalkan nama saya Dewi Anggraini. " + COMPLAINT, "Dewi Anggraini"),
        ("Dengan hormat, saya Agus Salim, mau melaporkan. " + COMPLAINT, "Agus Salim"),
        ("Assalamualaikum. Saya, Rudi Hartono, warga Dusun Krajan. " + COMPLAINT, "Rudi Hartono"),
        ("Saya yang bernama Yusuf bin Ahmad melaporkan. " + COMPLAINT, "Yusuf bin Ahmad"),
        ("Saya Ibu Suminah, warga RT 05. " + COMPLAINT, "Suminah"),
        ("Saya Hj. Siti Aminah dari RT 02. " + COMPLAINT, "Hj. Siti Aminah"),
    ],
)
def test_self_introductions_give_the_name(text: str, name: str) -> None:
    assert extract_identity(text).identity.name == name


@pytest.mark.parametrize(
    ("text", "name", "address"),
    [
        (f"{COMPLAINT}\n\nHormat saya,\nBudi Santoso\nRT 01 Dusun Lor\n", "Budi Santoso",
         "RT 01 Dusun Lor"),
        (f"{COMPLAINT}\n\nSalam,\n\nWahyu Nugroho\nJl. Kenanga No. 7, Dusun Krajan",
         "Wahyu Nugroho", "Jl. Kenanga No. 7, Dusun Krajan"),
        (f"{COMPLAINT}\nTerima kasih atas perhatiannya.\nEko Prasetyo (Ketua RT 04)\n",
         "Eko Prasetyo", None),
        (f"{COMPLAINT}\nWassalamu'alaikum Wr. Wb.\nPelapor\nRatna Sari\nRT 03/RW 02 Dukuh Wetan",
         "Ratna Sari", "RT 03/RW 02 Dukuh Wetan"),
        (f"{COMPLAINT}\n\nHormat saya, Hendra Gunawan", "Hendra Gunawan", None),
        (f"{COMPLAINT}\n\nHormat kami,\nHj. Siti Aminah, S.Pd\nDusun Krajan RT 02",
         "Hj. Siti Aminah", "Dusun Krajan RT 02"),
    ],
)
def test_signature_blocks_give_name_and_address(text: str, name: str, address: str | None) -> None:
    result = extract_identity(text)
    assert (result.identity.name, result.identity.address) == (name, address)
    assert name not in result.description
    assert result.description.startswith(COMPLAINT)


def test_labelled_name_wins_over_prose_and_signature() -> None:
    text = f"Nama: Siti Aminah\nSaya Budi Santoso melapor.\n{COMPLAINT}\nHormat saya,\nEko Prasetyo"
    assert extract_identity(text).identity.name == "Siti Aminah"


@pytest.mark.parametrize(
    "text",
    [
        f"{COMPLAINT}\nTerima kasih.\nMohon segera ditindaklanjuti.",
        f"{COMPLAINT}\nHormat saya,\nwarga yang peduli",
        f"{COMPLAINT}\nSalam,\nDesa Klero",
        "Atas nama warga RT 03 kami mohon jalan diperbaiki.",
        "Nama-nama penerima BLT tidak sesuai, saya Mohon dicek.",
    ],
)
def test_closings_and_phrases_without_a_name_give_none(text: str) -> None:
    assert extract_identity(text).identity.name is None


def test_a_name_in_prose_means_the_acknowledgement_does_not_ask_for_it() -> None:
    cfg = config()
    msg = mail("Nama saya Joko Widodo, warga RT 03 Dusun Krajan. NIK 3322110506890002.\n"
                  + COMPLAINT)
    plan = plan_new_ticket(msg, RECEIVED, "ADU-2026-00001", cfg, WorkCalendar())
    assert plan.identity.name == "Joko Widodo"
    assert Missing.NAME not in plan.ticket.missing
    [ack] = [o for o in plan.outgoing if o.kind == "ack"]
    assert "nama lengkap" not in ack.context["missing"]
    assert ack.context["salutation"] == "Bapak/Ibu Joko Widodo"


# -- numbers in any grouping ------------------------------------------------------------------

@pytest.mark.parametrize(
    "written",
    ["3322011203850001", "33.22.01.120385.0001", "3322 0112 0385 0001", "3322-0112-0385-0001",
     "33 22 01 12 03 85 0001", "3322.0112.0385.0001", "33220112 03850001"],
)
def test_a_nik_in_any_grouping_is_found_and_hidden(written: str) -> None:
    result = extract_identity(f"Saya warga biasa, NIK {written}. {COMPLAINT}")
    assert result.identity.nik == "3322011203850001"
    assert written not in result.description
    assert "[NIK disembunyikan]" in result.description


@pytest.mark.parametrize(
    ("written", "e164"),
    [("(0298) 321456", "+62298321456"), ("0298-321456", "+62298321456"),
     ("+62 298 321456", "+62298321456"), ("0298 321 456", "+62298321456"),
     ("(024) 7654321", "+62247654321"), ("+62-812-3456-7890", "+6281234567890")],
)
def test_landlines_and_mobiles_are_found_and_hidden(written: str, e164: str) -> None:
    result = extract_identity(f"{COMPLAINT} Bisa dihubungi di {written} setiap sore.")
    assert result.identity.phone == e164
    assert written not in result.description
    assert "[nomor disembunyikan]" in result.description


def test_a_short_number_after_a_phone_word_is_hidden() -> None:
    assert redact_numbers("telp rumah 321456, rek 12345678") == (
        "telp rumah [nomor disembunyikan], rek [nomor disembunyikan]")


@pytest.mark.parametrize(
    "text",
    ["sejak 05/06/2026 pukul 19.30", "tanggal 2026-11-27 jam 08:15", "bantuan Rp 600.000 per bulan",
     "RT 002/005 No. 12", "sudah 3 kali, 27/11/2026 19:30", "Rp 1.500.000 untuk 25 KK"],
)
def test_dates_amounts_and_house_numbers_stay(text: str) -> None:
    assert redact_numbers(text) == text
