#!/usr/bin/env bash
# Installs what the end-to-end tests need beyond Python packages: Dovecot's IMAP server,
# chromium with chromium-driver for the public page's browser test, and PostgreSQL's server
# (Debian's `postgresql`) for the suite's run on PostgreSQL.
#
# The tests run a PRIVATE Dovecot from their own config on 127.0.0.1 (tests/harness/servers.py);
# they never use a system-wide one. So, as root with apt, this installs dovecot-imapd
# without letting the package start the system service (a temporary policy-rc.d denies
# it), and makes sure no system Dovecot runs or starts at boot afterwards. Without root
# or apt it says the tests will use the embedded IMAP server, and exits 0.
# Idempotent: with Dovecot's IMAP server already installed it does nothing.
set -euo pipefail

say() { echo "install-test-deps: $*" >&2; }

# Dovecot counts as installed with its master AND its imap binary (dovecot-imapd).
dovecot_installed() {
    if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
        return 1
    fi
    local dir
    for dir in /usr/lib/dovecot /usr/libexec/dovecot /usr/local/libexec/dovecot; do
        [ -x "$dir/imap" ] && return 0
    done
    return 1
}

# The public page's browser test (tests/e2e/test_public_page_browser.py) drives Debian's
# chromium through its chromedriver: installed the same way (root and apt), no service to stop.
# Without root or apt that test is skipped (unless MAILFLOW_TEST_IMAP=dovecot, as in CI).
browser_installed() {
    command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
}
if ! browser_installed; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "chromium is not installed and cannot be installed here (needs root and apt-get);" \
            "the public page's browser test will be skipped."
    else
        say "installing chromium and chromium-driver (the public page's browser test)"
        browser_log=$(mktemp)
        browser_install() {
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                chromium chromium-driver >>"$browser_log" 2>&1
        }
        if ! browser_install && ! { apt-get update -q >>"$browser_log" 2>&1 && browser_install; }; then
            tail -n 30 "$browser_log" >&2
            rm -f "$browser_log"
            say "could not install chromium and chromium-driver (see above)"
            exit 1
        fi
        rm -f "$browser_log"
    fi
fi

# PostgreSQL's server for the suite's PostgreSQL run (MAILFLOW_TEST_DB=postgresql, `make test`):
# the tests run initdb and postgres from /usr/lib/postgresql/<version>/bin themselves, as the
# unprivileged `postgres` account, in a temporary directory (tests/harness/postgres.py); they
# never use the system's cluster. So the package's service is kept from starting (policy-rc.d,
# as for Dovecot below) and disabled; the cluster the package creates stays unused.
postgresql_installed() {
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && \
        compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null
}
if ! postgresql_installed; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "PostgreSQL is not installed and cannot be installed here (needs root and apt-get);" \
            "the PostgreSQL tests will be skipped, and MAILFLOW_TEST_DB=postgresql fails."
    else
        say "installing postgresql (its system service will not be started)"
        pg_log=$(mktemp)
        pg_policy=no
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\n# Temporary, from mailflow scripts/install-test-deps.sh\nexit 101\n' \
                >/usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            pg_policy=yes
        fi
        pg_install() {
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
                postgresql >>"$pg_log" 2>&1
        }
        pg_status=0
        pg_install || { apt-get update -q >>"$pg_log" 2>&1 && pg_install; } || pg_status=$?
        [ "$pg_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
        if [ "$pg_status" != 0 ] || ! postgresql_installed; then
            tail -n 30 "$pg_log" >&2
            rm -f "$pg_log"
            say "could not install postgresql (see above)"
            exit 1
        fi
        rm -f "$pg_log"
        if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
            systemctl disable --now postgresql.service >/dev/null 2>&1 || true
        elif command -v update-rc.d >/dev/null 2>&1; then
            update-rc.d postgresql disable >/dev/null 2>&1 || true
        fi
    fi
fi

if dovecot_installed; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "Dovecot is not installed and cannot be installed here (needs root and apt-get);" \
        "the end-to-end tests will use the embedded IMAP server (pymap)."
    exit 0
fi

policy=/usr/sbin/policy-rc.d
created_policy=no
apt_log=$(mktemp)
cleanup() {
    if [ "$created_policy" = yes ]; then
        rm -f "$policy"
    fi
    rm -f "$apt_log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# invoke-rc.d (and deb-systemd-invoke) ask policy-rc.d first; exit 101 = "action forbidden".
# An existing policy-rc.d belongs to someone else: it is left alone, and whatever it lets
# start is stopped below.
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Temporary, from mailflow scripts/install-test-deps.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=yes
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        dovecot-imapd >>"$apt_log" 2>&1
}
say "installing dovecot-imapd (the system service will not be started)"
if ! apt_install; then
    say "install failed; refreshing the package lists (apt-get update) and trying again"
    if ! { apt-get update -q >>"$apt_log" 2>&1 && apt_install; }; then
        tail -n 30 "$apt_log" >&2
        say "could not install dovecot-imapd (see above)"
        exit 1
    fi
fi
if [ "$created_policy" = yes ]; then
    rm -f "$policy"
    created_policy=no
fi

# The package enables the system service for the next boot; the tests never need it, and
# it would listen on ports 143 and 993 of every interface.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
elif command -v update-rc.d >/dev/null 2>&1; then
    update-rc.d dovecot disable >/dev/null 2>&1 || true
fi
# Whatever the init system, a system Dovecot writes its pid here (default base_dir).
for pid_file in /run/dovecot/master.pid /var/run/dovecot/master.pid; do
    if [ -r "$pid_file" ]; then
        pid=$(cat "$pid_file")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            say "stopping the system Dovecot (pid $pid) that the package started"
            kill -TERM "$pid"
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                say "the system Dovecot (pid $pid) did not stop; stop it before running the tests"
                exit 1
            fi
        fi
    fi
done

if ! dovecot_installed; then
    say "dovecot-imapd was installed, but the dovecot and imap binaries are not where expected"
    exit 1
fi
say "installed $(dovecot --version 2>/dev/null || echo Dovecot); the system service is not running"
