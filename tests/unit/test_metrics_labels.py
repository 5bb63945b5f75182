"""The metrics' labels come from a small fixed set, whatever the messages say."""

from __future__ import annotations

import pytest

from mailflow.metrics import SERVERS, SKIP_REASONS, _server_of


@pytest.mark.parametrize(("message", "server"), [
    ("IMAP 127.0.0.1:993 refused the login of 'desa'; check [imap] username and the password", "imap"),
    ("[imap] oauth_token_command /usr/local/bin/get-token failed with exit status 1: ...", "imap"),
    ("SMTP smtp.gmail.com:587 refused the login of 'desa' (535); check [smtp] username", "smtp"),
    ("[smtp] oauth_token_url https://oauth2.googleapis.com/token refused the refresh", "smtp"),
])
def test_a_refused_login_is_put_on_its_server(message: str, server: str) -> None:
    assert _server_of(message) == server


def test_the_label_values_are_fixed_words() -> None:
    assert set(SERVERS) == {"imap", "smtp"}
    assert all(reason.isidentifier() for reason in SKIP_REASONS)
