"""Every error mailflow raises on purpose, in one tree, converted at the edge where it starts.

    MailflowError
    ├── ConfigError            the configuration (or a file it names) is wrong: fix it, exit 78
    │   └── SchemaError        the database schema does not match this version: run a migration
    ├── LoginRefused           a mail server refused the configured user or password: fix it
    ├── TransientError         worth retrying later; nothing is the message's fault
    │   ├── ImapUnavailable    the IMAP server cannot be reached or refused the session
    │   ├── SmtpUnavailable    the SMTP server cannot be reached
    │   ├── StorageUnavailable the disk or the database cannot be written (full, read-only)
    │   └── MailboxBusy        another mailflow process is serving the mailbox: exit 75
    └── (anything else)        a bug or a bad message: the crash barrier quarantines the message

The runners rely on the tree: a message is quarantined only for its own fault, never because
a server or the disk failed while it was being handled, so no good complaint is set aside.
"""


class MailflowError(Exception):
    """Base class of every error mailflow raises deliberately."""


class ConfigError(MailflowError):
    """The configuration file is missing, unreadable or invalid; the message says what to fix."""


class SchemaError(ConfigError):
    """The database was made by another version of mailflow; the message says what to run."""


class LoginRefused(MailflowError):
    """A mail server refused the login: not an outage, and retrying can lock the account."""


class TransientError(MailflowError):
    """A failure worth retrying later (a server is down, a connection dropped)."""


class ImapUnavailable(TransientError):
    """The IMAP server could not be reached, or a command on it failed."""


class SmtpUnavailable(TransientError):
    """The SMTP server could not be reached or dropped the connection."""


class StorageUnavailable(TransientError):
    """The storage directory or the database could not be written (disk full, permissions)."""


class MailboxBusy(TransientError):
    """Another process is serving the mailbox (holds its lock, or wrote the same rows at the
    same moment); nothing failed, try again later."""


class PublishRefused(MailflowError):
    """`mailflow publish` will not write into a directory that holds things it did not make."""
