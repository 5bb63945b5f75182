"""The crash harness's verdict on a message sent twice: only a fault just after it explains it
(tests/harness/chaos.py). A SIGKILLed daemon had one message in flight; a crashed
PostgreSQL forgets its last fraction of a second of outcomes (store/outbox_queries.py)."""

from tests.harness.chaos import RESEND_WINDOW, _explained


def test_a_kill_just_after_the_first_arrival_explains_one_resend_only() -> None:
    kills = [10.2]
    assert _explained(10.0, 14.0, kills, [])
    assert not _explained(10.1, 15.0, kills, [])  # that kill is spent


def test_a_kill_long_after_or_before_explains_nothing() -> None:
    assert not _explained(10.0, 30.0, [10.0 + RESEND_WINDOW + 1], [])
    assert not _explained(10.0, 30.0, [9.5], [])
    assert not _explained(10.0, 11.0, [11.5], [])  # after the message went again


def test_a_database_crash_explains_every_message_accepted_just_before_or_while_down() -> None:
    down = [(20.3, 21.0)]
    assert all(_explained(before, 25.0, [], down) for before in (19.0, 20.0, 20.3, 20.9))
    assert not _explained(17.0, 25.0, [], down)  # accepted long before the crash
    assert not _explained(21.5, 25.0, [], down)  # accepted after it was back
