"""Loading and validating the one TOML configuration file.

The administrator must be able to check the configuration before starting the
service, so every problem is reported with the file, the key and what is
expected, and the CLI turns it into exit status 78 (EX_CONFIG).
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from mailflow.config_file import describe_error, mailbox_tables
from mailflow.config_parts import (
    CommandsConfig,
    DatabaseConfig,
    DigestConfig,
    LimitsConfig,
    MailAuth,
    MetricsConfig,
    PriorityConfig,
    PromiseConfig,
    PublishConfig,
    RemindersConfig,
    ReportConfig,
    RetryConfig,
    SuggestionBoxConfig,
    TemplatesConfig,
    read_secret,
)
from mailflow.errors import ConfigError
from mailflow.vocabulary import IDENTITY_ROLES, Role

DEFAULT_CONFIG_PATH = Path("/etc/mailflow/config.toml")
ENV_CONFIG = "MAILFLOW_CONFIG"

Security = Literal["ssl", "starttls", "plain"]
Port = Annotated[int, Field(ge=1, le=65535)]


class _Section(BaseModel):
    """Unknown keys are errors: a typo in a key must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class VillageConfig(_Section):
    name: Annotated[str, Field(min_length=1)]
    # Shown to residents after the village name, e.g. "Kecamatan Tengaran, Kabupaten Semarang".
    region: str = ""


class ImapConfig(MailAuth):
    host: Annotated[str, Field(min_length=1)]
    port: Port | None = None
    security: Security = "ssl"
    username: Annotated[str, Field(min_length=1)]
    password: str | None = None
    password_file: str | None = None
    folder: str = "INBOX"
    # A PEM file of CA certificates to verify the server with, instead of the system's.
    tls_ca_file: str | None = None
    # How a taken message is marked once its ticket is committed: a private keyword
    # (the default; invisible in webmail), or a move to `move_to_folder`.
    mark: Literal["keyword", "move", "none"] = "keyword"
    keyword: Annotated[str, Field(pattern=r"^\$?[A-Za-z0-9_.-]{1,64}$")] = "$MailflowTaken"
    move_to_folder: str | None = None
    # Headers are fetched in bounded chunks: Dovecot refuses command lines over 64 KB.
    fetch_chunk: Annotated[int, Field(ge=1, le=1000)] = 200
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    _secret: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _check(self) -> ImapConfig:
        self._check_auth(self.password is not None or self.password_file is not None,
                         self.username, read_secret)
        if self.auth == "password" and (self.password is None) == (self.password_file is None):
            raise ValueError("give exactly one of 'password' or 'password_file'")
        if self.mark == "move" and not self.move_to_folder:
            raise ValueError("mark = \"move\" needs 'move_to_folder'")
        if self.auth == "password":
            self._secret = (self.password if self.password is not None
                            else read_secret(str(self.password_file), "password_file"))
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"ssl": 993, "starttls": 143, "plain": 143}[self.security]

    def secret(self) -> str:
        return self._secret


class SmtpConfig(MailAuth):
    host: Annotated[str, Field(min_length=1)]
    port: Port | None = None
    security: Security = "starttls"
    username: str | None = None
    password: str | None = None
    password_file: str | None = None
    from_address: Annotated[str, Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")]
    # The display name residents see, e.g. "Pemerintah Desa Klero".
    from_name: str = ""
    # A PEM file of CA certificates to verify the server with, instead of the system's.
    tls_ca_file: str | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    _secret: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self) -> SmtpConfig:
        self._check_auth(self.password is not None or self.password_file is not None,
                         self.username, read_secret)
        if self.password is not None and self.password_file is not None:
            raise ValueError("give at most one of 'password' or 'password_file'")
        if (self.password or self.password_file) and not self.username:
            raise ValueError("a password needs 'username'")
        self._secret = (read_secret(self.password_file, "password_file")
                        if self.password_file is not None else self.password)
        return self

    @property
    def effective_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "plain": 25}[self.security]

    def secret(self) -> str | None:
        return self._secret


class StorageConfig(_Section):
    directory: str = "/var/lib/mailflow"
    max_attachment_bytes: Annotated[int, Field(ge=0)] = 10 * 1024 * 1024
    max_attachments: Annotated[int, Field(ge=0)] = 20
    # Staff notifications carry attachments up to this total; larger ones stay on the server.
    notify_attachment_bytes: Annotated[int, Field(ge=0)] = 5 * 1024 * 1024
    # A message larger than this is not downloaded; it is quarantined for staff to read in webmail.
    max_message_bytes: Annotated[int, Field(ge=1024)] = 40 * 1024 * 1024


