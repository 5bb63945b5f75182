"""Auto-replies recognised by their words, for robots that send none of the RFC 3834 headers.

Many vacation responders and helpdesk robots send neither Auto-Submitted nor Precedence nor
threading headers, and answer "Re: Pengaduan Masyarakat - I am out of office" or "Saya
sedang cuti ...". Taken as complaints, each one is a ticket and an acknowledgement, which
the robot answers again: a loop (issue 7, item 11).

The rules are written for precision, because the two mistakes do not cost the same: an
auto-reply taken for a complaint costs one ticket and one acknowledgement (the repeat check
in intake and the per-address limits stop any loop after that), while a complaint taken for
an auto-reply is a resident silently not served. So:

- a subject phrase that only robots write ("out of office", "automatic reply", "balasan
  otomatis", ...) is enough on its own, anywhere in the subject;
- words residents also write ("cuti", "kantor", "terima kasih atas email Anda") count only in
  the first lines of the text, in the first person, and only together with a second signal:
  a promise to answer later or a return date ("Email Anda akan saya balas setelah saya
  kembali"), or the same absence stated as a whole segment of the subject ("... - Sedang
  cuti").

A complaint that says "petugas sedang cuti" or "saya datang ke kantor desa" is a complaint.
Pure; the text rules read at most the first few lines, so their cost does not grow with
the message.
"""

from __future__ import annotations

import re
import unicodedata

# Phrases only robots put in a subject, anywhere in it (after NFKC folding and case folding).
_SUBJECT_ROBOT = re.compile(
    r"\b(out[ -]of[ -](the[ -])?office|automatic[ -]reply|auto[ -]?reply|auto[ -]?respon[a-z]*"
    r"|balasan[ -]otomatis|jawaban[ -]otomatis|pesan[ -]otomatis|respons?[ -]otomatis)\b"
)
# Subjects are cut into segments at these separators: "Re: X - Sedang cuti" has "sedang cuti".
_SEGMENTS = re.compile(r"\s+[-\u2013\u2014|]\s+|[:\[\]()]")
_ABSENCE = (r"(cuti|berada di luar kantor|di luar kantor|tidak (berada )?di kantor|dinas luar"
            r"|away( from (the )?office)?|on (annual |sick |maternity )?leave|on vacation|on holiday)")
# A whole subject segment that states an absence, optionally with its end: "Sedang cuti",
# "Di luar kantor", "Saya sedang di luar kantor sampai 7 Desember", "On leave until Monday".
# Never enough alone ("Pengaduan Masyarakat - Tidak di kantor" may be a complaint about
# staff): it counts only with a first-person absence in the text.
_ABSENCE_SEGMENT = re.compile(
    r"^((saya|kami|i am|i'm|we are)\s+)?((sedang|saat ini|sementara|currently)\s+)*"
    + _ABSENCE + r"(\s+(sampai|hingga|s\.?d\.?|until|till)\b.*)?$"
)
# First-person absence in the text: "Saya sedang cuti", "Kami sedang tidak di kantor", "I am on leave".
_ABSENCE_STATED = re.compile(
    r"\b(saya|kami|i am|i'm|i will be|i'll be|we are)\s+((sedang|saat ini|sementara|currently"
    r"|now)\s+){0,3}" + _ABSENCE
)
# What only a robot says about itself, or the English out-of-office opener.
_TEXT_ROBOT = re.compile(
    r"\bthis is an? (automatic|automated|auto-?generated) (reply|response|message|e-?mail)\b"
    r"|\b(ini|email ini|e-mail ini|pesan ini|surel ini) (adalah|merupakan) (sebuah )?"
    r"(balasan|jawaban|pesan|respons?) otomatis\b"
    r"|\b(i am|i'm|i will be|i'll be|we are) (currently )?out of (the )?office\b"
)
# A promise to answer later, a return to the office, or where to turn meanwhile.
_LATER = re.compile(
    r"\bakan (segera )?(saya |kami )?(balas|dibalas|tanggapi|ditanggapi|jawab|dijawab|respon"
    r"|direspon|proses|diproses)\b"
    r"|\b(tidak|belum) (dapat|bisa) (membalas|menanggapi|merespon|menjawab|mengakses)\b"
    r"|\bsetelah (saya|kami) kembali\b|\bsekembalinya\b"
    r"|\bkembali (bekerja|ke kantor|masuk|bertugas|aktif)\b"
    r"|\b(keperluan|hal|urusan) (yang )?(mendesak|penting|darurat)\b"
    r"|\b(will|shall) (reply|respond|get back|answer)\b|\blimited access to\b|\bno access to\b"
    r"|\b(back|returning|return) (on|to the office|in the office)\b"
    r"|\bfor urgent (matters|issues|requests|enquiries|inquiries)\b"
)
_THANKS = re.compile(
    r"\b(terima kasih|makasih) (atas|untuk) (email|e-mail|surel|pesan) (anda|bapak|ibu|saudara)"
    r"|\bthank you for your (e-?mail|message)\b"
)
_FIRST_LINES = 4
_LINE_CHARS = 300
_SPACE = re.compile(r"\s+")


def _fold(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).casefold().strip()


def _absence_segment(subject: str) -> bool:
    return any(_ABSENCE_SEGMENT.match(part.strip()) for part in _SEGMENTS.split(subject))


def subject_wording(subject: str) -> str | None:
    """Why this subject is an auto-reply's, or None: robot-only phrases, anywhere."""
    found = _SUBJECT_ROBOT.search(_fold(subject))
    return f"auto-reply wording in subject: {found.group(0)}" if found else None


def first_lines(text: str) -> str:
    """The first few non-empty lines, each cut short, folded: where a robot says what it is."""
    lines = [line[:_LINE_CHARS] for line in text.splitlines()[:200] if line.strip()]
    return _fold(" ".join(lines[:_FIRST_LINES]))


def text_wording(subject: str, text: str) -> str | None:
    """Why a new message's words make it an auto-reply, or None (see the module docstring).

    Only for messages that would become new tickets: a resident's reply to a ticket may well
    say "saya sedang cuti" and must be kept on the ticket.
    """
    head = first_lines(text)
    if not head:
        return None
    if _TEXT_ROBOT.search(head):
        return "auto-reply wording in text"
    absent = _ABSENCE_STATED.search(head) is not None
    later = _LATER.search(head) is not None
    if absent and later:
        return "auto-reply wording in text: absence and a later answer"
    if _THANKS.search(head) and (absent or later):
        return "auto-reply wording in text: thanks and a later answer"
    if absent and _absence_segment(_fold(subject)):
        return "auto-reply wording in subject and text: absence"
    return None
