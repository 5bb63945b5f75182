"""A simulated month (issue 9, "Done means"): August 2026 on Dovecot, day by day.

Residents mail complaints through the real inbox (some urgent, some without a NIK, one on a
Saturday), the verifier and the officer answer by replying to mailflow's mail (one ticket
late, one never), a resident completes missing data by replying, the team records a
suggestion-box opening on a Monday; the real Service polls four times a day with a
FixedClock (a new process each day). At the end the reminders, escalations and digests
that reached staff, the monthly report that reached the village head, `read_report` and
the public page are compared with the tally tests/e2e/month_plan.py keeps from the script
alone, and none of it may carry a reporter's identity.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from mailflow.config import Config
from mailflow.core.notices import record_address
from mailflow.core.report import Month
from mailflow.runners.parked_note import daily_jobs
from mailflow.runners.publish import publish
from mailflow.runners.report import read_report
from mailflow.service import Service
from mailflow.store.db import make_engine
from mailflow.vocabulary import Status
from tests.e2e import month_plan as plan
from tests.e2e.leaks import mail_text
from tests.e2e.support import INBOX, KADES, KASI, SEKDES, FixedClock, complaint, config_for, tickets
from tests.e2e.test_workflow_mail import staff_reply

pytestmark = pytest.mark.e2e
WIB = ZoneInfo("Asia/Jakarta")
POLLS = ((7, 30), (8, 30), (13, 0), (16, 0))  # digests, reminders, intake, staff's answers
CLOCK = {"jadwal membuka kotak saran": "box", "Pengingat": "reminder", "Eskalasi": "escalation",
         "Daftar pengaduan terbuka": "digest"}  # by subject; the box's first
SECRETS = (*(s for r in plan.RESIDENTS for s in r.secrets), plan.BOX_NAME)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)


def _read(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=default))


def _first(world: Any, user: str, number: str) -> EmailMessage:
    """The first mail `user` got about ticket `number` (the notice staff reply to)."""
    return next(m for m in map(_read, (s.raw for s in world.messages(user)))
                if str(m["Subject"]).strip().startswith(f"[{number}] "))


def _opening(cfg: Config) -> bytes:
    member = cfg.staff_member(SEKDES)
    assert member is not None
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SEKDES, str(record_address(cfg, member)), "Kotak Saran"
    msg["Message-ID"] = make_msgid(domain="klero.desa.id")
    papers = [c.text for c in plan.BOX]
    papers[1] = f"keluhan\nNama: {plan.BOX_NAME}\n{papers[1]}"
    msg.set_content("\n---\n".join(papers) + "\n---\n")
    return msg.as_bytes()


def _residents_act(world: Any, cfg: Config, day: date) -> None:
    """Complaints of the day into the inbox (taken at 13:00); the box opened on its day."""
    for n, case in enumerate(c for c in plan.CASES if c.day == day and c.resident is not None):
        who = plan.RESIDENTS[case.resident or 0]
        world.deliver(INBOX, complaint(f"{who.name} <{who.email}>", case.subject, case.body()),
                      internaldate=_at(day, case.hour, n))
    if day == plan.BOX_DAY:
        world.deliver(INBOX, _opening(cfg), internaldate=_at(day, 9, 30))


def _staff_act(world: Any, day: date) -> None:
    """The day's answers, delivered before the 16:00 poll."""
    for case in (c for c in plan.CASES if c.number):
        if case.complete == day:
            who = plan.RESIDENTS[case.resident or 0]
            ack = _first(world, who.email, case.number)
            world.deliver(INBOX, complaint(f"{who.name} <{who.email}>", f"Re: {ack['Subject']}",
                                           f"NIK: {who.nik}", In_Reply_To=str(ack["Message-ID"]),
                                           to=str(ack["Reply-To"])), internaldate=_at(day, 15))
        if day in (case.verify, case.assign):
            # Only assigning says nothing to the resident: no response (a message would be).
            body = (f"#status diverifikasi\n#petugas {KASI}\n\nSudah kami periksa."
                    if case.verify == day else f"#petugas {KASI}")
            world.deliver(INBOX, staff_reply(SEKDES, _first(world, SEKDES, case.number), body),
                          internaldate=_at(day, 15))
        for when, body in ((case.process, "#status diproses\nPetugas sudah ke lokasi."),
                           (case.close, "#status selesai\nSudah ditangani, terima kasih.")):
            if when == day:
                world.deliver(INBOX, staff_reply(KASI, _first(world, KASI, case.number), body),
                              internaldate=_at(day, 15, 30))


def _numbers(cfg: Config, day: date) -> None:
    """Learn the numbers of the tickets taken today (by subject; box entries in order)."""
    made = tickets(cfg)
    for case in (c for c in plan.CASES if c.day == day and not c.number):
        if case.resident is not None:
            [ticket] = [t for t in made if t.subject == case.subject]
        else:
            ticket = [t for t in made if t.channel == "kotak_saran"][plan.BOX.index(case)]
        case.number = ticket.number


