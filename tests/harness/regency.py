"""A regency's configuration file: several villages' mailboxes over one shared configuration.

Shared by the fleet's end-to-end tests and bench/regency_bench.py: the shared sections come
from `config_for` (the test village's servers, storage, database, staff), and each village
is a `[[mailboxes]]` entry with its own name, inbox, sender address and ticket prefix.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailflow.config import load_configs
from mailflow.demo.mail import to_toml
from mailflow.store.db import make_engine
from mailflow.store.lease_table import lease_rows
from tests.harness.village import complaint, config_for


@dataclass(frozen=True)
class Village:
    name: str  # the [[mailboxes]] entry's name, e.g. "desa3"
    inbox: str  # its IMAP user and From address
    prefix: str  # its ticket prefix
    password: str


def villages(count: int, password: str = "desa-secret") -> list[Village]:
    return [Village(f"desa{n}", f"pengaduan@desa{n}.example", f"D{n}", password)
            for n in range(count)]


def regency_file(world: Any, tmp_path: Path, places: list[Village], path: Path,
                 **sections: dict[str, Any]) -> Path:
    """Write the file: `config_for`'s sections shared, one entry per village."""
    data = config_for(world, tmp_path, **sections).model_dump(mode="json")
    data["mailboxes"] = [
        {"name": v.name, "village": {"name": f"Desa {v.name.title()}"},
         "imap": {"username": v.inbox, "password": v.password},
         "smtp": {"from_address": v.inbox, "from_name": f"Pemerintah Desa {v.name.title()}"},
         "tickets": {"prefix": v.prefix}}
        for v in places]
    path.write_text(to_toml(data))
    return path


def village_complaint(village: Village, n: int, resident: str, message_id: str = "") -> bytes:
    """A complaint to `village`, its text unique by (village, n); `message_id` "" a fresh one."""
    return complaint(sender=f"Warga {n} <{resident}>", to=village.inbox, message_id=message_id,
                     body=f"Nama: Warga {n}\nAlamat: Dusun Krajan RT {n}\n\n"
                          f"Lampu jalan nomor {n} di {village.name} padam sejak {n % 20 + 2} "
                          "hari. Mohon diperbaiki.\n")


def holders(config: Path) -> Counter[str]:
    """How many of the file's mailboxes each machine's instance holds (unexpired leases)."""
    configs = load_configs(config)
    keys = {cfg.mailbox_key for cfg in configs}
    engine = make_engine(configs[0].database_url)
    try:
        table = lease_rows(engine)
    finally:
        engine.dispose()
    now = time.time()
    return Counter(row.holder.split(":")[0] for key, row in table.items()
                   if key in keys and row.holder and row.expires_at.timestamp() > now)
