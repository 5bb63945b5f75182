"""Identity from free Indonesian text: labelled lines, inline numbers, checks and normalisation."""

import pytest

from mailflow.identity import extract_identity, nik_problem, normalise_phone

VALID_NIK = "3322114506890002"  # Jawa Tengah, woman born 5 June 1989


def test_the_usual_block() -> None:
    text = ("Nama: Siti Aminah\nNIK 3322114506890002\n"
            "Alamat : Dusun Krajan RT 02/RW 05, Desa Klero\nNo. HP: 0812-3456-7890\n\n"
            "Jalan di depan balai dusun berlubang.")
    result = extract_identity(text)
    assert result.identity.name == "Siti Aminah"
    assert result.identity.nik == VALID_NIK
    assert result.identity.nik_valid
    assert result.identity.address == "Dusun Krajan RT 02/RW 05, Desa Klero"
    assert result.identity.phone == "+6281234567890"
    assert result.description == "Jalan di depan balai dusun berlubang."


@pytest.mark.parametrize(
    "line",
    ["Nama: Budi Santoso", "nama lengkap : Budi Santoso", "NAMA PELAPOR = Budi Santoso",
     "- Nama: Budi Santoso", "**Nama**: Budi Santoso", "* Nama - Budi Santoso",
     "1. Nama: Budi Santoso", "Nama   Budi Santoso"],
)
def test_name_label_forms(line: str) -> None:
    assert extract_identity(line + "\nAir mati.").identity.name == "Budi Santoso"


@pytest.mark.parametrize(
    "line",
    ["NIK: 3322114506890002", "No. KTP 3322114506890002", "no ktp: 3322 1145 0689 0002",
     "Nomor Induk Kependudukan: 3322.1145.0689.0002", "NIK = 3322-1145-0689-0002"],
)
def test_nik_label_forms(line: str) -> None:
    assert extract_identity(line).identity.nik == VALID_NIK


@pytest.mark.parametrize(
    "line",
    ["No. HP: 081234567890", "HP 0812 3456 7890", "WA: +62 812-3456-7890", "WhatsApp 6281234567890",
     "No. WA: 0812.3456.7890", "Telp: 0812-3456-7890", "Nomor HP : +6281234567890"],
)
def test_phone_label_forms(line: str) -> None:
    assert extract_identity(line).identity.phone == "+6281234567890"


@pytest.mark.parametrize("line", ["Alamat: RT 03 RW 01 Dusun Klero", "Domisili: RT 03 RW 01 Dusun Klero",
                                  "alamat lengkap - RT 03 RW 01 Dusun Klero"])
def test_address_label_forms(line: str) -> None:
    assert extract_identity(line).identity.address == "RT 03 RW 01 Dusun Klero"


def test_inline_nik_and_phone_are_found_and_hidden_from_the_description() -> None:
    text = "Saya Budi, NIK 3322 1145 0689 0002, hp 081234567890, lampu jalan di RT 3 mati."
    result = extract_identity(text)
    assert result.identity.nik == VALID_NIK
    assert result.identity.phone == "+6281234567890"
    assert result.identity.name is None  # never guessed from a sentence
    assert "3322" not in result.description and "0812" not in result.description
    assert "lampu jalan di RT 3 mati" in result.description


def test_labelled_short_nik_is_kept_with_its_problem() -> None:
    identity = extract_identity("NIK: 332211450689000").identity
    assert identity.nik == "332211450689000"
    assert identity.nik_problem == "NIK harus 16 digit angka"
    assert not identity.nik_valid


@pytest.mark.parametrize(
    ("nik", "problem"),
    [
        (VALID_NIK, None),
        ("3322110506890002", None),  # a man born 5 June 1989
        ("3322117112990001", None),  # a woman born 31 December 1999 (31 + 40)
        ("9922114506890002", "kode wilayah pada NIK tidak dikenal"),
        ("3300114506890002", "kode kabupaten/kecamatan pada NIK tidak valid"),
        ("3322003206890002", "kode kabupaten/kecamatan pada NIK tidak valid"),
        ("3322113206890002", "tanggal lahir pada NIK tidak valid"),  # day 32
        ("3322117206890002", "tanggal lahir pada NIK tidak valid"),  # day 72 = 32 + 40
        ("3322110513890002", "tanggal lahir pada NIK tidak valid"),  # month 13
        ("3322113002890002", "tanggal lahir pada NIK tidak valid"),  # 30 February
        ("3322114506890000", "nomor urut pada NIK tidak valid"),
        ("33221145068900", "NIK harus 16 digit angka"),
        ("33221145O6890002", "NIK harus 16 digit angka"),
    ],
)
def test_nik_checks(nik: str, problem: str | None) -> None:
    assert nik_problem(nik) == problem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0812-3456-7890", "+6281234567890"), ("+62 812 3456 7890", "+6281234567890"),
     ("6281234567890", "+6281234567890"), ("(0298) 321456", "+62298321456"),
     ("12", None), ("bukan nomor", None), ("+1 202 555 0143", None), ("", None)],
)
def test_phone_normalisation(raw: str, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def test_empty_and_identity_free_text() -> None:
    assert extract_identity("").identity.name is None
    result = extract_identity("Sampah menumpuk di pinggir sungai sejak dua minggu.")
    assert result.identity.nik is None and result.identity.phone is None
    assert result.description == "Sampah menumpuk di pinggir sungai sejak dua minggu."


def test_empty_label_value_is_none() -> None:
    assert extract_identity("Nama:\nNIK:\nJalan rusak.").identity.name is None


def test_crlf_text() -> None:
    identity = extract_identity("Nama: Siti\r\nNIK: 3322114506890002\r\n").identity
    assert identity.name == "Siti" and identity.nik == VALID_NIK


def test_hostile_input_completes() -> None:
    line = "1 " * 100_000
    result = extract_identity(line + "\n" + "Nama: " + "x" * 100_000)
    assert result.identity.name is not None and len(result.identity.name) <= 500
