"""An OAuth 2.0 provider on loopback, as Gmail and Microsoft 365 are to mailflow.

`TokenEndpoint` (http.server on 127.0.0.1) answers grant_type=refresh_token POSTs only
for the configured client id, client secret and refresh token, and hands out fresh
access tokens; its `/introspect` tells Dovecot's oauth2 passdb whether a token is live and
whose it is (RFC 7662), so a real Dovecot checks mailflow's AUTHENTICATE XOAUTH2.
`XOAuthSMTP` is an aiosmtpd server whose only AUTH mechanism is XOAUTH2 and that accepts
exactly `user=<user>\\x01auth=Bearer <live token>\\x01\\x01`; a wrong one gets the
provider's JSON challenge, then 535, as Gmail answers.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mailflow.demo.loopback import require_loopback

# RFC-less but fixed by Google and Microsoft alike: user, ^A, auth=Bearer token, ^A ^A.
_SASL = re.compile("user=([^\x01]+)\x01auth=Bearer ([^\x01]+)\x01\x01")


class TokenEndpoint:
    """Token and introspection endpoints; every request is recorded in `requests`."""

    def __init__(self, client_id: str, client_secret: str | None, refresh_token: str,
                 users: set[str], expires_in: int = 3600) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_token = refresh_token
        self.users = users  # whose tokens these are (the introspection's `username`)
        self.expires_in = expires_in
        self.issued: dict[str, str] = {}  # live access token -> user
        self.requests: list[dict[str, str]] = []  # the token endpoint's forms, oldest first
        self.rotate_to: str | None = None  # answer the next refresh with a new refresh token
        self.status_override: int | None = None  # e.g. 503: the endpoint is failing
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    @property
    def introspection_url(self) -> str:
        return self.url.replace("/token", "/introspect")

    def start(self) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, body = (endpoint._introspect(form) if self.path == "/introspect"
                                else endpoint._token(form))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((require_loopback("127.0.0.1"), 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append(form)
        if self.status_override is not None:
            return self.status_override, {"error": "temporarily_unavailable"}
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if form.get("refresh_token") != self.refresh_token:
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        token = "ya29." + secrets.token_urlsafe(24)
        self.issued[token] = next(iter(self.users))
        body: dict[str, Any] = {"access_token": token, "expires_in": self.expires_in,
                                "token_type": "Bearer"}
        if self.rotate_to is not None:
            body["refresh_token"] = self.refresh_token = self.rotate_to
            self.rotate_to = None
        return 200, body

    def _introspect(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        user = self.issued.get(form.get("token", ""))
        return 200, ({"active": True, "username": user} if user else {"active": False})


class XOAuthHandler:
    """aiosmtpd handler: AUTH XOAUTH2 checked against the endpoint's live tokens."""

    def __init__(self, endpoint: TokenEndpoint) -> None:
        self.endpoint = endpoint
        self.logins: list[str] = []  # the decoded SASL strings that were accepted
        self.refused: list[str] = []
        self.accepted: list[tuple[str, tuple[str, ...], bytes]] = []

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> Any:
        from aiosmtpd.smtp import AuthResult

        if len(args) < 2:
            return AuthResult(success=False, handled=False, message="501 5.5.2 initial response required")
        sasl = base64.b64decode(args[1]).decode()
        match = _SASL.fullmatch(sasl)
        if match is None or self.endpoint.issued.get(match[2]) != match[1]:
            self.refused.append(sasl)
            # Gmail's way: an error in JSON as a challenge, the client's empty line, then 535.
            await server.challenge_auth(json.dumps({"status": "401", "schemes": "Bearer"}))
            return AuthResult(success=False, handled=False,
                              message="535 5.7.8 Username and Password not accepted")
        self.logins.append(sasl)
        return AuthResult(success=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        self.accepted.append((envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 OK"


def start_smtp(endpoint: TokenEndpoint, port: int) -> tuple[Any, XOAuthHandler]:
    """An XOAUTH2-only SMTP server on 127.0.0.1:`port`; stop it with `.stop()`."""
    from aiosmtpd.controller import Controller

    handler = XOAuthHandler(endpoint)
    controller = Controller(handler, hostname="127.0.0.1", port=port, auth_require_tls=False,
                            auth_exclude_mechanism=["LOGIN", "PLAIN"], ready_timeout=30)
    controller.start()
    return controller, handler
