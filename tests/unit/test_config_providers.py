"""`auth = "xoauth2"` and `[metrics]`: what the configuration accepts, and one-line errors."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from mailflow.adapters.oauth import xoauth2_base64, xoauth2_string
from mailflow.config import parse_config
from mailflow.errors import ConfigError
from tests.unit.test_config import MINIMAL

COMMAND = {"auth": "xoauth2", "oauth_token_command": ["/usr/local/bin/get-token", "desa"]}


def _data(imap: dict[str, Any] | None = None, smtp: dict[str, Any] | None = None,
          **sections: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in MINIMAL.items()}
    data["imap"].update(imap or {})
    data["smtp"].update(smtp or {})
    data.update(sections)
    return data


def _client(tmp_path: Path, secret: bool = True) -> dict[str, Any]:
    (tmp_path / "refresh").write_text("1//0refresh\n")
    (tmp_path / "secret").write_text("client-secret\n")
    keys = {"auth": "xoauth2", "oauth_token_url": "https://oauth2.googleapis.com/token",
            "oauth_client_id": "123.apps.googleusercontent.com",
            "oauth_refresh_token_file": str(tmp_path / "refresh")}
    return {**keys, "oauth_client_secret_file": str(tmp_path / "secret")} if secret else keys


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="config.toml")
    return str(caught.value)


def test_the_sasl_string_is_googles_and_microsofts_format() -> None:
    assert (xoauth2_string("desa@gmail.com", "ya29.abc")
            == "user=desa@gmail.com\x01auth=Bearer ya29.abc\x01\x01")
    assert base64.b64decode(xoauth2_base64("a@b", "t")) == b"user=a@b\x01auth=Bearer t\x01\x01"


def test_a_token_command_needs_no_password(tmp_path: Path) -> None:
    cfg = parse_config(_data(imap={"password": None, **COMMAND}))
    assert cfg.imap.auth == "xoauth2" and cfg.imap.secret() == ""
    assert cfg.imap.oauth_token_command == ["/usr/local/bin/get-token", "desa"]


def test_client_secrets_are_read_at_load(tmp_path: Path) -> None:
    cfg = parse_config(_data(smtp={"username": "desa@gmail.com", **_client(tmp_path)}))
    assert cfg.smtp.oauth_refresh_token() == "1//0refresh"
    assert cfg.smtp.oauth_client_secret() == "client-secret"
    public = parse_config(_data(smtp={"username": "d@x", **_client(tmp_path, secret=False)}))
    assert public.smtp.oauth_client_secret() is None


def test_xoauth2_refuses_a_password() -> None:
    assert "config.toml: [imap]: auth = \"xoauth2\" logs in with a token, not a password" in _error(
        _data(imap=COMMAND))


def test_xoauth2_names_the_missing_client_keys(tmp_path: Path) -> None:
    message = _error(_data(imap={"password": None, "auth": "xoauth2",
                                 "oauth_client_id": "123.apps.googleusercontent.com"}))
    assert "needs 'oauth_token_command', or" in message
    assert "(missing: 'oauth_token_url', 'oauth_refresh_token_file')" in message
    assert "\n" not in message


def test_a_command_and_a_client_together_are_refused(tmp_path: Path) -> None:
    message = _error(_data(imap={"password": None, **_client(tmp_path), **COMMAND}))
    assert "either 'oauth_token_command' or the OAuth client keys, not both" in message


def test_oauth_keys_need_auth_xoauth2() -> None:
    message = _error(_data(imap={"oauth_token_command": ["/bin/get-token"]}))
    assert "[imap]: 'oauth_token_command' needs auth = \"xoauth2\"" in message


def test_smtp_xoauth2_needs_a_username() -> None:
    assert "needs 'username'" in _error(_data(smtp=COMMAND))


def test_a_missing_refresh_token_file_is_named(tmp_path: Path) -> None:
    keys = {**_client(tmp_path), "oauth_refresh_token_file": str(tmp_path / "nope")}
    message = _error(_data(imap={"password": None, **keys}))
    assert f"cannot read oauth_refresh_token_file '{tmp_path / 'nope'}'" in message


@pytest.mark.parametrize("url", ["http://oauth.example/token", "ftp://127.0.0.1/token",
                                 "https://", "http://127.0.0.1.evil.example/token"])
def test_the_token_url_is_https_or_this_machine(tmp_path: Path, url: str) -> None:
    keys = {**_client(tmp_path), "oauth_token_url": url}
    assert "[imap] oauth_token_url" in _error(_data(imap={"password": None, **keys}))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/token", "http://localhost/token",
                                 "https://login.microsoftonline.com/common/oauth2/v2.0/token"])
def test_token_urls_accepted(tmp_path: Path, url: str) -> None:
    keys = {**_client(tmp_path), "oauth_token_url": url}
    assert parse_config(_data(imap={"password": None, **keys})).imap.oauth_token_url == url


def test_metrics_are_off_by_default() -> None:
    cfg = parse_config(_data())
    assert cfg.metrics.listen is None and cfg.metrics.textfile is None


@pytest.mark.parametrize("listen", ["127.0.0.1:9108", "[::1]:9108", "localhost:9108"])
def test_metrics_listen_on_loopback(listen: str) -> None:
    assert parse_config(_data(metrics={"listen": listen})).metrics.listen == listen


def test_metrics_refuse_a_public_address_unless_allowed() -> None:
    message = _error(_data(metrics={"listen": "0.0.0.0:9108"}))
    assert "[metrics]: listen '0.0.0.0:9108' is not a loopback address" in message
    allowed = parse_config(_data(metrics={"listen": "0.0.0.0:9108", "allow_non_loopback": True}))
    assert allowed.metrics.address == ("0.0.0.0", 9108)


@pytest.mark.parametrize(("metrics", "expected"), [
    ({"listen": "9108"}, "expected HOST:PORT"),
    ({"listen": "127.0.0.1:99999"}, "the port must be 1..65535"),
    ({"listen": "127.0.0.1:9108", "textfile": "/tmp/m.prom"}, "at most one of"),
    ({"textfile": "/var/lib/node_exporter/mailflow.txt"}, "must end in .prom"),
])
def test_bad_metrics_settings(metrics: dict[str, Any], expected: str) -> None:
    assert expected in _error(_data(metrics=metrics))
