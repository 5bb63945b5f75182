"""The identity a complaint yields, apart from the code that finds it.

Tickets, the store, notices and mailflow.core.privacy all handle an Identity without
extracting one; keeping the type in a module of its own lets privacy depend on it
while extraction depends on privacy, without an import cycle. The bound on how much
of a value is examined lives here too, because the phone parser keeps to it as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["VALUE_WINDOW", "Extraction", "Identity"]

VALUE_WINDOW: Final = 1000  # longer values are cut before they are examined


@dataclass(frozen=True)
class Identity:
    name: str | None = None
    nik: str | None = None
    nik_problem: str | None = None
    phone: str | None = None
    address: str | None = None
    email: str | None = None

    @property
    def nik_valid(self) -> bool:
        return self.nik is not None and self.nik_problem is None


@dataclass(frozen=True)
class Extraction:
    identity: Identity
    description: str
