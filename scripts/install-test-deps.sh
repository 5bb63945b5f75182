#!/usr/bin/env bash
# Installs what the end-to-end tests need beyond Python packages: Dovecot's IMAP server.
# Idempotent. As root with apt it installs dovecot-imapd WITHOUT starting the system-wide
# service (the tests run a private Dovecot from their own config on 127.0.0.1). Without
# root or apt it says so and exits 0: the tests then use the embedded IMAP server.
set -euo pipefail

if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: Dovecot not installed and cannot install it (needs root and apt);" \
         "the end-to-end tests will use the embedded IMAP server." >&2
    exit 0
fi

# policy-rc.d exiting 101 tells invoke-rc.d not to start services during the install.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=yes
fi
cleanup() { if [ "$created_policy" = yes ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -q --no-install-recommends dovecot-imapd >/dev/null; }
if ! install 2>/dev/null; then
    apt-get update -q >/dev/null
    install
fi
# Stop the system-wide service if anything started it anyway: the tests need no system Dovecot.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
    systemctl stop dovecot || true
fi
echo "install-test-deps: installed $(dovecot --version 2>/dev/null || echo dovecot)" >&2
