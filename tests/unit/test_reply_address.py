"""Signed reply addresses: made by mailflow, verified without a database, unforgeable, and
each good only for the person, purpose and ticket it was issued for."""

import base64
import hashlib
import hmac

import pytest

from mailflow.config import ConfigError
from mailflow.core.reply_address import (
    MAX_LOCAL_PART,
    Purpose,
    SignedTag,
    holder_token,
    longest_local_part,
    read_address,
    signed_address,
)
from tests.unit.plan_support import config

BASE = "pengaduan@klero.desa.id"
SECRET = b"rahasia-desa-klero"
SEKDES = "sekdes@klero.desa.id"
KASI = "kasi@klero.desa.id"
SITI = "siti@warga.example"
STAFF = Purpose.STAFF


def _read(address: str, purpose: Purpose = STAFF, *candidates: str) -> SignedTag | None:
    return read_address(address, BASE, SECRET, purpose, candidates or (SEKDES,))


def test_round_trip_names_the_ticket_and_the_holder() -> None:
    address = signed_address(BASE, STAFF, SEKDES, SECRET, "ADU-2026-00042")
    token = holder_token(SEKDES, SECRET)
    assert address.startswith(f"pengaduan+adu-2026-00042.{token}.")
    assert address.endswith("@klero.desa.id")
    assert "sekdes" not in address  # the token names no one
    assert _read(address) == SignedTag(STAFF, "ADU-2026-00042", SEKDES)
    assert _read(address.upper()) == SignedTag(STAFF, "ADU-2026-00042", SEKDES)


def test_the_local_part_fits_rfc_5321() -> None:
    address = signed_address(BASE, STAFF, SEKDES, SECRET, "ADU-2026-000042")
    assert len(address.split("@")[0]) <= longest_local_part(BASE, "ADU") <= MAX_LOCAL_PART


def test_a_base_address_too_long_for_signed_addresses_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="local part is too long"):
        config(smtp={"from_address": "layanan.pengaduan.masyarakat.desa@klero.desa.id"})
    local = "layanan.pengaduan.masyarakat.desa"
    assert longest_local_part(f"{local}@klero.desa.id", "ADU") > MAX_LOCAL_PART


def test_an_address_issued_to_one_member_is_not_another_members() -> None:
    kasi = signed_address(BASE, STAFF, KASI, SECRET, "ADU-2026-00042")
    assert _read(kasi, STAFF, SEKDES) is None
    # Whose it was is learned only by offering the other staff as candidates.
    assert _read(kasi, STAFF, SEKDES, KASI) == SignedTag(STAFF, "ADU-2026-00042", KASI)


def test_a_token_swapped_for_the_senders_does_not_verify() -> None:
    kasi = signed_address(BASE, STAFF, KASI, SECRET, "ADU-2026-00042")
    forged = kasi.replace(holder_token(KASI, SECRET), holder_token(SEKDES, SECRET))
    assert _read(forged, STAFF, SEKDES, KASI) is None


def test_purposes_do_not_mix() -> None:
    for_siti = signed_address(BASE, Purpose.REPORTER, SITI, SECRET, "ADU-2026-00042")
    assert read_address(for_siti, BASE, SECRET, STAFF, (SITI,)) is None
    assert read_address(for_siti, BASE, SECRET, Purpose.REPORTER, (SITI,)) == SignedTag(
        Purpose.REPORTER, "ADU-2026-00042", SITI)
    record = signed_address(BASE, Purpose.RECORD, SEKDES, SECRET)
    assert record.startswith("pengaduan+catat.")
    assert _read(record, Purpose.RECORD) == SignedTag(Purpose.RECORD, None, SEKDES)
    assert _read(record, STAFF) is None
    with pytest.raises(ValueError):
        signed_address(BASE, Purpose.RECORD, SEKDES, SECRET, "ADU-2026-00042")


def test_tag_of_another_ticket_is_refused() -> None:
    other = signed_address(BASE, STAFF, SEKDES, SECRET, "ADU-2026-00041")
    forged = other.replace("adu-2026-00041", "adu-2026-00042")
    assert _read(forged) is None


def test_other_secret_or_domain_is_refused() -> None:
    address = signed_address(BASE, STAFF, SEKDES, SECRET, "ADU-2026-00042")
    assert read_address(address, BASE, b"lain", STAFF, (SEKDES,)) is None
    assert _read(address.replace("klero.desa.id", "evil.example")) is None


def test_the_first_versions_ticket_only_address_is_refused() -> None:
    """`pengaduan+adu-2026-00042.<hmac>@...` signed the ticket alone; it was never deployed."""
    digest = hmac.new(SECRET, b"adu-2026-00042", hashlib.sha256).digest()
    old = f"pengaduan+adu-2026-00042.{base64.b32encode(digest).decode().lower()[:16]}@klero.desa.id"
    assert _read(old) is None


def test_plain_and_malformed_addresses_are_refused() -> None:
    for address in (BASE, "pengaduan+adu-2026-00042@klero.desa.id", "x+y.z@klero.desa.id", "",
                    "pengaduan+adu-2026-00042.aaaaaa.bbbbbbbbbbbbbbbb@klero.desa.id"):
        assert _read(address) is None


def test_an_address_issued_by_an_earlier_release_still_reads_the_same() -> None:
    # Known answers, computed by the first release of the v2 tags: addresses already in
    # residents' and officers' mailboxes must stay valid whatever computes the HMAC now.
    secret = b"rahasia-desa-klero-32-bytes-xxxxxx"
    staff = "pengaduan+adu-2026-00042.mlmwxw.yqadywfca3qwytea@klero.desa.id"
    record = "pengaduan+catat.mlmwxw.2veiwrlgnvstvptj@klero.desa.id"
    assert signed_address("pengaduan@klero.desa.id", Purpose.STAFF, "Kasi@Desa.ID", secret,
                          "ADU-2026-00042") == staff
    assert signed_address("pengaduan@klero.desa.id", Purpose.RECORD, "kasi@desa.id",
                          secret) == record
    assert read_address(staff, "pengaduan@klero.desa.id", secret, Purpose.STAFF,
                        ["kasi@desa.id"]) == SignedTag(Purpose.STAFF, "ADU-2026-00042",
                                                       "kasi@desa.id")
