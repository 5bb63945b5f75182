"""Signed reply addresses: made by mailflow, verified without a database, unforgeable."""

from mailflow.core.reply_address import signed_address, verify_address

BASE = "pengaduan@klero.desa.id"
SECRET = b"rahasia-desa-klero"


def test_round_trip() -> None:
    address = signed_address(BASE, "ADU-2026-00042", SECRET)
    assert address.startswith("pengaduan+adu-2026-00042.")
    assert address.endswith("@klero.desa.id")
    assert verify_address(address, BASE, SECRET) == "ADU-2026-00042"
    assert verify_address(address.upper(), BASE, SECRET) == "ADU-2026-00042"


def test_tag_of_another_ticket_is_refused() -> None:
    other = signed_address(BASE, "ADU-2026-00041", SECRET)
    forged = other.replace("adu-2026-00041", "adu-2026-00042")
    assert verify_address(forged, BASE, SECRET) is None


def test_other_secret_or_domain_is_refused() -> None:
    address = signed_address(BASE, "ADU-2026-00042", SECRET)
    assert verify_address(address, BASE, b"lain") is None
    assert verify_address(address.replace("klero.desa.id", "evil.example"), BASE, SECRET) is None


def test_plain_and_malformed_addresses_are_refused() -> None:
    for address in (BASE, "pengaduan+adu-2026-00042@klero.desa.id", "x+y.z@klero.desa.id", ""):
        assert verify_address(address, BASE, SECRET) is None
