"""[promise], [reminders] and [digest]: defaults as issue 9 asks, mistakes named with the fix,
and the clock job built from them (runners/clock.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.config import parse_config
from mailflow.core.promise import Targets
from mailflow.core.reminders import ClockRules
from mailflow.errors import ConfigError
from mailflow.runners.clock import rules_for, targets_for
from mailflow.vocabulary import Priority
from tests.unit.test_config import MINIMAL, ROOT, _with


def test_defaults() -> None:
    cfg = parse_config(MINIMAL)
    assert targets_for(cfg) == Targets(7, {Priority.DARURAT: 1, Priority.TINGGI: 3})
    assert rules_for(cfg) == ClockRules(days_before=(2, 0), hour=8, digest_hour=7,
                                        skip_non_working_days=True)
    assert cfg.digest.enabled


def test_configured_values_reach_the_job() -> None:
    data = _with("promise", targets={"darurat": 2, "Rendah": 7})
    data["reminders"] = {"days_before": [3], "hour": 10, "skip_non_working_days": False}
    data["digest"] = {"hour": 6, "enabled": False}
    cfg = parse_config(data)
    assert targets_for(cfg).by_priority == {Priority.DARURAT: 2, Priority.RENDAH: 7}
    assert rules_for(cfg) == ClockRules((3,), 10, 6, False)
    assert not cfg.digest.enabled


def test_a_short_promise_shortens_the_default_targets() -> None:
    cfg = parse_config(_with("calendar", working_days=2))
    assert targets_for(cfg) == Targets(2, {Priority.DARURAT: 1, Priority.TINGGI: 2})


@pytest.mark.parametrize(("section", "values", "message"), [
    ("promise", {"targets": {"penting": 1}},
     r"\[promise\] targets: unknown priority 'penting' \(use rendah, sedang, tinggi, darurat\)"),
    ("promise", {"targets": {"tinggi": 9}},
     r"tinggi = 9 working days is longer than the promise \(\[calendar\] working_days = 7\)"),
    ("promise", {"targets": {"darurat": 0}}, r"\[promise\] targets\.darurat"),
    ("reminders", {"hour": 24}, r"\[reminders\] hour"),
    ("reminders", {"days_before": [-1]}, r"\[reminders\] days_before"),
    ("digest", {"hour": -1}, r"\[digest\] hour"),
    ("digest", {"when": 7}, r"\[digest\] when: unknown key"),
])
def test_mistakes_name_the_key(section: str, values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(_with(section, **values), source="test")


def test_the_example_documents_the_sections() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for line in ("[promise]", "targets = { darurat = 1, tinggi = 3 }", "[reminders]",
                 "days_before = [2, 0]", "hour = 8", "skip_non_working_days = true", "[digest]",
                 "enabled = true", "hour = 7"):
        assert f"\n{line}\n" in text, line
    assert Path(ROOT / "README.md").read_text(encoding="utf-8").count(
        "## Reminders, escalation and the daily digest") == 1