def _live_month(world: Any, cfg: Config) -> None:
    for day in plan.days(plan.FIRST, plan.LAST):
        service = Service(cfg, clock=(clock := FixedClock(_at(day, 0))), jobs=daily_jobs(cfg))
        try:
            for hour, minute in POLLS:
                if (hour, minute) == (13, 0):
                    _residents_act(world, cfg, day)
                if (hour, minute) == (16, 0):
                    _staff_act(world, day)
                clock.now = _at(day, hour, minute)
                service.poll_once()
                if (hour, minute) == (13, 0):
                    _numbers(cfg, day)
        finally:
            service.engine.dispose()
    service = Service(cfg, clock=FixedClock(_at(plan.AFTER, 7, 30)), jobs=daily_jobs(cfg))
    try:
        service.poll_once()  # 1 September: the last digests and August's report
    finally:
        service.engine.dispose()


def _clock_mail(world: Any) -> list[tuple[str, str, date, EmailMessage]]:
    """(kind, recipient, local day sent, mail) of every reminder, escalation and digest, and
    of the suggestion box's opening-day reminders ("box")."""
    found = []
    for user in (SEKDES, KASI, KADES):
        for msg in map(_read, (s.raw for s in world.messages(user))):
            kind = next((k for word, k in CLOCK.items() if word in str(msg["Subject"])), None)
            if kind:
                sent = parsedate_to_datetime(str(msg["Date"])).astimezone(WIB).date()
                found.append((kind, user, sent, msg))
    return found


def _ticket_of(msg: EmailMessage) -> str:
    match = re.match(r"\[([A-Z]+-\d{4}-\d+)\]", str(msg["Subject"]).strip())
    assert match, msg["Subject"]
    return match.group(1)


def _no_identity(where: str, text: str) -> None:
    folded = text.casefold()
    for secret in SECRETS:
        assert secret.casefold() not in folded, (where, secret)


def _check_clock(world: Any) -> None:
    mail = _clock_mail(world)
    for kind, user, sent, msg in mail:
        assert plan.workday(sent), (kind, user, sent)  # working days only
        _no_identity(f"{kind} to {user} on {sent}", mail_text(msg.as_bytes()))
    reminders = Counter((_ticket_of(m), sent, user) for kind, user, sent, m in mail if kind == "reminder")
    assert max(reminders.values()) == 1  # none twice
    assert set(reminders) == plan.expected_reminders(plan.LAST)
    escalations = [(_ticket_of(m), sent, user) for kind, user, sent, m in mail if kind == "escalation"]
    assert sorted(escalations) == sorted((number, day, KADES) for number, day
                                         in plan.expected_escalations(plan.LAST).items())
    digests = Counter((user, sent) for kind, user, sent, _ in mail if kind == "digest")
    assert max(digests.values()) == 1  # one a day each
    expected = plan.expected_digest_days(plan.AFTER)
    for user in (SEKDES, KASI, KADES):
        assert {sent for who, sent in digests if who == user} == expected[user], user
    boxes = Counter((user, sent) for kind, user, sent, _ in mail if kind == "box")
    assert sorted(boxes.elements()) == [(SEKDES, day) for day in plan.box_reminder_days()]
    roles = {SEKDES: "verifier", KASI: "officer", KADES: "head"}
    mornings = 0
    for kind, user, sent, msg in mail:
        if kind == "digest" and parsedate_to_datetime(str(msg["Date"])).hour == 7:
            body = msg.get_body(("plain",))
            assert body is not None
            listed = set(re.findall(r"^\d+\. (ADU-2026-\d+)", body.get_content(), re.M))
            assert listed == plan.expected_digest(roles[user], sent), (user, sent)
            mornings += 1
    # A digest at the digest hour on every working morning its reader has something open.
    assert mornings == sum(1 for user, role in roles.items() for day in plan.days(plan.FIRST, plan.AFTER)
                           if plan.workday(day) and plan.expected_digest(role, day))


