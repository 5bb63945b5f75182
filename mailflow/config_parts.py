"""Parts of the configuration that mailflow/config.py composes into sections.

Kept apart so config.py stays within the size limit: how mailflow logs in to a mail server
(a password, or an OAuth 2.0 access token over XOAUTH2, as Gmail and Microsoft 365 require),
the `[metrics]`, `[retry]`, `[limits]` and `[priority]` sections, and the clock's `[promise]`,
`[reminders]` and `[digest]`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from mailflow.vocabulary import Priority


class Section(BaseModel):
    """Unknown keys are errors: a typo in a key must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# https://host/..., or http:// only to this machine (a local token helper, the tests): the
# client secret and the refresh token must not cross a network in clear text.
_TOKEN_URL = r"^(https://[^\s/]+|http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?)(/\S*)?$"
_CLIENT_KEYS = ("oauth_token_url", "oauth_client_id", "oauth_refresh_token_file")


class MailAuth(Section):
    """How mailflow logs in to a mail server: `auth = "password"` (the section's password or
    password_file) or `auth = "xoauth2"`, an OAuth 2.0 access token (SASL XOAUTH2).

    The token comes from `oauth_token_command` (run without a shell; it prints the token), or
    is refreshed from an OAuth client: `oauth_token_url`, `oauth_client_id`, optionally
    `oauth_client_secret_file` (public clients have none) and `oauth_refresh_token_file`.
    The sections call `_check_auth` from their own validators.
    """

    auth: Literal["password", "xoauth2"] = "password"
    oauth_token_command: Annotated[list[Annotated[str, Field(min_length=1)]],
                                   Field(min_length=1)] | None = None
    oauth_token_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    oauth_token_url: Annotated[str, Field(pattern=_TOKEN_URL)] | None = None
    oauth_client_id: Annotated[str, Field(min_length=1)] | None = None
    oauth_client_secret_file: str | None = None
    oauth_refresh_token_file: str | None = None
    # Asked for on refresh when set (Microsoft: "https://outlook.office.com/IMAP.AccessAsUser.All
    # offline_access"); Google needs none.
    oauth_scope: str | None = None
    _client_secret: str | None = PrivateAttr(default=None)
    _refresh_token: str = PrivateAttr(default="")

    def _check_auth(self, password_given: bool, username: str | None,
                    read_secret: Callable[[str, str], str]) -> None:
        """Called by the section's validator; `read_secret(path, key)` reads a secret file."""
        given = [key for key in ("oauth_token_command", *_CLIENT_KEYS, "oauth_client_secret_file",
                                 "oauth_scope") if getattr(self, key) is not None]
        if self.auth == "password":
            if given:
                raise ValueError(f"'{given[0]}' needs auth = \"xoauth2\" (or remove it)")
            return
        if password_given:
            raise ValueError("auth = \"xoauth2\" logs in with a token, not a password: remove "
                             "'password' / 'password_file'")
        if not username:
            raise ValueError("auth = \"xoauth2\" needs 'username' (the mailbox address)")
        client = [key for key in given if key != "oauth_token_command"]
        if self.oauth_token_command is not None:
            if client:
                raise ValueError(f"give either 'oauth_token_command' or the OAuth client keys, "
                                 f"not both (remove '{client[0]}')")
            return
        missing = [key for key in _CLIENT_KEYS if getattr(self, key) is None]
        if missing:
            raise ValueError("auth = \"xoauth2\" needs 'oauth_token_command', or "
                             f"{', '.join(repr(k) for k in _CLIENT_KEYS)} (missing: "
                             f"{', '.join(repr(k) for k in missing)})")
        self._refresh_token = read_secret(str(self.oauth_refresh_token_file),
                                          "oauth_refresh_token_file")
        if self.oauth_client_secret_file is not None:
            self._client_secret = read_secret(self.oauth_client_secret_file,
                                              "oauth_client_secret_file")

    def oauth_client_secret(self) -> str | None:
        return self._client_secret

    def oauth_refresh_token(self) -> str:
        return self._refresh_token


