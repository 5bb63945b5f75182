"""The storm decisions over counts and times: may this mail go now, and when a coalesced one goes.

The end-to-end tests (tests/e2e/test_attack_storms.py) run the same rules against Dovecot
with the default limits; here every edge is stated without a database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailflow.config import ConfigError
from mailflow.core.mail_limits import (
    Allowance,
    Attempt,
    Coalesce,
    Previous,
    Sent,
    alert_digest,
    allowance_for,
    coalesce,
    limit_notice,
    limit_reached,
)
from tests.unit.plan_support import BUDI, SEKDES, SITI, config

NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
WINDOW = timedelta(minutes=60)
RESIDENT = Allowance(per_hour=5, per_day=20)


def test_the_defaults_are_5_an_hour_and_20_a_day_for_residents_higher_for_staff() -> None:
    cfg = config()
    assert allowance_for(cfg, SITI) == RESIDENT
    assert allowance_for(cfg, SEKDES) == Allowance(30, 200)
    assert allowance_for(cfg, SEKDES.upper()) == Allowance(30, 200)


@pytest.mark.parametrize(("hour", "day", "reached"), [
    (0, 0, None), (4, 4, None), (4, 19, None),
    (5, 5, "5 per hour"), (9, 9, "5 per hour"),
    (0, 20, "20 per day"), (5, 20, "20 per day"),
])
def test_a_mail_may_go_while_both_counts_are_under_their_limits(hour: int, day: int,
                                                                reached: str | None) -> None:
    assert limit_reached(Sent(hour, day), RESIDENT) == reached


def test_limits_are_configurable_and_a_day_holds_at_least_an_hour() -> None:
    cfg = config(limits={"resident_per_hour": 2, "resident_per_day": 3})
    assert allowance_for(cfg, BUDI) == Allowance(2, 3)
    with pytest.raises(ConfigError, match="resident_per_day must be at least resident_per_hour"):
        config(limits={"resident_per_hour": 10, "resident_per_day": 3})
    with pytest.raises(ConfigError, match=r"\[limits\] staff_per_hour"):
        config(limits={"staff_per_hour": 0})


def test_the_first_message_of_a_topic_goes_at_once() -> None:
    assert coalesce(None, NOW, WINDOW, mergeable=True) == (Coalesce.SEND, NOW)
    assert coalesce(None, NOW, WINDOW, mergeable=False) == (Coalesce.SEND, NOW)


def test_a_waiting_message_takes_in_the_next_or_the_next_is_dropped() -> None:
    waiting = Previous(waiting=True, at=NOW - timedelta(days=2))  # an SMTP outage: still waiting
    assert coalesce(waiting, NOW, WINDOW, mergeable=True)[0] is Coalesce.MERGE
    assert coalesce(waiting, NOW, WINDOW, mergeable=False)[0] is Coalesce.DROP


def test_within_the_window_an_alert_waits_for_its_end_and_an_explanation_is_dropped() -> None:
    sent = Previous(waiting=False, at=NOW - timedelta(minutes=10))
    assert coalesce(sent, NOW, WINDOW, mergeable=True) == (Coalesce.LATER,
                                                           NOW + timedelta(minutes=50))
    assert coalesce(sent, NOW, WINDOW, mergeable=False)[0] is Coalesce.DROP


def test_after_the_window_a_new_message_goes_at_once() -> None:
    sent = Previous(waiting=False, at=NOW - WINDOW)
    assert coalesce(sent, NOW, WINDOW, mergeable=True) == (Coalesce.SEND, NOW)
    assert coalesce(sent, NOW, WINDOW, mergeable=False) == (Coalesce.SEND, NOW)


def test_the_limit_notice_says_what_still_happens_and_goes_to_a_verifier() -> None:
    cfg = config()
    member = cfg.staff_member(SEKDES)
    assert member is not None
    notice = limit_notice(cfg, member, BUDI, "5 per hour", "ADU-2026-00006")
    assert notice.to == SEKDES and notice.reply_to is None
    text = "\n".join(notice.context["paragraphs"])
    assert BUDI in text and "tetap dicatat" in text and "ADU-2026-00006" in text
    assert "5 per jam dan 20 per hari" in text


def test_the_alert_lists_every_attempt_and_bounds_its_length() -> None:
    cfg = config()
    attempts = [Attempt(f"ADU-2026-{n:05d}", NOW, f"<forged-{n}@evil.example>",
                        f"unauthenticated command claiming to be from {SEKDES}") for n in range(150)]
    alert = alert_digest(cfg, "admin@klero.desa.id", attempts[:5])
    assert alert.subject == "Peringatan keamanan: 5 perintah tanpa bukti pengirim"
    assert alert.reply_to is None
    listing = alert.context["paragraphs"][2]
    assert [f"<forged-{n}@evil.example>" in listing for n in range(5)] == [True] * 5
    long = alert_digest(cfg, "admin@klero.desa.id", attempts).context["paragraphs"][2]
    assert long.count("\n") == 100 and "dan 50 lainnya" in long
