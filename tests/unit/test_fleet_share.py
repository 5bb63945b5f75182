"""The fair share of a regency's mailboxes among fleet instances (mailflow/core/fleet_share.py)."""

from datetime import UTC, datetime, timedelta

from mailflow.core.fleet_share import (
    fair_share,
    live_instances,
    plan_share,
    presence_key,
)
from mailflow.core.lease import RELEASED, LeaseRow

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=10)
EARLIER = NOW - timedelta(seconds=1)
BOXES = [f"desa{n}@mail/INBOX" for n in range(10)]


def _present(*instances: str, until: datetime = LATER) -> dict[str, LeaseRow]:
    return {presence_key(i): LeaseRow(i, until) for i in instances}


def _held(by: str, boxes: list[str], until: datetime = LATER) -> dict[str, LeaseRow]:
    return {box: LeaseRow(by, until) for box in boxes}


def test_the_share_is_the_ceiling_of_mailboxes_over_instances() -> None:
    assert [fair_share(250, n) for n in (1, 2, 3, 4)] == [250, 125, 84, 63]
    assert fair_share(5, 2) == 3 and fair_share(0, 3) == 0 and fair_share(4, 0) == 4


def test_live_instances_count_unexpired_presence_and_always_this_one() -> None:
    rows = {**_present("a", "b"), **_present("dead", until=EARLIER),
            presence_key("gone"): LeaseRow("", RELEASED), **_held("c", BOXES[:1])}
    assert live_instances(rows, "a", NOW) == 2  # a and b; c holds a mailbox, not a presence
    assert live_instances(rows, "new", NOW) == 3  # itself, before its row is seen


def test_alone_an_instance_takes_every_free_mailbox() -> None:
    rows = {**_held("", BOXES[:2], until=RELEASED), **_held("dead", BOXES[2:4], until=EARLIER)}
    plan = plan_share(BOXES, rows, "a", NOW)
    assert sorted(plan.take) == sorted(BOXES) and plan.release == ()
    assert (plan.share, plan.instances) == (10, 1)


def test_a_newcomer_takes_nothing_held_and_the_holder_releases_the_surplus() -> None:
    rows = {**_present("a", "b"), **_held("a", BOXES)}
    newcomer = plan_share(BOXES, rows, "b", NOW)
    assert newcomer.take == () and newcomer.release == ()
    holder = plan_share(BOXES, rows, "a", NOW)
    assert holder.take == () and len(holder.release) == 5 and set(holder.release) <= set(BOXES)
    # The same surplus at each look (no churn), and then the newcomer takes exactly those.
    assert plan_share(BOXES, rows, "a", NOW).release == holder.release
    after = {**rows, **_held("", list(holder.release), until=RELEASED)}
    assert sorted(plan_share(BOXES, after, "b", NOW).take) == sorted(holder.release)
    assert plan_share(BOXES, after, "a", NOW).take == ()  # at its share: takes none back


def test_a_dead_instances_mailboxes_go_to_the_survivors_once_its_leases_run_out() -> None:
    rows = {**_present("a"), **_present("dead", until=EARLIER), **_held("a", BOXES[:5]),
            **_held("dead", BOXES[5:], until=EARLIER)}
    plan = plan_share(BOXES, rows, "a", NOW)
    assert sorted(plan.take) == sorted(BOXES[5:]) and plan.instances == 1
    # Before they run out they are left alone, whatever the share says.
    alive = {**rows, **_held("dead", BOXES[5:])}
    assert plan_share(BOXES, alive, "a", NOW).take == ()


def test_three_instances_cover_every_mailbox_within_their_shares() -> None:
    me, others = "c", ("a", "b")
    rows = {**_present("a", "b", "c"), **_held("a", BOXES[:4]), **_held("b", BOXES[4:7])}
    plan = plan_share(BOXES, rows, me, NOW)
    assert plan.share == 4 and sorted(plan.take) == sorted(BOXES[7:])
    assert all(box not in plan.take for o in others for box in BOXES[:7])


def test_two_instances_starting_together_reach_for_different_mailboxes_first() -> None:
    rows = _present("host-a:1:aa", "host-b:2:bb")
    first = plan_share(BOXES, rows, "host-a:1:aa", NOW).take
    second = plan_share(BOXES, rows, "host-b:2:bb", NOW).take
    assert len(first) == len(second) == 5
    assert first != second  # each its own order, so the races are few