class MetricsConfig(Section):
    """Prometheus metrics: an HTTP endpoint (`listen`), a node_exporter textfile, or off.

    The endpoint has no authentication, so it listens on loopback only unless
    `allow_non_loopback = true` says that the address is deliberately reachable (behind a
    firewall, for a Prometheus on another machine). The metrics carry no identity.
    """

    listen: str | None = None
    allow_non_loopback: bool = False
    textfile: str | None = None

    @model_validator(mode="after")
    def _check(self) -> MetricsConfig:
        if self.listen is not None and self.textfile is not None:
            raise ValueError("give at most one of 'listen' or 'textfile'")
        if self.textfile is not None and not self.textfile.endswith(".prom"):
            raise ValueError("'textfile' must end in .prom (node_exporter reads only those)")
        if self.listen is not None:
            host, port = self.address
            if not 1 <= port <= 65535:
                raise ValueError(f"listen {self.listen!r}: the port must be 1..65535")
            if not self.allow_non_loopback and not _loopback(host):
                raise ValueError(f"listen {self.listen!r} is not a loopback address; the metrics "
                                 "have no authentication: use 127.0.0.1:PORT, or set "
                                 "allow_non_loopback = true behind a firewall")
        return self

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of `listen`, e.g. "127.0.0.1:9108" or "[::1]:9108"."""
        host, sep, port = (self.listen or "").rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(f"listen {self.listen!r}: expected HOST:PORT, e.g. \"127.0.0.1:9108\"")
        return host.removeprefix("[").removesuffix("]"), int(port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PriorityConfig(Section):
    """The priority suggester's word lists: `words` names a village's own file (the shipped
    mailflow/core/priority_words.toml is the default and the starting point to copy).

    Only the path is checked here (config sits below the suggester); mailflow/service.py
    reads and compiles the file when it starts and at every SIGHUP, and a file that is
    missing or wrong is a ConfigError naming it and the entry (exit 78 at start, the running
    configuration kept on reload). `mailflow check` loads it too (cli/admin.py).
    """

    words: Annotated[str, Field(min_length=1)] | None = None

    @property
    def path(self) -> Path | None:
        return Path(self.words) if self.words is not None else None


class RetryConfig(Section):
    """How the daemon tries again after a refused login or an unreachable IMAP server."""

    # After the 1st, 2nd, ... refused login, wait this long; the last value repeats.
    login_waits_seconds: Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=1)] = [
        60.0, 300.0, 900.0, 3600.0]
    # And never more login attempts than this in any hour, whatever the waits say.
    login_attempts_per_hour: Annotated[int, Field(ge=1)] = 4
    # An unreachable server: the first wait, doubling up to the maximum, with jitter.
    reconnect_first_seconds: Annotated[float, Field(gt=0)] = 5.0
    reconnect_max_seconds: Annotated[float, Field(gt=0)] = 300.0


class LimitsConfig(Section):
    """How much mail mailflow sends to one address, and how often it repeats an alert.

    The defences against mail storms (issue 7, item 11): a flood of complaints from one
    address, a robot answering every acknowledgement, or forged commands by the dozen must
    not turn mailflow into a mail cannon. Tickets are always made; only mail is held back.
    """

    # Mail to one resident address (acknowledgements, status updates, answers), counted over
    # the last hour and the last 24 hours.
    resident_per_hour: Annotated[int, Field(ge=1)] = 5
    resident_per_day: Annotated[int, Field(ge=1)] = 20
    # Mail to one staff address (notifications, replies forwarded, refusals): higher, since
    # staff work through many tickets a day, but finite, so a flood cannot bury their inbox.
    staff_per_hour: Annotated[int, Field(ge=1)] = 30
    staff_per_day: Annotated[int, Field(ge=1)] = 200
    # Security alerts to [commands] admin_address and explanations to a staff member whose
    # address was used in a forged command: at most one per recipient per this many minutes.
    alert_window_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 60
    # The same sender, subject and text again within this many hours is one complaint: the
    # repeat gets no ticket and no acknowledgement (what stops an auto-responder loop).
    repeat_window_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 24

    @model_validator(mode="after")
    def _check(self) -> LimitsConfig:
        for who in ("resident", "staff"):
            if getattr(self, f"{who}_per_day") < getattr(self, f"{who}_per_hour"):
                raise ValueError(f"{who}_per_day must be at least {who}_per_hour")
        return self


class PromiseConfig(Section):
    """`[promise]`: shorter targets per priority, in working days to the first response.

    The promise itself (what the resident is told) stays `[calendar] working_days`; a target
    is what staff work to, and drives reminders and escalation (core/promise.py `Targets`).
    Checked against the promise by Config (`check`), since it needs both sections.
    """

    targets: dict[str, Annotated[int, Field(ge=1, le=365)]] = {"darurat": 1, "tinggi": 3}

    def check(self, working_days: int) -> None:
        """The rules of core/promise.py `targets_from` (config sits below core): a known
        priority word, 1 to the promise's working days; ValueError names the word at fault.
        The default targets are not checked: a promise shorter than them shortens them."""
        if "targets" not in self.model_fields_set:
            return
        for word, days in self.targets.items():
            if word.strip().lower() not in {p.value for p in Priority}:
                allowed = ", ".join(p.value for p in Priority)
                raise ValueError(f"[promise] targets: unknown priority {word!r} (use {allowed})")
            if days > working_days:
                raise ValueError(f"[promise] targets: {word} = {days} working days is longer "
                                 f"than the promise ([calendar] working_days = {working_days}); "
                                 f"give 1 to {working_days}")


class RemindersConfig(Section):
    """`[reminders]`: when the assigned officer (or the verifiers) is reminded of a due date,
    and when an overdue ticket is escalated to the village head (core/reminders.py)."""

    # false: no reminders and no escalations (the digest has its own switch, [digest]).
    enabled: bool = True
    # Working days before the due date; 0 is the due date itself.
    days_before: Annotated[list[Annotated[int, Field(ge=0, le=30)]], Field(max_length=10)] = [2, 0]
    # Local hour (0-23) from which the day's reminders and escalations go out.
    hour: Annotated[int, Field(ge=0, le=23)] = 8
    # Nothing goes out on a weekend, holiday or cuti bersama day; it waits for the next
    # working day.
    skip_non_working_days: bool = True


class ReportConfig(Section):
    """`[report]`: the monthly report mailed to the village head (role kepala_desa) on the
    first working day of each month, from `[digest] hour` (runners/report.py)."""

    enabled: bool = True


class DigestConfig(Section):
    """`[digest]`: the daily list of open tickets to each staff member, on working days."""

    enabled: bool = True
    hour: Annotated[int, Field(ge=0, le=23)] = 7


class PublishConfig(Section):
    """`[publish]`: the public page (`mailflow publish DIR`, core/public_page.py)."""

    # A count of tickets below this (a channel, a priority, a status) shows as "< N": a rare
    # category must not point at the person who complained.
    min_count: Annotated[int, Field(ge=1, le=100)] = 3


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                  "senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")


class SuggestionBoxConfig(Section):
    """`[suggestion_box]`: when the box (kotak saran) is opened and who opens it.

    `every` (a weekday, English or Indonesian) or `every_working_days` (N working days after
    the last recorded opening); on those days, from `hour` (local time), the team is reminded
    by mail, once a day. `team`: staff addresses or role names (verifikator, petugas,
    kepala_desa, admin) who open the box, are reminded and may record an opening; empty means
    the staff with the role verifikator. `enabled = false` (the default) sends no reminders;
    recording an opening works either way.
    """

    enabled: bool = False
    every: str | None = "monday"
    every_working_days: Annotated[int, Field(ge=1, le=60)] | None = None
    hour: Annotated[int, Field(ge=0, le=23)] = 8
    team: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _check(self) -> SuggestionBoxConfig:
        if self.every_working_days is not None and "every" in self.model_fields_set:
            raise ValueError("give either every (a weekday) or every_working_days, not both")
        if self.every_working_days is None and (self.every or "").strip().lower() not in _WEEKDAY_NAMES:
            raise ValueError(f"every: {self.every!r} is not a weekday name (use one of "
                             f"{', '.join(_WEEKDAY_NAMES[:7])}, or senin .. minggu)")
        return self

    def check(self, staff: set[str], roles: set[str]) -> None:
        """Every team entry names a configured staff address or a role (called by Config,
        which knows the staff): a typo must not leave the box without its team."""
        for entry in self.team:
            if entry.strip().lower() not in staff | roles:
                raise ValueError(f"[suggestion_box] team: {entry!r} is neither a [[staff]] email "
                                 f"nor a role ({', '.join(sorted(roles))})")


class DatabaseConfig(Section):
    # Empty means a SQLite file `mailflow.sqlite3` inside [storage] directory. PostgreSQL:
    # "postgresql://mailflow@db.example/mailflow?passfile=/etc/mailflow/pgpass" (README).
    url: str = ""

    @field_validator("url")
    @classmethod
    def _no_password(cls, url: str) -> str:
        # The configuration is readable by more than the password deserves; libpq reads it
        # from a password file (?passfile=, $PGPASSFILE, ~/.pgpass) or a service file.
        if "://" in url and urlsplit(url).password is not None:
            raise ValueError("holds a password; put it in a libpq password file (line "
                             "host:port:database:user:password, mode 0600) and add "
                             "?passfile=/path/to/it to the url (README, PostgreSQL)")
        return url


def read_secret(path: str, key: str) -> str:
    """A secret file's content, read once at load time.

    Read here rather than when first needed, so that a missing, unreadable or empty file is
    a configuration error at start (and in `mailflow check`), never a failure in the middle
    of handling a complaint.
    """
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"cannot read {key} {path!r}: {reason} (create it, readable by the "
                         "service user, holding only the secret)") from exc
    if not value:
        raise ValueError(f"{key} {path!r} is empty; write the secret into it")
    return value


AuthMethod = Literal["signed_reply", "dkim", "authserv"]


class CommandsConfig(Section):
    """How a staff command by mail is proven to come from that staff member."""

    # Any one of these is enough (the sender must also be configured staff).
    accept: Annotated[list[AuthMethod], Field(min_length=1)] = ["dkim"]
    # Secret for signed reply addresses (pengaduan+adu-2026-00042.<token>.<hmac>@..., one per
    # person and ticket; core/reply_address.py).
    secret: str | None = None
    secret_file: str | None = None
    # authserv-ids of the receiving servers whose Authentication-Results header is trusted.
    trusted_authserv_ids: list[str] = []
    # Where security events (forged or unauthenticated commands) are reported.
    admin_address: Annotated[str, Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")] | None = None
    # A staff member whose reply was applied gets a short receipt in its thread (what changed,
    # who was told); a [[staff]] entry's own `receipts` overrides this.
    receipts: bool = True
    _secret: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _check(self) -> CommandsConfig:
        if "signed_reply" in self.accept and not (self.secret or self.secret_file):
            raise ValueError("accept includes \"signed_reply\": give 'secret' or 'secret_file'")
        if self.secret is not None and self.secret_file is not None:
            raise ValueError("give at most one of 'secret' or 'secret_file'")
        if "authserv" in self.accept and not self.trusted_authserv_ids:
            raise ValueError("accept includes \"authserv\": list 'trusted_authserv_ids'")
        value = (read_secret(self.secret_file, "secret_file") if self.secret_file is not None
                 else self.secret or "")
        if value and len(value) < 16:
            raise ValueError("the secret must be at least 16 characters")
        self._secret = value.encode()
        return self

    def secret_bytes(self) -> bytes:
        return self._secret


class TemplatesConfig(Section):
    """A village's own wording: a directory of templates (same file names as the shipped
    `templates/`) that replace the shipped ones they name; the rest stay as shipped."""

    directory: str | None = None

    @field_validator("directory")
    @classmethod
    def _exists(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_dir():
            raise ValueError(f"{value!r} is not a directory (create it, or remove the key to use "
                             "the shipped templates)")
        return value