class IntakeConfig(_Section):
    subject_phrases: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] = [
        "Pengaduan Masyarakat"
    ]
    poll_seconds: Annotated[float, Field(gt=0)] = 60.0
    # Mail already in the mailbox at the first start is not taken unless it arrived on or
    # after this day (README "First start and old mail"); a TOML or quoted ISO date.
    take_since: Annotated[date, Field(strict=False)] | None = None
    # IMAP IDLE (RFC 2177) where the server offers it: new mail starts a pass at once. The
    # IDLE is re-issued every idle_renew_seconds (servers drop one after 30 minutes).
    idle: bool = True
    idle_renew_seconds: Annotated[float, Field(gt=0, le=29 * 60)] = 600.0
    # `mailflow poll --once` waits this long for a pass of the service to end, then exits 75.
    lock_wait_seconds: Annotated[float, Field(ge=0)] = 30.0
    # The poller's lease on the mailbox, renewed every lease_renew_seconds (README).
    lease_seconds: Annotated[float, Field(ge=2, le=600)] = 15.0
    lease_renew_seconds: Annotated[float, Field(gt=0)] = 5.0

    @model_validator(mode="after")
    def _check_lease(self) -> IntakeConfig:
        if self.lease_renew_seconds * 2 > self.lease_seconds:
            raise ValueError(f"lease_renew_seconds ({self.lease_renew_seconds:g}) must be at most "
                             f"half of lease_seconds ({self.lease_seconds:g})")
        return self


class CalendarConfig(_Section):
    timezone: str = "Asia/Jakarta"
    working_days: Annotated[int, Field(ge=1, le=365)] = 7
    # TOML dates (2026-12-24) or quoted ISO dates ("2026-12-24"): both are common in practice.
    extra_holidays: list[Annotated[date, Field(strict=False)]] = []
    extra_workdays: list[Annotated[date, Field(strict=False)]] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                             "'Asia/Jakarta')") from exc
        return value


class TicketsConfig(_Section):
    prefix: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{0,9}$")] = "ADU"


class OutboxConfig(_Section):
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 12
    first_retry_seconds: Annotated[float, Field(gt=0)] = 60.0
    max_retry_seconds: Annotated[float, Field(gt=0)] = 3600.0
    # On each working day, at the first poll at or after this local hour, [commands]
    # admin_address gets one note listing the parked mail, if there is any.
    parked_note_hour: Annotated[int, Field(ge=0, le=23)] = 8
    # One pass sends what is due for at most this long; the rest goes in the next pass.
    pass_seconds: Annotated[float, Field(gt=0)] = 30.0


