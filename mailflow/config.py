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

from mailflow.config_parts import (
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


def _read_secret(path: str, key: str) -> str:
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
                         self.username, _read_secret)
        if self.auth == "password" and (self.password is None) == (self.password_file is None):
            raise ValueError("give exactly one of 'password' or 'password_file'")
        if self.mark == "move" and not self.move_to_folder:
            raise ValueError("mark = \"move\" needs 'move_to_folder'")
        if self.auth == "password":
            self._secret = (self.password if self.password is not None
                            else _read_secret(str(self.password_file), "password_file"))
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
                         self.username, _read_secret)
        if self.password is not None and self.password_file is not None:
            raise ValueError("give at most one of 'password' or 'password_file'")
        if (self.password or self.password_file) and not self.username:
            raise ValueError("a password needs 'username'")
        self._secret = (_read_secret(self.password_file, "password_file")
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


AuthMethod = Literal["signed_reply", "dkim", "authserv"]


class CommandsConfig(_Section):
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
        value = (_read_secret(self.secret_file, "secret_file") if self.secret_file is not None
                 else self.secret or "")
        if value and len(value) < 16:
            raise ValueError("the secret must be at least 16 characters")
        self._secret = value.encode()
        return self

    def secret_bytes(self) -> bytes:
        return self._secret


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


def load_config(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found (give --config FILE or set "
                          f"{ENV_CONFIG}; see config.example.toml)") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, source=str(path))


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(source, err) for err in exc.errors())) from exc


def _describe(source: str, err: Any) -> str:
    """Turn one pydantic error into 'FILE: [section] key: what is expected'."""
    loc = [str(part) for part in err["loc"]]
    if len(loc) > 1:
        where = f"[{loc[0]}] " + ".".join(loc[1:])
    elif loc and err["type"] != "missing":
        where = f"[{loc[0]}]"
    else:
        where = loc[0] if loc else ""
    kind = err["type"]
    if kind == "extra_forbidden":
        what = "unknown key (check the spelling against config.example.toml)"
    elif kind == "missing":
        what = "missing; this value is required"
    else:
        given = err.get("input")
        # A database URL may hold a password: never echoed.
        secret = loc[:2] == ["database", "url"]
        shown = "" if isinstance(given, dict) or secret else f" (got {given!r})"
        what = err["msg"].removeprefix("Value error, ") + shown
    return f"{source}: {where.strip()}: {what}" if where else f"{source}: {what}"
