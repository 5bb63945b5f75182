"""TLS for both mail servers: certificates are always verified."""

from __future__ import annotations

import ssl

from mailflow.errors import ConfigError


def tls_context(ca_file: str | None, key: str) -> ssl.SSLContext:
    """A verifying context; `tls_ca_file` only says which CAs to trust instead of the system's."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{key} {ca_file!r}: cannot load CA certificates: {exc}") from exc
