"""Reading UID FETCH responses as imaplib hands them over, from Dovecot and from pymap."""

from datetime import UTC, datetime, timedelta, timezone

from mailflow.adapters.imap import parse_fetch_response, parse_internaldate

HEADER = b"Subject: hi\r\n\r\n"


def test_dovecot_shape() -> None:
    data = [
        (b'1 (UID 7 INTERNALDATE "28-Nov-2026 09:00:00 +0700" RFC822.SIZE 42 FLAGS (\\Seen) '
         b"BODY[HEADER] {15}", HEADER),
        b")",
    ]
    [item] = parse_fetch_response(data)
    assert item.uid == 7
    assert item.size == 42
    assert item.flags == ("\\Seen",)
    assert item.header == HEADER
    assert item.internaldate == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def test_uid_after_the_literal() -> None:
    data = [(b'3 (INTERNALDATE " 1-Dec-2026 10:00:00 +0000" BODY[HEADER] {15}', HEADER),
            b" UID 12 FLAGS ())"]
    [item] = parse_fetch_response(data)
    assert item.uid == 12
    assert item.internaldate.day == 1


def test_unsolicited_flag_updates_are_skipped() -> None:
    # pymap interleaves FETCH (FLAGS) responses without a literal.
    data = [
        b"5 (FLAGS (\\Recent) UID 105)",
        (b'1 (UID 101 INTERNALDATE "28-Nov-2026 18:39:04 +0000" RFC822.SIZE 42 FLAGS () '
         b"BODY[HEADER] {15}", HEADER),
        b")",
        b"2 (FLAGS () UID 102)",
    ]
    assert [i.uid for i in parse_fetch_response(data)] == [101]


def test_internaldate_keeps_its_offset() -> None:
    moment = parse_internaldate("17-Mar-2026 10:00:00 +0700")
    assert moment.utcoffset() == timedelta(hours=7)
    assert moment.tzinfo == timezone(timedelta(hours=7))