class StaffMember(_Section):
    email: Annotated[str, Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")]
    name: Annotated[str, Field(min_length=1)]
    # strict=False: TOML gives the role as a string; the enum still rejects unknown words.
    roles: Annotated[list[Annotated[Role, Field(strict=False)]], Field(min_length=1)]
    # A short receipt for each applied reply: None follows [commands] receipts.
    receipts: bool | None = None

    @property
    def address(self) -> str:
        return self.email.lower()

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def sees_identity(self) -> bool:
        return not IDENTITY_ROLES.isdisjoint(self.roles)


class Config(_Section):
    village: VillageConfig
    imap: ImapConfig
    smtp: SmtpConfig
    database: DatabaseConfig = DatabaseConfig()
    storage: StorageConfig = StorageConfig()
    intake: IntakeConfig = IntakeConfig()
    calendar: CalendarConfig = CalendarConfig()
    tickets: TicketsConfig = TicketsConfig()
    outbox: OutboxConfig = OutboxConfig()
    limits: LimitsConfig = LimitsConfig()
    retry: RetryConfig = RetryConfig()
    staff: Annotated[list[StaffMember], Field(min_length=1)]
    commands: CommandsConfig = CommandsConfig()
    metrics: MetricsConfig = MetricsConfig()
    priority: PriorityConfig = PriorityConfig()
    promise: PromiseConfig = PromiseConfig()
    reminders: RemindersConfig = RemindersConfig()
    digest: DigestConfig = DigestConfig()
    publish: PublishConfig = PublishConfig()
    report: ReportConfig = ReportConfig()
    suggestion_box: SuggestionBoxConfig = SuggestionBoxConfig()
    templates: TemplatesConfig = TemplatesConfig()
    # The [[mailboxes]] entry's name; "" for a file serving one mailbox (config_file.py).
    _name: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _check_staff(self) -> Config:
        if not any(member.has(Role.VERIFIKATOR) for member in self.staff):
            raise ValueError("[[staff]] needs at least one member with role \"verifikator\" "
                             "(who verifies complaints and sees the reporter's identity)")
        addresses = [member.address for member in self.staff]
        if len(set(addresses)) != len(addresses):
            raise ValueError("[[staff]] lists the same email twice")
        self.promise.check(self.calendar.working_days)
        self.suggestion_box.check(set(addresses), {r.value for r in Role})
        if "signed_reply" in self.commands.accept:
            # pengaduan+adu-2026-000042.<6-char token>.<16-char tag>: the same arithmetic as
            # core/reply_address.py longest_local_part (config sits below core).
            local = self.smtp.from_address.rsplit("@", 1)[0]
            longest = len(local) + 1 + len(self.tickets.prefix) + 12 + 1 + 6 + 1 + 16
            if longest > 64:
                raise ValueError(f"[smtp] from_address: its local part is too long for signed reply "
                                 f"addresses ({longest} > 64 characters); use a shorter one")
        return self

    def staff_member(self, address: str | None) -> StaffMember | None:
        wanted = (address or "").lower()
        return next((m for m in self.staff if m.address == wanted), None)

    def staff_with(self, role: Role) -> list[StaffMember]:
        return [m for m in self.staff if m.has(role)]

    @property
    def name(self) -> str:
        return self._name

    @property
    def scope(self) -> str:
        """Whose tickets these are: the prefix, which no two villages of one database share."""
        return self.tickets.prefix

    @property
    def mailbox_key(self) -> str:
        """The mailbox's name in its lock file and its lease: "user@host/folder"."""
        return f"{self.imap.username}@{self.imap.host}/{self.imap.folder}"

    @property
    def mailbox_identity(self) -> str:
        """The mailbox as the server sees it, for telling two entries that name one mailbox
        apart from two mailboxes: host names and logins compare without case (servers take
        either), and INBOX is INBOX whatever its case (RFC 3501 5.1). Not a stored key:
        `mailbox_key` stays as written, the key of existing intake records and leases."""
        folder = self.imap.folder
        folder = "INBOX" if folder.upper() == "INBOX" else folder
        return f"{self.imap.username.casefold()}@{self.imap.host.casefold()}/{folder}"

    @property
    def storage_dir(self) -> Path:
        return Path(self.storage.directory)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.storage_dir / 'mailflow.sqlite3'}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.calendar.timezone)


def resolve_path(cli_path: str | None) -> Path:
    """`--config`, then `$MAILFLOW_CONFIG`, then the system-wide default."""
    if cli_path:
        return Path(cli_path)
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    return DEFAULT_CONFIG_PATH


def load_config(path: Path, mailbox: str | None = None) -> Config:
    """The configuration of one mailbox: `mailbox` names a [[mailboxes]] entry, and may be
    left out only when the file serves one mailbox (`--mailbox NAME` on the command line)."""
    configs = load_configs(path)
    if mailbox is None:
        if len(configs) > 1:
            names = ", ".join(cfg.name for cfg in configs)
            raise ConfigError(f"{path}: serves {len(configs)} mailboxes ({names}); say which "
                              "with --mailbox NAME")
        return configs[0]
    found = next((cfg for cfg in configs if cfg.name == mailbox), None)
    if found is None:
        names = ", ".join(cfg.name for cfg in configs if cfg.name) or "none: it has no [[mailboxes]]"
        raise ConfigError(f"{path}: no mailbox named {mailbox!r} (its mailboxes: {names})")
    return found


def load_configs(path: Path) -> list[Config]:
    """Every mailbox the file serves, each a whole Config; one without [[mailboxes]]."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found (give --config FILE or set "
                          f"{ENV_CONFIG}; see config.example.toml)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_configs(data, source=str(path))


def parse_configs(data: dict[str, Any], source: str = "<config>") -> list[Config]:
    configs, problems = [], []
    for name, table in mailbox_tables(data, source):
        try:
            cfg = parse_config(table, f"{source} [[mailboxes]] {name!r}" if name else source)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        cfg._name = name
        configs.append(cfg)
    if problems:
        raise ConfigError("\n".join(problems))
    for what, key in (("[tickets] prefix", "scope"), ("[imap] mailbox", "mailbox_identity")):
        values = [getattr(cfg, key) for cfg in configs]
        twice = sorted({value for value in values if values.count(value) > 1})
        if twice:
            raise ConfigError(f"{source}: {what} {twice[0]!r} is given to two mailboxes; each "
                              "village needs its own (a ticket's prefix says whose it is)")
    return configs


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_error(source, err) for err in exc.errors())) from exc
