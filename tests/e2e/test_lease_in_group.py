"""The lease is renewed between intake groups, never from another connection while a group's
transaction holds SQLite's write lock: that renewal would wait for the group and fail as
"database is locked", ending the pass (issue 10: found by the intake bench, where a group
slower than lease_renew_seconds stopped a 2,000-message pass after its first group)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mailflow.service import Service
from tests.e2e.support import INBOX, complaint, config_for, tickets


def test_a_renewal_due_at_every_message_does_not_stop_the_pass(mail_world: Any,
                                                               tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake={"lease_seconds": 2.0,
                                                   "lease_renew_seconds": 0.05},
                     limits={"resident_per_hour": 100, "resident_per_day": 100})
    for n in range(3):
        mail_world.deliver(INBOX, complaint(
            sender=f"Warga {n} <warga{n}@warga.example>",
            body=f"Nama: Warga {n}\nAlamat: Dusun Krajan RT {n}\n\nSaluran {n} tersumbat.\n"))

    def slow() -> bool:
        time.sleep(0.1)  # longer than lease_renew_seconds: a renewal is due at every ask
        return False

    service = Service(cfg, stop_requested=slow, keep_lease=True, instance="slow:1:z")
    result = service.poll_once()
    service.engine.dispose()
    assert result.storage_error is None
    assert result.intake is not None and result.intake.tickets == 3
    assert len(tickets(cfg)) == 3
