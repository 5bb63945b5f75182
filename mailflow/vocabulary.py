"""The domain's words, defined once: statuses, priorities, channels, roles, and what was done.

Every table, message and report uses these enums; the database stores their values (the
Indonesian words staff and residents read), so a value seen in `mailflow tickets --json`,
in a mail and in a column is the same word. Each enum carries its own Indonesian label,
so a new value cannot be added without saying how it reads.

This module sits below everything else, configuration included (roles are configured).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a ticket stands in the village's procedure (see core/workflow.py for the moves)."""

    DITERIMA = "diterima"
    PERLU_DATA = "perlu_data"
    DIVERIFIKASI = "diverifikasi"
    DIPROSES = "diproses"
    SELESAI = "selesai"
    DITOLAK = "ditolak"

    @property
    def label(self) -> str:
        return _STATUS_TEXT[self][0]

    @property
    def explanation(self) -> str:
        """What the status means, in plain words for the reporter."""
        return _STATUS_TEXT[self][1]


_STATUS_TEXT: dict[Status, tuple[str, str]] = {
    # "Diterima" alone reads as "accepted/approved"; the ticket is only recorded.
    Status.DITERIMA: ("Tercatat \u2013 menunggu verifikasi",
                      "Pengaduan Bapak/Ibu sudah tercatat dan menunggu verifikasi oleh petugas."),
    Status.PERLU_DATA: ("Menunggu kelengkapan data",
                        "Kami memerlukan data tambahan dari Bapak/Ibu sebelum pengaduan dapat "
                        "diproses. Mohon balas email ini dengan data yang diminta."),
    Status.DIVERIFIKASI: ("Sudah diverifikasi",
                          "Pengaduan Bapak/Ibu sudah diperiksa, dinyatakan layak ditindaklanjuti, "
                          "dan sedang menunggu tindak lanjut petugas."),
    Status.DIPROSES: ("Sedang ditindaklanjuti",
                      "Pengaduan Bapak/Ibu sedang ditindaklanjuti oleh petugas desa."),
    Status.SELESAI: ("Selesai", "Pengaduan Bapak/Ibu sudah selesai ditangani."),
    Status.DITOLAK: ("Tidak dapat ditindaklanjuti",
                     "Pengaduan Bapak/Ibu tidak dapat kami tindak lanjuti."),
}


class Priority(StrEnum):
    """Urgency and impact on the public interest, as the procedure ranks complaints."""

    RENDAH = "rendah"
    SEDANG = "sedang"
    TINGGI = "tinggi"
    DARURAT = "darurat"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Channel(StrEnum):
    """How a complaint reached the village (the procedure names these channels)."""

    EMAIL = "email"
    TELEPON = "telepon"
    WHATSAPP = "whatsapp"
    KOTAK_SARAN = "kotak_saran"

    @property
    def label(self) -> str:
        return {Channel.WHATSAPP: "WhatsApp", Channel.KOTAK_SARAN: "kotak saran"}.get(self, self.value)


class EntryKind(StrEnum):
    """What a suggestion-box paper is (the box takes "saran, keluhan, atau masukan"); a ticket
    from any other channel has no kind (None: an ordinary complaint)."""

    SARAN = "saran"
    KRITIK = "kritik"
    KELUHAN = "keluhan"
    PENGADUAN = "pengaduan"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Role(StrEnum):
    """What a staff member does; decides which commands they may give and what they may see."""

    VERIFIKATOR = "verifikator"
    PETUGAS = "petugas"
    KEPALA_DESA = "kepala_desa"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {Role.VERIFIKATOR: "Verifikator", Role.PETUGAS: "Petugas tindak lanjut",
                Role.KEPALA_DESA: "Kepala Desa", Role.ADMIN: "Administrator"}[self]


# Who may read the reporter's identity: the verifier checks it; nobody else needs it.
IDENTITY_ROLES: frozenset[Role] = frozenset({Role.VERIFIKATOR})

# Moving a complaint into or out of verification is the verifier's call (or the head's).
VERIFIER_ROLES: frozenset[Role] = frozenset({Role.VERIFIKATOR, Role.KEPALA_DESA})

# Who may mark text for the public page (#publik): the people who answer complaints.
PUBLISH_ROLES: frozenset[Role] = frozenset({Role.VERIFIKATOR, Role.PETUGAS})


class Missing(StrEnum):
    """What a complaint still lacks before it can be processed."""

    NAME = "nama"
    NIK = "nik"
    DESCRIPTION = "deskripsi"

    @property
    def text(self) -> str:
        """What the item means to a resident, in the acknowledgement."""
        return {
            Missing.NAME: "nama lengkap",
            Missing.NIK: "NIK (16 digit, sesuai KTP)",
            Missing.DESCRIPTION: "uraian masalah yang jelas (apa, di mana, sejak kapan)",
        }[self]


