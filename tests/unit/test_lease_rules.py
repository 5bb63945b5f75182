"""The rules of a mailbox's lease (core/lease.py): who may take it, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailflow.core.lease import (
    RELEASED,
    LeaseRow,
    LeaseRules,
    held_by_other,
    holder_process,
    may_take,
    renewal_due,
)

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_a_new_mailbox_an_expired_or_own_lease_may_be_taken() -> None:
    assert may_take(None, "a", NOW)
    assert may_take(LeaseRow("a", NOW + timedelta(seconds=10)), "a", NOW)
    assert may_take(LeaseRow("a", NOW - timedelta(seconds=10)), "a", NOW)  # nobody took it
    assert may_take(LeaseRow("b", NOW - timedelta(seconds=1)), "a", NOW)
    assert may_take(LeaseRow("b", NOW), "a", NOW)  # it ran out this very moment
    assert may_take(LeaseRow("", RELEASED), "a", NOW)


def test_a_live_lease_of_another_instance_may_not() -> None:
    row = LeaseRow("b", NOW + timedelta(seconds=1))
    assert not may_take(row, "a", NOW)
    assert held_by_other(row, "a", NOW) == "b"
    assert held_by_other(row, "b", NOW) is None
    assert held_by_other(LeaseRow("b", NOW - timedelta(seconds=1)), "a", NOW) is None


def test_rules_renew_well_inside_the_lease() -> None:
    rules = LeaseRules(15, 5)
    assert rules.expiry(NOW) == NOW + timedelta(seconds=15)
    with pytest.raises(ValueError, match="shorter than the lease"):
        LeaseRules(5, 5)
    assert renewal_due(None, 100.0, rules)
    assert not renewal_due(100.0, 104.9, rules)
    assert renewal_due(100.0, 105.0, rules)


def test_the_holder_names_its_host_and_process() -> None:
    assert holder_process("node-1:4242:ab12cd") == ("node-1", 4242)
    assert holder_process("fe80::1:77:ab12cd") == ("fe80::1", 77)
    assert holder_process("") is None
    assert holder_process("node:x:ab") is None


def test_the_lease_keys_are_checked_with_a_message_that_names_them() -> None:
    from mailflow.config import parse_config
    from mailflow.errors import ConfigError
    from tests.unit.test_config import MINIMAL

    cfg = parse_config(MINIMAL)
    assert (cfg.intake.lease_seconds, cfg.intake.lease_renew_seconds) == (15.0, 5.0)
    assert LeaseRules(cfg.intake.lease_seconds, cfg.intake.lease_renew_seconds).renew == 5.0
    with pytest.raises(ConfigError, match=r"\[intake\].*lease_renew_seconds \(10\) must be at "
                                          r"most half of lease_seconds \(15\)"):
        parse_config({**MINIMAL, "intake": {"lease_renew_seconds": 10}})
    with pytest.raises(ConfigError, match=r"\[intake\] lease_seconds"):
        parse_config({**MINIMAL, "intake": {"lease_seconds": 1}})
