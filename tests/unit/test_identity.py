"""Identity from free Indonesian text: labelled lines, inline numbers, checks, normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflow.core.identity import (
    Extraction,
    Identity,
    extract_identity,
    nik_problem,
    normalise_phone,
    shapes,
)
from mailflow.core.identity.shapes import ACCOUNT_HIDDEN, EMAIL_HIDDEN, Found, email_spans
from mailflow.core.privacy import redact, scrub

VALID_NIK = "3322114506890002"  # Jawa Tengah, a woman born 5 June 1989 (day 05 + 40)
MALE_NIK = "3322110506890002"  # the same, a man
PHONE = "+6281234567890"
COMPLAINT = "Jalan di depan balai Dusun Krajan berlubang besar sejak dua minggu."

EXAMPLE = (
    "Nama: Siti Aminah\n"
    "NIK 3322114506890002\n"
    "Alamat : Dusun Krajan RT 02/RW 05, Desa Klero\n"
    "No. HP: 0812-3456-7890\n"
    "\n"
    f"{COMPLAINT}\n"
)


def identity_of(text: str) -> Identity:
    return extract_identity(text).identity


# --- the example from the brief -------------------------------------------------------------


def test_the_example_block_gives_every_field() -> None:
    assert identity_of(EXAMPLE) == Identity(
        name="Siti Aminah",
        nik=VALID_NIK,
        nik_problem=None,
        phone=PHONE,
        address="Dusun Krajan RT 02/RW 05, Desa Klero",
        email=None,
    )


def test_the_example_block_leaves_only_the_complaint_as_description() -> None:
    assert extract_identity(EXAMPLE).description == COMPLAINT


def test_extraction_and_identity_are_frozen() -> None:
    result = extract_identity(EXAMPLE)
    assert isinstance(result, Extraction)
    with pytest.raises(AttributeError):
        result.identity.name = "Budi"  # type: ignore[misc]


# --- label variants ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Nama: Budi Santoso",
        "Nama lengkap: Budi Santoso",
        "Nama Pelapor : Budi Santoso",
        "NAMA LENGKAP = Budi Santoso",
        "nama - Budi Santoso",
        "- Nama: Budi Santoso",
        "* Nama: Budi Santoso",
        "• Nama : Budi Santoso",
        "   Nama:Budi Santoso",
        "1. Nama: Budi Santoso",
        "a) Nama lengkap: Budi Santoso",
        "**Nama**: Budi Santoso",
        "**Nama:** Budi Santoso",
        "Nama: **Budi Santoso**",
        "> Nama: Budi Santoso",
        "Nama\t:\tBudi Santoso",
        "Nama (sesuai KTP): Budi Santoso",
        "Nama lengkap saya: Budi Santoso",
        "Nama   Budi Santoso",
        "Nama saya Budi Santoso",
    ],
)
def test_name_label_variants(line: str) -> None:
    assert identity_of(f"{line}\n{COMPLAINT}").name == "Budi Santoso"


@pytest.mark.parametrize(
    "line",
    [
        "NIK: 3322114506890002",
        "NIK 3322114506890002",
        "nik=3322114506890002",
        "NIK - 3322114506890002",
        "No. KTP: 3322114506890002",
        "No KTP 3322114506890002",
        "Nomor KTP: 3322114506890002",
        "Nomor Induk Kependudukan: 3322114506890002",
        "Nomor Induk Kependudukan (NIK) : 3322114506890002",
        "**NIK**: 3322114506890002",
        "- NIK : 3322114506890002",
        "NIK (sesuai KTP): 3322114506890002",
        "NIK saya: 3322114506890002",
        "NIK/No. KTP: 3322114506890002",
    ],
)
def test_nik_label_variants(line: str) -> None:
    identity = identity_of(f"{line}\n{COMPLAINT}")
    assert identity.nik == VALID_NIK
    assert identity.nik_valid


@pytest.mark.parametrize(
    "written",
    ["3322 1145 0689 0002", "3322.1145.0689.0002", "3322-1145-0689-0002", "33221145 06890002"],
)
def test_labelled_nik_with_separators_is_accepted(written: str) -> None:
    assert identity_of(f"NIK: {written}").nik == VALID_NIK


@pytest.mark.parametrize(
    "line",
    [
        "Alamat: Dusun Krajan RT 02/RW 05",
        "Alamat lengkap : Dusun Krajan RT 02/RW 05",
        "ALAMAT = Dusun Krajan RT 02/RW 05",
        "Alamat rumah: Dusun Krajan RT 02/RW 05",
        "Domisili: Dusun Krajan RT 02/RW 05",
        "Tempat tinggal - Dusun Krajan RT 02/RW 05",
        "**Alamat**: Dusun Krajan RT 02/RW 05.",
        "Alamat Dusun Krajan RT 02/RW 05",
        "Alamat saya di Dusun Krajan RT 02/RW 05",
    ],
)
def test_address_label_variants(line: str) -> None:
    assert identity_of(f"{line}\n{COMPLAINT}").address == "Dusun Krajan RT 02/RW 05"


@pytest.mark.parametrize(
    "line",
    [
        "No. HP: 0812-3456-7890",
        "No HP 0812 3456 7890",
        "No.HP:081234567890",
        "Nomor HP : 0812.3456.7890",
        "HP: 081234567890",
        "HP 0812-3456-7890",
        "Hp. 0812-3456-7890",
        "Telp: 0812-3456-7890",
        "Telepon: +62 812 3456 7890",
        "No. Telp: 0812-3456-7890",
        "WA: +62 812-3456-7890",
        "WhatsApp 6281234567890",
        "No. WA: 0812 3456 7890",
        "Nomor WA = 0812-3456-7890",
        "No. HP/WA: 0812-3456-7890",
        "HP (WA aktif): 0812-3456-7890",
        "Nomor HP yang bisa dihubungi: 0812-3456-7890",
        "WA 0812-3456-7890 (aktif)",
    ],
)
def test_phone_label_variants(line: str) -> None:
    assert identity_of(f"{line}\n{COMPLAINT}").phone == PHONE


def test_labelled_landline_is_normalised() -> None:
    assert identity_of("Telp: (0298) 321456").phone == "+62298321456"


def test_second_number_on_a_phone_line_is_used_when_the_first_is_broken() -> None:
    assert identity_of("No. HP: 0812-345 / 0857-1234-5678").phone == "+6285712345678"


# --- numbers without a label ------------------------------------------------------------------


def test_inline_sentence_gives_nik_and_phone() -> None:
    text = ("Saya Budi Santoso, NIK 3322 1145 0689 0002, tinggal di RT 03 RW 01, "
            "bisa dihubungi di 0812-3456-7890. Lampu jalan di gang Melati mati.")
    identity = identity_of(text)
    assert (identity.nik, identity.phone) == (VALID_NIK, PHONE)


def test_inline_self_introduction_gives_name_and_address() -> None:
    # Issue 7 item 6: a name given in a sentence is a name given; asking again for it tells
    # the resident that nobody read the complaint.
    identity = identity_of("Saya Budi Santoso, tinggal di RT 03 RW 01 Dusun Krajan, mau melapor.")
    assert identity.name == "Budi Santoso"
    assert identity.address == "RT 03 RW 01 Dusun Krajan"


@pytest.mark.parametrize(
    "written", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "+62-812-3456-7890",
                "0812 3456 7890"],
)
def test_unlabelled_mobile_number_is_found(written: str) -> None:
    assert identity_of(f"Mohon segera ditindaklanjuti, nomor saya {written}. Terima kasih.").phone \
        == PHONE


def test_unlabelled_nik_and_the_name_in_a_signature_are_found() -> None:
    text = f"{COMPLAINT}\n\nHormat saya,\nSiti Aminah\n3322114506890002"
    identity = identity_of(text)
    assert identity.nik == VALID_NIK
    assert identity.name == "Siti Aminah"


def test_inline_numbers_are_hidden_in_the_description() -> None:
    text = "Saya Budi, NIK 3322114506890002, HP 081234567890, lampu jalan di RT 3 mati."
    description = extract_identity(text).description
    assert description == ("Saya Budi, NIK [NIK disembunyikan], HP [nomor disembunyikan], "
                           "lampu jalan di RT 3 mati.")


def test_nik_group_that_looks_like_a_mobile_prefix_is_not_a_phone() -> None:
    # District 08 and a birth day of 12 put "0812" inside the NIK.
    assert identity_of("NIK saya 3322 0812 0689 0002 mohon dibantu").phone is None


def test_valid_unlabelled_nik_is_preferred_over_another_sixteen_digit_number() -> None:
    text = "Nomor pelanggan 1234567890123456 tidak bisa dipakai. NIK 3322114506890002."
    assert identity_of(text).nik == VALID_NIK


def test_invalid_unlabelled_nik_is_still_reported_with_its_problem() -> None:
    identity = identity_of("Saya warga Klero, NIK 3322113206890002, mohon dibantu.")
    assert identity.nik == "3322113206890002"
    assert identity.nik_problem == "tanggal lahir pada NIK tidak valid"


def test_labelled_kk_number_is_not_taken_for_a_nik() -> None:
    result = extract_identity(f"No. KK: 3322110101100001\n{COMPLAINT}")
    assert result.identity.nik is None
    assert result.description == COMPLAINT


def test_kk_number_introduced_in_a_sentence_is_skipped() -> None:
    text = "No KK 3322110101100001 dan NIK 3322114506890002, jalan rusak."
    assert identity_of(text).nik == VALID_NIK


# --- labelled values that are wrong, empty or garbage ----------------------------------------


def test_labelled_fifteen_digit_nik_is_kept_with_its_problem() -> None:
    identity = identity_of("NIK: 332211450689000")
    assert identity.nik == "332211450689000"
    assert identity.nik_problem == "NIK harus 16 digit angka"
    assert not identity.nik_valid


def test_labelled_seventeen_digit_nik_is_kept_with_its_problem() -> None:
    identity = identity_of("No. KTP: 3322 1145 0689 0002 1")
    assert identity.nik == "33221145068900021"
    assert identity.nik_problem == "NIK harus 16 digit angka"


def test_labelled_invalid_nik_wins_over_an_unlabelled_valid_one() -> None:
    identity = identity_of("NIK: 9922114506890002\nNomor lain 3322114506890002")
    assert identity.nik == "9922114506890002"
    assert identity.nik_problem == "kode wilayah pada NIK tidak dikenal"


@pytest.mark.parametrize(
    "text",
    ["Nama:\nNIK:\nAlamat:\nNo. HP:\n", "Nama : -\nNIK : -\nAlamat : -\nHP : -\n",
     "**Nama**: ____\n**NIK**: ....\n"],
)
def test_empty_labelled_fields_stay_none(text: str) -> None:
    assert identity_of(text) == Identity()


@pytest.mark.parametrize(
    "value",
    ["12345", "rahasia", "Tidak mau disebutkan", "saya tidak mau menyebutkan nama", "-",
     "budi@warga.example", "xxx", "[isi nama]", "Hamba Allah"],
)
def test_garbage_name_is_none(value: str) -> None:
    assert identity_of(f"Nama: {value}\n{COMPLAINT}").name is None


@pytest.mark.parametrize(
    ("line", "field"),
    [("NIK: belum punya KTP", "nik"), ("No. HP: tidak punya", "phone"),
     ("No. HP: 12345", "phone"), ("Alamat: -", "address"), ("Alamat: 02/05", "address"),
     ("Alamat: tidak ada", "address")],
)
def test_garbage_labelled_value_is_none(line: str, field: str) -> None:
    assert getattr(identity_of(f"{line}\n{COMPLAINT}"), field) is None


def test_garbage_labelled_line_is_still_dropped_from_the_description() -> None:
    assert extract_identity(f"NIK: belum punya KTP\n{COMPLAINT}").description == COMPLAINT


def test_first_usable_labelled_value_wins() -> None:
    text = "Nama: -\nNama: Siti Aminah\nNama: Budi Santoso\n"
    assert identity_of(text).name == "Siti Aminah"


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "name"),
    [("Nama: Siti Aminah.", "Siti Aminah"), ("Nama: Siti Aminah,", "Siti Aminah"),
     ("Nama: Siti Aminah;", "Siti Aminah"), ("Nama: Siti Aminah !", "Siti Aminah"),
     ("Nama: Hj. Siti Aminah, S.Pd.", "Hj. Siti Aminah, S.Pd")],
)
def test_trailing_punctuation_is_stripped_from_names(line: str, name: str) -> None:
    assert identity_of(line).name == name


@pytest.mark.parametrize("name", ["siti aminah", "SITI AMINAH", "Siti aminah", "I Made Ayu"])
def test_name_capitalisation_is_kept_as_written(name: str) -> None:
    assert identity_of(f"Nama: {name}").name == name


def test_name_keeps_apostrophes_and_drops_a_remark_in_brackets() -> None:
    assert identity_of("Nama: Ma'ruf   Hidayat (Ketua RT 03)").name == "Ma'ruf Hidayat"


def test_values_stop_at_the_end_of_the_line() -> None:
    assert identity_of("Nama: Siti\nAminah tinggal di Dusun Krajan").name == "Siti"


def test_several_labelled_fields_on_one_line_are_split() -> None:
    result = extract_identity(f"Nama: Budi Santoso, NIK: 3322114506890002, HP: 081234567890\n"
                              f"{COMPLAINT}")
    identity = result.identity
    assert (identity.name, identity.nik, identity.phone) == ("Budi Santoso", VALID_NIK, PHONE)
    assert result.description == COMPLAINT


def test_email_is_left_for_the_caller() -> None:
    assert identity_of("Nama: Siti\nEmail: siti@warga.example\n").email is None


# --- sentences that only look like labels ------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Nama-nama penerima BLT di RT 03 tidak sesuai data.",
        "Namanya tidak tercantum di daftar penerima bantuan.",
        "Alamat tersebut sudah lama tidak diperbaiki.",
        "HP saya hilang waktu banjir kemarin.",
        "Telepon kantor desa tidak pernah diangkat.",
        "Wa'alaikumsalam, terima kasih atas balasannya.",
        "Nama saya budi dan saya mau melapor soal jalan.",
        "Nama Desa Klero tertulis salah di papan.",
        "Nama ibu: Sumini",
        "KTP saya hilang waktu banjir.",
    ],
)
def test_complaint_sentences_starting_with_label_words_are_kept(line: str) -> None:
    result = extract_identity(line)
    assert result.description == line
    assert result.identity.name is None
    assert result.identity.address is None


def test_sentence_starting_with_saya_and_a_name_gives_the_name() -> None:
    assert identity_of("Saya Budi Santoso mau melapor jalan rusak.").name == "Budi Santoso"


@pytest.mark.parametrize(
    "text",
    ["Saya mau melapor jalan rusak.", "Saya Sangat kecewa dengan pelayanan kantor desa.",
     "Saya Mendapat bantuan yang tidak sesuai.", "Saya Warga Dusun Krajan ingin melapor.",
     "Saya Ketua RT 03 melaporkan jalan rusak.", "Saya Mohon segera diperbaiki.",
     "Saya Bersama Warga Lain Sudah Berkali Kali Melapor.", "Nama saya budi dan saya mau melapor."],
)
def test_sentences_after_saya_that_name_nobody_give_no_name(text: str) -> None:
    assert identity_of(text).name is None


# --- description --------------------------------------------------------------------------------


def test_description_keeps_the_complaint_around_identity_lines() -> None:
    text = ("Assalamualaikum, saya mau melapor.\n\n"
            "Nama: Siti Aminah\nNIK: 3322114506890002\n\n"
            "Lampu jalan di gang Melati mati sejak seminggu.\n"
            "Mohon segera diperbaiki.\n")
    assert extract_identity(text).description == (
        "Assalamualaikum, saya mau melapor.\n\n"
        "Lampu jalan di gang Melati mati sejak seminggu.\nMohon segera diperbaiki."
    )


def test_description_collapses_blank_line_runs_and_is_stripped() -> None:
    text = "\n\n  Paragraf satu.\n\n\n   \n\nNama: Siti\n\n\nParagraf dua.\n\n\n"
    assert extract_identity(text).description == "Paragraf satu.\n\nParagraf dua."


def test_crlf_text_is_handled() -> None:
    result = extract_identity("Nama: Siti Aminah\r\nNIK: 3322114506890002\r\n\r\nAir mati.\r\n")
    assert (result.identity.name, result.identity.nik) == ("Siti Aminah", VALID_NIK)
    assert result.description == "Air mati."


@pytest.mark.parametrize("text", ["", "   ", "\n\n\r\n", "\t"])
def test_empty_text_gives_nothing(text: str) -> None:
    assert extract_identity(text) == Extraction(Identity(), "")


def test_text_without_identity_is_all_description() -> None:
    text = "Sampah menumpuk di pinggir sungai sejak dua minggu.\nBaunya sampai ke rumah warga."
    result = extract_identity(text)
    assert result.identity == Identity()
    assert result.description == text


# --- NIK checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nik", "problem"),
    [
        ("33221145068900", "NIK harus 16 digit angka"),
        ("332211450689000", "NIK harus 16 digit angka"),
        ("33221145068900021", "NIK harus 16 digit angka"),
        ("33221145O6890002", "NIK harus 16 digit angka"),
        ("3322 1145 0689 0002", "NIK harus 16 digit angka"),
        ("\uff13\uff13\uff12\uff12114506890002", "NIK harus 16 digit angka"),  # full-width
        ("", "NIK harus 16 digit angka"),
        ("3300114506890002", "kode kabupaten/kecamatan pada NIK tidak valid"),
        ("3322004506890002", "kode kabupaten/kecamatan pada NIK tidak valid"),
        ("3322113206890002", "tanggal lahir pada NIK tidak valid"),  # day 32
        ("3322117206890002", "tanggal lahir pada NIK tidak valid"),  # day 72 = 32 + 40
        ("3322110006890002", "tanggal lahir pada NIK tidak valid"),  # day 0
        ("3322114006890002", "tanggal lahir pada NIK tidak valid"),  # day 40 = 0 + 40
        ("3322110513890002", "tanggal lahir pada NIK tidak valid"),  # month 13
        ("3322110500890002", "tanggal lahir pada NIK tidak valid"),  # month 0
        ("3322113002890002", "tanggal lahir pada NIK tidak valid"),  # 30 February
        ("3322112902010002", "tanggal lahir pada NIK tidak valid"),  # 29 Feb 1901 and 2001
        ("3322114506890000", "nomor urut pada NIK tidak valid"),
    ],
)
def test_nik_problems(nik: str, problem: str) -> None:
    assert nik_problem(nik) == problem


@pytest.mark.parametrize("province", ["00", "10", "20", "37", "54", "66", "77", "90", "97", "99"])
def test_unknown_province_code_is_rejected(province: str) -> None:
    assert nik_problem(province + VALID_NIK[2:]) == "kode wilayah pada NIK tidak dikenal"


@pytest.mark.parametrize(
    "province",
    ["11", "19", "21", "31", "36", "51", "53", "61", "65", "71", "76", "81", "82",
     "91", "92", "93", "94", "95", "96"],
)
def test_every_real_province_code_is_accepted(province: str) -> None:
    assert nik_problem(province + VALID_NIK[2:]) is None


@pytest.mark.parametrize(
    "nik",
    [
        MALE_NIK,
        VALID_NIK,  # 45 = 5 + 40
        "3322117112990001",  # 71 = 31 + 40: a woman born 31 December 1999
        "3322114101000001",  # 41 = 1 + 40: a woman born 1 January 2000
        "3322116902000001",  # 69 = 29 + 40: 29 February 2000
        "3322112902960001",  # a man born 29 February 1996
        "3322110101250001",  # born 2025
    ],
)
def test_plausible_niks_have_no_problem(nik: str) -> None:
    assert nik_problem(nik) is None


def test_nik_valid_needs_a_nik_without_a_problem() -> None:
    assert Identity(nik=VALID_NIK).nik_valid
    assert not Identity().nik_valid
    assert not Identity(nik="123", nik_problem="NIK harus 16 digit angka").nik_valid


# --- phone normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", PHONE),
        ("0812 3456 7890", PHONE),
        ("0812.3456.7890", PHONE),
        ("+62 812 3456 7890", PHONE),
        ("+62-812-3456-7890", PHONE),
        ("+62 (812) 3456-7890", PHONE),
        ("+62 0812 3456 7890", PHONE),
        ("6281234567890", PHONE),
        ("62 812 3456 7890", PHONE),
        ("  0812-3456-7890 (WA)  ", PHONE),
        ("0857 1234 5678", "+6285712345678"),
        ("(0298) 321456", "+62298321456"),
        ("0298-321456", "+62298321456"),
        ("(021) 555-1234", "+62215551234"),
        ("+60 12-345 6789", "+60123456789"),
    ],
)
def test_phone_is_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "12", "bukan nomor", "0812-345", "081234567890123456789", "08-08-08",
     "+", "()", "1 " * 100_000],
)
def test_garbage_phone_is_none(raw: str) -> None:
    assert normalise_phone(raw) is None


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 100_000,  # a 200 KB line of digits and spaces
        "1" * 200_000,
        "3322 1145 0689 " * 15_000,
        "0 8 " * 50_000,
        "*" * 200_000,
        "(" * 200_000 + ")",
        ">" * 200_000 + " Nama: Siti",
        "Nama: " + "x" * 200_000,
        "NIK: " + "1 " * 100_000,
        "No. HP: " + "0-" * 100_000,
        ("Nama: a" + " " * 900 + "b\n") * 500,
        "Nama: Budi, NIK: 1, HP: 2, Alamat: x, " * 5_000,
        (COMPLAINT + " Hubungi 0812 3456 7890 atau NIK 3322114506890002.\n") * 8_000,
    ],
    ids=["digit-spaces", "digits", "nik-groups", "zero-eight", "stars", "brackets", "quotes",
         "long-name", "long-nik", "long-phone", "padded-values", "repeated-labels", "one-megabyte"],
)
def test_hostile_input_completes_with_bounded_values(text: str) -> None:
    identity = extract_identity(text).identity
    assert identity.name is None or len(identity.name) <= 80
    assert identity.address is None or len(identity.address) <= 300
    assert identity.nik is None or len(identity.nik) <= 20


def test_over_long_labelled_name_is_dropped() -> None:
    assert identity_of("Nama: " + "Budi " * 1_000).name is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 .-+()\n\r:*NamIKHPWAlt")), max_size=300))
def test_any_text_gives_well_formed_identity(text: str) -> None:
    result = extract_identity(text)
    identity = result.identity
    assert identity.nik is None or identity.nik.isdigit()
    assert (identity.nik_problem is None) == (identity.nik is None or nik_problem(identity.nik)
                                              is None)
    assert identity.phone is None or identity.phone.startswith("+")
    assert result.description == result.description.strip()
    assert "\r" not in result.description


# --- hiding identity from staff ----------------------------------------------------------------


def test_redact_hides_numbers_but_keeps_words() -> None:
    assert redact("NIK 3322114506890002, HP +62 812 3456 7890, jalan rusak") == (
        "NIK [NIK disembunyikan], HP [nomor disembunyikan], jalan rusak"
    )


def test_scrub_replaces_known_name_address_and_email() -> None:
    identity = Identity(name="Siti Aminah", address="Dusun Krajan RT 02",
                        email="siti@warga.example")
    text = "Bu siti aminah dari Dusun Krajan RT 02 (siti@warga.example) melapor."
    assert scrub(text, identity) == (
        "Bu [nama disembunyikan] dari [alamat disembunyikan] ([email disembunyikan]) melapor."
    )


def _every_span_by_the_patterns_alone(text: str, keep: frozenset[str]) -> list[Found]:
    """What email_spans finds when each pattern scans the whole text (before the literal
    checks that skip a pattern when the text cannot hold a match)."""
    found = [Found(m.start(), m.end(), EMAIL_HIDDEN) for m in shapes._EMAIL.finditer(text)
             if m.group().lower() not in keep]
    return found + [Found(m.start(), m.end(), ACCOUNT_HIDDEN)
                    for pattern in (shapes._PROFILE, shapes._HANDLE) for m in pattern.finditer(text)]


# Letters of the patterns' literals, in both cases, whole literals, and the characters that
# match a letter under IGNORECASE without lowering to it (none of these literals' letters).
_LINKY = st.lists(st.sampled_from(
    [*"abtmoceAMOCET.@/[](){}_ -", "AT", "at", "dot", ".com/", ".ME/", "facebook", "t.me/",
     "İ", "ſ", "\u212a"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_LINKY)
def test_skipping_a_pattern_by_its_literals_never_loses_a_match(text: str) -> None:
    keep = frozenset({"kasi@desa.test"})
    assert list(email_spans(text, keep)) == _every_span_by_the_patterns_alone(text, keep)


@pytest.mark.parametrize("text", ["budi [AT] warga [DOT] example", "Budi (at) warga.example",
                                  "FACEBOOK.COM/budi.s", "t.ME/budi", "@budi_s di IG"])
def test_addresses_and_accounts_in_capitals_and_words_are_still_found(text: str) -> None:
    assert list(email_spans(text)) == _every_span_by_the_patterns_alone(text, frozenset())
    assert list(email_spans(text))