class EventKind(StrEnum):
    """One line of a ticket's audit trail."""

    CREATED = "created"
    STATUS = "status"
    PRIORITY = "priority"
    ASSIGNEE = "assignee"
    MESSAGE = "message"  # a staff message to the reporter without a status change
    INTERNAL_NOTE = "internal_note"
    REPLY = "reply"  # a message from the reporter or someone else about the ticket
    COMMAND_REFUSED = "command_refused"
    SECURITY = "security"  # a command whose sender could not be proven
    # A reply from the reporter's address that would have completed data, without proof that
    # the reporter sent it: kept for the verifier, nothing changed.
    UNVERIFIED_DATA = "unverified_data"
    MAIL_WITHHELD = "mail_withheld"  # a message not sent: its address is over its mail limit
    IDENTITY_VIEWED = "identity_viewed"  # someone read the reporter's identity (show --with-identity)
    # Text a staff member marked for the public page with #publik (the note is that text).
    PUBLIC = "public"

    @property
    def label(self) -> str:
        """How the audit trail names the event for staff."""
        return _EVENT_LABELS[self]


_EVENT_LABELS: dict[EventKind, str] = {
    EventKind.CREATED: "tiket dibuat",
    EventKind.STATUS: "status diubah",
    EventKind.PRIORITY: "prioritas diubah",
    EventKind.ASSIGNEE: "petugas ditunjuk",
    EventKind.MESSAGE: "pesan kepada pelapor",
    EventKind.INTERNAL_NOTE: "catatan internal",
    EventKind.REPLY: "balasan diterima",
    EventKind.COMMAND_REFUSED: "perintah ditolak",
    EventKind.SECURITY: "peringatan keamanan",
    EventKind.UNVERIFIED_DATA: "balasan tanpa bukti pengirim",
    EventKind.MAIL_WITHHELD: "email ditahan (batas email)",
    EventKind.IDENTITY_VIEWED: "identitas pelapor dilihat",
    EventKind.PUBLIC: "teks untuk halaman publik",
}


class IntakeOutcome(StrEnum):
    """What intake did with a message whose subject matched (stored per message)."""

    TICKET = "ticket"
    REPLY = "reply"  # a resident's (or a stranger's) reply to a ticket
    STAFF = "staff"  # a staff member's reply with commands
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"
    # A staff action (a `#kanal` recording) whose sender could not be proven: nothing made.
    REFUSED = "refused"
    # In the mailbox before mailflow's first start: not taken, never marked (core/first_start.py).
    BEFORE_START = "before_start"

    @property
    def label(self) -> str:
        return {IntakeOutcome.TICKET: "tiket baru", IntakeOutcome.REPLY: "balasan warga",
                IntakeOutcome.STAFF: "balasan staf", IntakeOutcome.DUPLICATE: "duplikat",
                IntakeOutcome.IGNORED: "diabaikan", IntakeOutcome.QUARANTINED: "dikarantina",
                IntakeOutcome.REFUSED: "ditolak (pengirim tidak terbukti)",
                IntakeOutcome.BEFORE_START: "sudah ada sebelum mailflow mulai"}[self]


# Outcomes whose message was taken and so is marked in the mailbox.
TAKEN_OUTCOMES: frozenset[IntakeOutcome] = frozenset({
    IntakeOutcome.TICKET, IntakeOutcome.REPLY, IntakeOutcome.STAFF, IntakeOutcome.DUPLICATE})


class OutboxKind(StrEnum):
    """Which kind of message an outbox row is; decides threading and who may read it."""

    ACK = "ack"  # the acknowledgement to the reporter; later messages thread under it
    ACK_STAFF = "ack_staff"  # the same, to the staff member who recorded a phone complaint
    STATUS = "status"  # a status change or answer to the reporter
    STAFF_NOTE = "staff"  # a short note to staff or the administrator (refusal, alert, reply)
    NOTIFY = "notify"  # a new ticket or an assignment, with the ticket's details
    RECEIPT = "receipt"  # to a staff member whose reply was applied: what changed, who was told
    REMINDER = "reminder"  # to the officer (or verifiers): a ticket's due date is near
    ESCALATION = "escalation"  # to the village head: a ticket unanswered past its due date
    DIGEST = "digest"  # to each staff member on working days: their open tickets
    REPORT = "report"  # to the village head, monthly: the report with its charts

    @property
    def label(self) -> str:
        return {OutboxKind.ACK: "tanda terima", OutboxKind.ACK_STAFF: "tanda terima untuk staf",
                OutboxKind.STATUS: "kabar status", OutboxKind.STAFF_NOTE: "pesan untuk staf",
                OutboxKind.NOTIFY: "pemberitahuan tiket",
                OutboxKind.RECEIPT: "konfirmasi perintah staf",
                OutboxKind.REMINDER: "pengingat batas waktu",
                OutboxKind.ESCALATION: "eskalasi ke kepala desa",
                OutboxKind.DIGEST: "daftar harian tiket terbuka",
                OutboxKind.REPORT: "laporan bulanan"}[self]


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    PARKED = "parked"

    @property
    def label(self) -> str:
        return {OutboxState.PENDING: "menunggu", OutboxState.SENT: "terkirim",
                OutboxState.PARKED: "ditahan"}[self]
