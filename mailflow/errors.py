"""One base exception for mailflow, so callers can catch everything mailflow raises on purpose."""


class MailflowError(Exception):
    """Base class of every error mailflow raises deliberately."""


class ConfigError(MailflowError):
    """The configuration file is missing, unreadable or invalid; the message says what to fix."""


class TransientError(MailflowError):
    """A failure worth retrying later (a server is down, a connection dropped)."""
