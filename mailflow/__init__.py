"""mailflow: a village's official mailbox as a complaint service with a 7-working-day promise."""

__version__ = "0.1.0"
