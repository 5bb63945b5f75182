"""XOAUTH2 (Gmail, Microsoft 365): tokens refreshed or fetched, and logins a real peer checks.

The IMAP peer is a private Dovecot whose oauth2 passdb asks the loopback provider
(tests/harness/oauth.py) whether each token is live and whose it is; the SMTP peer is an
aiosmtpd server that offers only XOAUTH2 and accepts exactly the SASL string of a live
token for its user.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mailflow.adapters.oauth import TokenSource
from mailflow.config import Config
from mailflow.demo.loopback import free_port
from mailflow.errors import ImapUnavailable, LoginRefused
from mailflow.service import Service
from tests.e2e.conftest import USERS, chosen_backend, server_workdir, stop_imap
from tests.e2e.support import INBOX, SITI, complaint, config_for, tickets
from tests.e2e.test_check import _check, _lines
from tests.harness.oauth import TokenEndpoint, XOAuthHandler, start_smtp
from tests.harness.servers import DovecotServer

pytestmark = pytest.mark.e2e

CLIENT_ID = "123-mailflow.apps.example"
CLIENT_SECRET = "GOCSPX-client-secret-for-tests"
REFRESH = "1//0refresh-token-for-tests"


@dataclass
class Provider:
    endpoint: TokenEndpoint
    imap: DovecotServer
    smtp: XOAuthHandler
    world: Any  # what config_for needs: hosts, ports, users
    secrets: Path


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    if chosen_backend() != "dovecot":
        pytest.skip("XOAUTH2 over IMAP is checked by Dovecot's oauth2 passdb")
    endpoint = TokenEndpoint(CLIENT_ID, CLIENT_SECRET, REFRESH, {INBOX})
    endpoint.start()
    workdir = server_workdir()
    try:
        imap = DovecotServer(workdir, dict(USERS),
                             oauth2_introspection_url=endpoint.introspection_url)
        imap.start()
        try:
            smtp_port = free_port()
            controller, handler = start_smtp(endpoint, smtp_port)
            secrets = tmp_path / "secrets"
            secrets.mkdir()
            (secrets / "client-secret").write_text(CLIENT_SECRET + "\n")
            (secrets / "refresh-token").write_text(REFRESH + "\n")
            (secrets / "refresh-token").chmod(0o600)
            world = SimpleNamespace(imap_host=imap.host, imap_port=imap.port,
                                    smtp_host="127.0.0.1", smtp_port=smtp_port, users=imap.users)
            try:
                yield Provider(endpoint, imap, handler, world, secrets)
            finally:
                controller.stop()
        finally:
            stop_imap(imap)
    finally:
        endpoint.stop()
        # Dovecot's directory under /tmp: left behind, ten of them a run piled up there.
        shutil.rmtree(workdir, ignore_errors=True)


def client_keys(p: Provider, **extra: Any) -> dict[str, Any]:
    return {"auth": "xoauth2", "password": None, "oauth_token_url": p.endpoint.url,
            "oauth_client_id": CLIENT_ID,
            "oauth_client_secret_file": str(p.secrets / "client-secret"),
            "oauth_refresh_token_file": str(p.secrets / "refresh-token"), **extra}


def command_keys(script: str, **extra: Any) -> dict[str, Any]:
    return {"auth": "xoauth2", "password": None,
            "oauth_token_command": [sys.executable, "-c", script], **extra}


def oauth_config(p: Provider, tmp_path: Path, keys: dict[str, Any]) -> Config:
    return config_for(p.world, tmp_path, imap=keys, smtp={"username": INBOX, **keys})


def test_check_refreshes_one_token_and_logs_in_to_both_servers(provider: Provider,
                                                              tmp_path: Path) -> None:
    result = _check(oauth_config(provider, tmp_path, client_keys(provider)), tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = _lines(result)
    assert [lines[name] for name in ("imap-token", "imap", "smtp-token", "smtp")] == ["ok"] * 4
    # One refresh, with exactly what the provider wants; the token then serves both logins.
    assert provider.endpoint.requests == [{"grant_type": "refresh_token", "refresh_token": REFRESH,
                                           "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]
    (token,) = provider.endpoint.issued
    assert provider.smtp.logins == [f"user={INBOX}\x01auth=Bearer {token}\x01\x01"]
    assert f"user=<{INBOX}>, method=XOAUTH2" in provider.imap.log_tail(50)
    for secret in (token, REFRESH, CLIENT_SECRET):
        assert secret not in result.stdout + result.stderr


def test_a_poll_takes_a_complaint_and_answers_it_over_xoauth2(provider: Provider,
                                                              tmp_path: Path) -> None:
    cfg = oauth_config(provider, tmp_path, client_keys(provider))
    service = Service(cfg)
    try:
        service.poll_once()  # mailflow meets the mailbox; then a complaint arrives
        provider.imap.deliver(INBOX, complaint())
        result = service.poll_once()
    finally:
        service.engine.dispose()

    assert result.login_error is None and result.imap_error is None
    assert len(tickets(cfg)) == 1
    assert SITI in [rcpt for _, rcpts, _ in provider.smtp.accepted for rcpt in rcpts]
    assert len(provider.smtp.logins) == 1 and provider.smtp.refused == []


def test_a_revoked_refresh_token_is_a_refused_login_naming_the_file(provider: Provider,
                                                                    tmp_path: Path) -> None:
    provider.endpoint.refresh_token = "1//0another-one"  # revoked, or expired after 90 days

    result = _check(oauth_config(provider, tmp_path, client_keys(provider)), tmp_path)

    assert result.returncode == 78
    assert _lines(result)["imap-token"] == "FAIL"
    assert "invalid_grant" in result.stdout and "[imap] oauth_refresh_token_file" in result.stdout
    assert "Traceback" not in result.stderr and REFRESH not in result.stdout


def test_a_wrong_client_secret_names_the_client_keys(provider: Provider, tmp_path: Path) -> None:
    (provider.secrets / "client-secret").write_text("not-the-secret\n")

    result = _check(oauth_config(provider, tmp_path, client_keys(provider)), tmp_path)

    assert result.returncode == 78
    assert "oauth_client_id and oauth_client_secret_file" in result.stdout


def test_an_unreachable_token_endpoint_is_an_outage(provider: Provider, tmp_path: Path) -> None:
    keys = client_keys(provider, oauth_token_url=f"http://127.0.0.1:{free_port()}/token")

    result = _check(oauth_config(provider, tmp_path, keys), tmp_path)

    assert result.returncode == 69, result.stdout
    assert _lines(result)["imap-token"] == "FAIL" and "cannot be reached" in result.stdout


def test_a_token_command_logs_in_and_a_token_the_server_refuses_is_a_refused_login(
        provider: Provider, tmp_path: Path) -> None:
    provider.endpoint.issued["live-token-from-helper"] = INBOX
    good = _check(oauth_config(provider, tmp_path, command_keys("print('live-token-from-helper')")),
                  tmp_path)
    bad = _check(oauth_config(provider, tmp_path, command_keys("print('stale-token')")), tmp_path)

    assert good.returncode == 0, good.stdout + good.stderr
    assert "oauth_token_command" in _line(good, "imap-token")
    assert bad.returncode == 78
    assert _lines(bad)["imap-token"] == "ok" and _lines(bad)["imap"] == "FAIL"
    assert "refused the XOAUTH2 login" in _line(bad, "imap")
    assert _lines(bad)["smtp"] == "FAIL" and "oauth_token_command" in _line(bad, "smtp")
    assert provider.endpoint.requests == []  # a command never touches the token endpoint


@pytest.mark.parametrize(("status", "expected"), [(1, 78), (75, 69)])
def test_a_failing_token_command_shows_its_complaint(provider: Provider, tmp_path: Path,
                                                     status: int, expected: int) -> None:
    script = f"import sys; sys.stderr.write('helper: no cached credentials\\n'); sys.exit({status})"

    result = _check(oauth_config(provider, tmp_path, command_keys(script)), tmp_path)

    assert result.returncode == expected
    assert "helper: no cached credentials" in _line(result, "imap-token")
    assert f"exit status {status}" in _line(result, "imap-token")


def test_the_access_token_is_reused_until_shortly_before_it_expires(provider: Provider,
                                                                    tmp_path: Path) -> None:
    import time

    provider.endpoint.expires_in = 2  # reused for half its life: 1 s
    cfg = oauth_config(provider, tmp_path, client_keys(provider))
    tokens = TokenSource(cfg.imap, "imap", ImapUnavailable)

    first, again = tokens.token(), tokens.token()
    provider.endpoint.rotate_to = "1//0rotated"
    time.sleep(1.1)
    third = tokens.token()
    time.sleep(1.1)
    fourth = tokens.token()

    assert first == again and third != first and fourth != third
    assert [r["refresh_token"] for r in provider.endpoint.requests] == [REFRESH, REFRESH, "1//0rotated"]
    # Kept for the next start too (Microsoft's rotate at every refresh and last 90 days).
    assert (provider.secrets / "refresh-token").read_text() == "1//0rotated\n"
    assert (provider.secrets / "refresh-token").stat().st_mode & 0o777 == 0o600


def test_a_refused_token_is_forgotten(provider: Provider, tmp_path: Path) -> None:
    cfg = oauth_config(provider, tmp_path, client_keys(provider))
    tokens = TokenSource(cfg.smtp, "smtp", ImapUnavailable)
    first = tokens.token()

    tokens.forget()

    assert tokens.token() != first and len(provider.endpoint.requests) == 2
    provider.endpoint.refresh_token = "1//0revoked"
    tokens.forget()
    with pytest.raises(LoginRefused, match=r"\[smtp\] oauth_refresh_token_file"):
        tokens.token()


def _line(result: Any, name: str) -> str:
    return next(line for line in result.stdout.splitlines() if line.split()[1] == name)
