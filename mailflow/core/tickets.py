"""Pure rules about tickets: numbers, statuses, and what a complaint still lacks.

The procedure asks residents for valid identity and a clear description; a
complaint without them is still a ticket, in `perlu_data`, and the
acknowledgement says exactly what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mailflow.core.identity import Identity


class Status(StrEnum):
    DITERIMA = "diterima"
    PERLU_DATA = "perlu_data"
    DIVERIFIKASI = "diverifikasi"
    DIPROSES = "diproses"
    SELESAI = "selesai"
    DITOLAK = "ditolak"


STATUS_LABELS: dict[str, str] = {
    Status.DITERIMA: "Diterima",
    Status.PERLU_DATA: "Menunggu kelengkapan data",
    Status.DIVERIFIKASI: "Sudah diverifikasi",
    Status.DIPROSES: "Sedang ditindaklanjuti",
    Status.SELESAI: "Selesai",
    Status.DITOLAK: "Tidak dapat ditindaklanjuti",
}


# What each status means, in plain words for the reporter.
STATUS_EXPLANATIONS: dict[str, str] = {
    Status.DITERIMA: "Pengaduan Anda sudah tercatat dan menunggu verifikasi oleh petugas.",
    Status.PERLU_DATA: "Kami memerlukan data tambahan dari Anda sebelum pengaduan dapat diproses. "
                       "Mohon balas email ini dengan data yang diminta.",
    Status.DIVERIFIKASI: "Pengaduan Anda sudah diperiksa dan dinyatakan layak ditindaklanjuti.",
    Status.DIPROSES: "Pengaduan Anda sedang ditindaklanjuti oleh petugas desa.",
    Status.SELESAI: "Pengaduan Anda sudah selesai ditangani.",
    Status.DITOLAK: "Pengaduan Anda tidak dapat kami tindak lanjuti.",
}


class Missing(StrEnum):
    NAME = "nama"
    NIK = "nik"
    DESCRIPTION = "deskripsi"


# What each missing item means to a resident, in the acknowledgement.
MISSING_TEXT: dict[str, str] = {
    Missing.NAME: "nama lengkap",
    Missing.NIK: "NIK (16 digit, sesuai KTP)",
    Missing.DESCRIPTION: "uraian masalah yang jelas (apa, di mana, sejak kapan)",
}

MIN_DESCRIPTION_WORDS = 5
MIN_DESCRIPTION_CHARS = 25
_WORD = re.compile(r"\w{2,}")


@dataclass(frozen=True)
class Assessment:
    missing: tuple[Missing, ...]
    nik_problem: str | None = None

    @property
    def status(self) -> Status:
        return Status.PERLU_DATA if self.missing else Status.DITERIMA


def assess(identity: Identity, description: str) -> Assessment:
    missing: list[Missing] = []
    if not identity.name:
        missing.append(Missing.NAME)
    if not identity.nik or not identity.nik_valid:
        missing.append(Missing.NIK)
    if not description_is_clear(description):
        missing.append(Missing.DESCRIPTION)
    return Assessment(tuple(missing), identity.nik_problem if identity.nik else None)


def description_is_clear(description: str) -> bool:
    text = description.strip()
    return len(text) >= MIN_DESCRIPTION_CHARS and len(_WORD.findall(text)) >= MIN_DESCRIPTION_WORDS


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year:04d}-{sequence:05d}"


def summary_subject(subject: str, limit: int = 120) -> str:
    """A subject safe to show in lists: one line, bounded."""
    line = " ".join(subject.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