def _check_report(world: Any, cfg: Config, figures: plan.Tally) -> None:
    engine = make_engine(cfg.database_url)
    try:
        report = read_report(cfg, engine, Month(2026, 8), _at(plan.AFTER, 8))
    finally:
        engine.dispose()
    assert report.received == figures.received
    assert {c.value: n for c, n in report.by_channel.items() if n} == figures.by_channel
    assert {s.value: n for s, n in report.by_status.items() if n} == figures.by_status
    assert (report.promise.in_time, report.promise.late, report.promise.pending) == (
        figures.in_time, figures.late, figures.pending)
    assert sorted(o.number for o in report.overdue) == figures.overdue
    assert report.response.median == figures.response_median
    assert (report.suggestion_box.entries, report.suggestion_box.openings) == (len(plan.BOX), 1)
    # `mailflow report --month 2026-08 --json` (a real process, today's clock: August is over,
    # so its figures are taken at the month's end, as above).
    from tests.e2e.test_cli import mailflow, write_config

    done = mailflow("--config", str(write_config(cfg, Path(cfg.storage.directory).parent / "config.toml")),
                    "report", "--month", "2026-08", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["received"], shown["by_channel"]["kotak_saran"]) == (figures.received, len(plan.BOX))
    assert {k: shown["within_promise"][k] for k in ("in_time", "late", "pending")} == {
        "in_time": figures.in_time, "late": figures.late, "pending": figures.pending}
    assert sorted(o["number"] for o in shown["overdue"]) == figures.overdue
    _no_identity("report --json", done.stdout)
    [mailed] = [m for m in map(_read, (s.raw for s in world.messages(KADES)))
                if " ".join(str(m["Subject"]).split()).startswith("Laporan bulanan pengaduan")]
    share = f"{100 * figures.in_time / (figures.in_time + figures.late):.1f}".replace(".", ",")
    assert " ".join(str(mailed["Subject"]).split()) == (
        f"Laporan bulanan pengaduan Agustus 2026 ({figures.received} pengaduan, {share} % tepat waktu)")
    assert parsedate_to_datetime(str(mailed["Date"])).astimezone(WIB).date() == plan.AFTER
    _no_identity("the monthly report", mail_text(mailed.as_bytes()))


def _shown(count: int) -> str:
    return str(count) if count >= 3 else "< 3"


def _check_page(cfg: Config, figures: plan.Tally, site: Path) -> None:
    engine = make_engine(cfg.database_url)
    try:
        data = publish(cfg, engine, site, _at(plan.AFTER, 8))
    finally:
        engine.dispose()
    [august] = [m for m in data.months if m.month == "2026-08"]
    assert (august.received, august.in_time, august.late, august.pending) == (
        figures.received, figures.in_time, figures.late, figures.pending)
    lookup = json.loads((site / "tickets.json").read_text(encoding="utf-8"))
    entries = lookup["tickets"]
    # Counts by channel and status, a count under [publish] min_count (3) shown as "< 3".
    channels = {"email": "email", "kotak saran": "kotak_saran"}
    assert {c.label: c.shown for c in data.by_channel} == {
        c.label: _shown(figures.by_channel.get(channels.get(c.label, c.label), 0))
        for c in data.by_channel}
    assert {c.shown for c in data.by_channel} >= {"17", "3", "< 3"}
    statuses = {c.label: c.shown for c in data.by_status}
    for word, count in figures.by_status.items():
        assert statuses[Status(word).label] == _shown(count), word
    assert sorted(entries) == sorted(c.number for c in plan.CASES)
    words = {True: "tepat waktu", False: "terlambat", None: "belum ditanggapi"}
    for case in plan.CASES:
        verdict = plan.in_time(case, plan.AFTER)
        shown = entries[case.number]
        assert shown["status"] == plan.status_on(case, plan.AFTER), case.number
        expected = words[verdict]
        if verdict is False and not plan.answered_by(case, plan.AFTER):
            expected = "belum ditanggapi, melewati batas waktu"
        assert shown["timeliness"] == expected, case.number
    for path in (p for p in site.rglob("*") if p.is_file()):
        _no_identity(str(path.relative_to(site)), path.read_text(encoding="utf-8"))


def test_a_month_of_complaints_matches_the_tally(mail_world: Any, tmp_path: Path) -> None:
    for who in plan.RESIDENTS:
        if who.email not in mail_world.users:
            mail_world.add_user(who.email, "warga-secret")
    # Every ticket works to the 7-day promise (no shorter targets by priority), and the box is
    # opened on Mondays by the verifier (the default team, the verifier roles, has the head too).
    cfg = config_for(mail_world, tmp_path, reminders={"enabled": True},
                     digest={"enabled": True}, report={"enabled": True}, promise={"targets": {}},
                     suggestion_box={"enabled": True, "every": "monday", "team": ["verifikator"]})
    _live_month(mail_world, cfg)

    made = {t.number: t for t in tickets(cfg)}
    assert len(made) == len(plan.CASES)
    for case in plan.CASES:  # what intake made of each, as the script meant
        ticket = made[case.number]
        assert (ticket.channel, ticket.status) == (case.channel, plan.status_on(case, plan.AFTER))
    # The identity is there to be found where it may be: the verifier's notice of a ticket.
    assert plan.RESIDENTS[0].nik in mail_text(_first(mail_world, SEKDES, plan.CASES[0].number)
                                              .as_bytes())
    figures = plan.tally()
    # The script's month, in the tally's words (a change to the script shows here first).
    assert (figures.received, figures.in_time, figures.late, figures.pending) == (20, 15, 2, 3)
    _check_clock(mail_world)
    _check_report(mail_world, cfg, figures)
    _check_page(cfg, figures, tmp_path / "site")
