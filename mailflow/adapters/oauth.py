"""OAuth 2.0 access tokens for XOAUTH2 logins (Gmail, Microsoft 365), and the SASL string.

A token comes from one of two places, as configured per server (config_parts.MailAuth):

- `oauth_token_command`: a program run without a shell; its standard output is the token.
  It is run for every login (such helpers keep their own cache). Exit status 75
  (EX_TEMPFAIL) means "try again later"; any other failure needs a person.
- an OAuth client: a POST of grant_type=refresh_token to `oauth_token_url`. The access token
  is kept until shortly before its `expires_in`, per client and refresh token, for every
  session of this process; a refresh token the endpoint rotates is used from then on, and
  written back to `oauth_refresh_token_file` when mailflow may write there.

What needs a person (a refused refresh token, a wrong client, a failing command) is
`LoginRefused`, naming the key to fix; an endpoint that cannot be reached is the server
section's transient error (`ImapUnavailable` / `SmtpUnavailable`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from mailflow.config_parts import MailAuth
from mailflow.errors import LoginRefused, TransientError

log = logging.getLogger(__name__)

# Refresh this long before the token's end (capped at half its life for short-lived tokens).
_MARGIN_SECONDS = 120.0
# Without expires_in, assume the common one hour.
_DEFAULT_LIFETIME = 3600.0
_SHOWN = 300  # characters of an endpoint's or a command's complaint shown in an error


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, before base64 (what servers decode and check)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def xoauth2_base64(user: str, token: str) -> str:
    return base64.b64encode(xoauth2_string(user, token).encode()).decode("ascii")


@dataclass
class _Cached:
    token: str
    good_until: float  # time.monotonic()
    refresh_token: str


# (token url, client id, refresh token from the file, scope) -> the newest access token: IMAP
# and SMTP share one token when they share a client (Gmail's https://mail.google.com/ does both).
_cache: dict[tuple[str, str, str, str], _Cached] = {}
_lock = threading.Lock()
# Refresh token files a rotated token could not be written to (warned about once).
_unsaved: set[Path] = set()


class TokenSource:
    """The access token for one server section ("imap" or "smtp")."""

    def __init__(self, cfg: MailAuth, section: str, unavailable: type[TransientError]) -> None:
        self.cfg = cfg
        self.section = section
        self.unavailable = unavailable

    @property
    def _key(self) -> tuple[str, str, str, str]:
        return (self.cfg.oauth_token_url or "", self.cfg.oauth_client_id or "",
                self.cfg.oauth_refresh_token(), self.cfg.oauth_scope or "")

    def token(self) -> str:
        if self.cfg.oauth_token_command is not None:
            return self._run_command(self.cfg.oauth_token_command)
        with _lock:
            cached = _cache.get(self._key)
            if cached is not None and time.monotonic() < cached.good_until:
                return cached.token
            refresh = cached.refresh_token if cached else self.cfg.oauth_refresh_token()
            fresh = self._refresh(refresh)
            _cache[self._key] = fresh
        if fresh.refresh_token != refresh:
            self._save_rotated(fresh.refresh_token)
        return fresh.token

    def forget(self) -> None:
        """The server refused the token: the next login asks for a new one."""
        with _lock:
            cached = _cache.get(self._key)
            if cached is not None:
                cached.good_until = 0.0

    def probe(self) -> str:
        """Get a token, for `mailflow check`; where it came from, in one line (never the token)."""
        token = self.token()
        if self.cfg.oauth_token_command is not None:
            return (f"access token from [{self.section}] oauth_token_command "
                    f"{self.cfg.oauth_token_command[0]} ({len(token)} characters)")
        with _lock:
            left = _cache[self._key].good_until - time.monotonic()
        return (f"access token refreshed at {self.cfg.oauth_token_url} for client "
                f"{self.cfg.oauth_client_id} (reused for {max(0, int(left))} s)")

    def refused_hint(self) -> str:
        """What to check when the mail server refuses a token it was given."""
        source = ("oauth_token_command" if self.cfg.oauth_token_command is not None
                  else "oauth_refresh_token_file (and oauth_scope)")
        return (f"check [{self.section}] username and {source}: the token must be for this "
                "mailbox and allow IMAP/SMTP (Gmail: scope https://mail.google.com/)")

    def _save_rotated(self, refresh_token: str) -> None:
        """Keep a refresh token the provider rotated (Microsoft does, at every refresh; each
        lasts 90 days) for the next start: written over oauth_refresh_token_file in one
        rename, with the file's mode and owner, when its directory is writable. Otherwise it is used
        until mailflow stops, and said once."""
        path = Path(str(self.cfg.oauth_refresh_token_file))
        try:
            before = path.stat()
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(refresh_token + "\n")
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(temp, before.st_mode & 0o777)
                # `mailflow check` run as root must not leave a file the service cannot read.
                with contextlib.suppress(OSError):
                    os.chown(temp, before.st_uid, before.st_gid)
                os.replace(temp, path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError as exc:
            if path not in _unsaved:
                log.warning("[%s] oauth_refresh_token_file %s: the provider's new refresh token "
                            "cannot be saved there (%s); it is used until mailflow stops. Keep "
                            "the file in a directory mailflow may write, e.g. /var/lib/mailflow",
                            self.section, path, exc.strerror or exc)
            _unsaved.add(path)
            return
        log.info("[%s] oauth_refresh_token_file %s: saved the provider's new refresh token",
                 self.section, path)

    # -- a command ------------------------------------------------------------------------

    def _run_command(self, command: list[str]) -> str:
        key = f"[{self.section}] oauth_token_command"
        timeout = self.cfg.oauth_token_timeout_seconds
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise self.unavailable(f"{key} {command[0]} gave no token within {timeout:g} s "
                                   f"({_shown(exc.stderr)})") from exc
        except OSError as exc:
            raise LoginRefused(f"{key}: cannot run {command[0]!r}: {exc.strerror or exc} (give "
                               "the program's full path; it must be executable by the service "
                               "user)") from exc
        if done.returncode != 0:
            error = (self.unavailable if done.returncode == 75 else LoginRefused)
            raise error(f"{key} {command[0]} failed with exit status {done.returncode}: "
                        f"{_shown(done.stderr)}")
        token = done.stdout.decode("utf-8", "replace").strip()
        if not token or not token.isascii() or any(c.isspace() for c in token):
            raise LoginRefused(f"{key} {command[0]} did not print one access token on standard "
                               f"output ({_shown(done.stderr)})")
        return token

    # -- a refresh token ------------------------------------------------------------------

    def _refresh(self, refresh_token: str) -> _Cached:
        cfg = self.cfg
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": cfg.oauth_client_id or ""}
        if cfg.oauth_client_secret() is not None:
            form["client_secret"] = cfg.oauth_client_secret() or ""
        if cfg.oauth_scope:
            form["scope"] = cfg.oauth_scope
        request = urllib.request.Request(
            str(cfg.oauth_token_url), data=urllib.parse.urlencode(form).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"}, method="POST")
        where = f"[{self.section}] oauth_token_url {cfg.oauth_token_url}"
        try:
            with urllib.request.urlopen(request, timeout=cfg.oauth_token_timeout_seconds) as reply:
                body = json.loads(reply.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, where) from exc
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise self.unavailable(f"{where} cannot be reached: {reason}") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.unavailable(f"{where} answered something other than JSON") from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self.unavailable(f"{where} answered without an access_token")
        lifetime = _lifetime(body.get("expires_in"))
        rotated = body.get("refresh_token")
        return _Cached(token, time.monotonic() + lifetime - min(_MARGIN_SECONDS, lifetime / 2),
                       rotated if isinstance(rotated, str) and rotated else refresh_token)

    def _http_error(self, exc: urllib.error.HTTPError, where: str) -> Exception:
        try:
            body = json.loads(exc.read().decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            body = {}
        body = body if isinstance(body, dict) else {}
        code = str(body.get("error", ""))
        said = _shown(f"{code}: {body.get('error_description', '')}".strip(": ").encode(),
                      empty="no details")
        if exc.code >= 500 or exc.code == 429:
            return self.unavailable(f"{where} answered HTTP {exc.code} ({said}); retrying later")
        if code in ("invalid_client", "unauthorized_client"):
            fix = "oauth_client_id and oauth_client_secret_file"
        elif code == "invalid_grant":
            fix = "oauth_refresh_token_file (get a new refresh token; see the README)"
        elif code == "invalid_scope":
            fix = "oauth_scope"
        else:
            fix = "oauth_token_url, oauth_client_id and oauth_refresh_token_file"
        return LoginRefused(f"{where} refused the refresh (HTTP {exc.code}, {said}); check "
                            f"[{self.section}] {fix}")


def _lifetime(value: object) -> float:
    """Seconds from `expires_in` (a number, or a numeric string from some providers)."""
    try:
        seconds = float(value) if isinstance(value, (int, float, str)) else _DEFAULT_LIFETIME
    except ValueError:
        return _DEFAULT_LIFETIME
    return seconds if seconds > 0 else _DEFAULT_LIFETIME


def _shown(stderr: bytes | None, empty: str = "nothing on standard error") -> str:
    """The last lines of a complaint, on one line, cut to a readable length."""
    text = " ".join((stderr or b"").decode("utf-8", "replace").split())
    return (text[-_SHOWN:] if len(text) > _SHOWN else text) or empty
