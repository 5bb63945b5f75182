"""Dates in the words Indonesians write them: 'Kamis, 2 April 2026', 'Nov 26', '3 Des 2026'.

The names are CLDR's locale `id`, copied, not hand-made: tests/unit/test_indonesian_dates.py
checks every format here against Babel's `format_date` over whole years. Babel itself is not
loaded at run time because it reads the whole locale to name a month: 4.2 MB (the `id`
and root data: every territory, currency and time zone name) in every mailflow process that
writes a date, for nineteen words (issue 10's memory budget).
"""

from __future__ import annotations

from datetime import date

__all__ = ["day_month_year", "long_date", "month_year", "short_date", "short_month",
           "short_month_year"]

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov",
                "Des")
# date.weekday(): Monday is 0.
WEEKDAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def long_date(day: date) -> str:
    """'Kamis, 2 April 2026' (CLDR pattern "EEEE, d MMMM y")."""
    return f"{WEEKDAYS[day.weekday()]}, {day_month_year(day)}"


def day_month_year(day: date) -> str:
    """'2 April 2026' ("d MMMM y")."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def month_year(day: date) -> str:
    """'November 2026' ("MMMM y")."""
    return f"{MONTHS[day.month - 1]} {day.year}"


def short_month_year(day: date) -> str:
    """'Nov 26' ("MMM yy"), for chart axes."""
    return f"{MONTHS_SHORT[day.month - 1]} {day.year % 100:02d}"


def short_date(day: date) -> str:
    """'3 Des 2026' ("d MMM y"), for tables."""
    return f"{day.day} {MONTHS_SHORT[day.month - 1]} {day.year}"


def short_month(day: date) -> str:
    """'Des' ("MMM")."""
    return MONTHS_SHORT[day.month - 1]
