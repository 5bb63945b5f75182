#!/usr/bin/env bash
# Installs mailflow as a system service from this checkout, or upgrades an installed one.
#
#     sudo bash scripts/install.sh          (as root, on Debian 12 or similar)
#
# What it makes (README.md, "Install"):
#   user and group   mailflow (system account, no login shell, home /var/lib/mailflow)
#   /opt/mailflow    .venv/ with mailflow installed from this checkout (not editable, without
#                    the demo's servers), README.md and config.example.toml for reference
#   /usr/local/bin/mailflow
#                    a wrapper: `mailflow ...` runs as the mailflow user (via runuser when
#                    called by root), so the files it makes stay the service's
#   /etc/mailflow    0750 root:mailflow; config.toml 0640 from config.example.toml only if
#                    there is none; every secret file the configuration names, 0640
#                    root:mailflow: the reply-signing secret filled with a random value, the
#                    mail passwords left empty for the administrator to fill
#   /var/lib/mailflow
#                    0750 mailflow:mailflow, the state (database, attachments, quarantine)
#   /etc/systemd/system/mailflow.service
#                    daemon-reload and enable when systemd runs (the service is not started:
#                    the configuration needs editing first)
#   /etc/systemd/system/mailflow@.service
#                    the template for a regency's file, /etc/mailflow/NAME.toml (README "A
#                    regency"): installed, never enabled (`systemctl enable --now mailflow@NAME`)
#
# Running it again upgrades: the venv gets this checkout's mailflow and the unit is replaced;
# the configuration, the secret files and the state are never overwritten.
# PYTHON picks the interpreter for the venv (default /usr/bin/python3: one under /root or
# /home is hidden from the service by the unit's ProtectHome=yes).
set -euo pipefail
# Whatever root's umask: the venv must be readable by the service user; secrets get explicit modes.
umask 022

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
USER_NAME=mailflow
OPT=/opt/mailflow
VENV=$OPT/.venv
ETC=/etc/mailflow
STATE=/var/lib/mailflow
WRAPPER=/usr/local/bin/mailflow
UNIT=/etc/systemd/system/mailflow.service
TEMPLATE=/etc/systemd/system/mailflow@.service

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run this as root (sudo bash scripts/install.sh)"
[ -f "$SRC/pyproject.toml" ] && [ -d "$SRC/mailflow" ] || die "$SRC is not a mailflow checkout"
for tool in useradd groupadd runuser install; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (Debian: apt-get install passwd util-linux coreutils)"
done
[ -x "$PYTHON" ] || die "$PYTHON is missing (Debian: apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "$PYTHON must be Python 3.11 or newer with venv (Debian 12: apt-get install python3-venv)"

# -- the service's user and group -----------------------------------------------------------
if ! getent group "$USER_NAME" >/dev/null; then
    groupadd --system "$USER_NAME"
    say "created the group $USER_NAME"
fi
if ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --system --gid "$USER_NAME" --home-dir "$STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "mailflow complaint service" "$USER_NAME"
    say "created the user $USER_NAME"
fi
install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$STATE"

# -- mailflow in /opt/mailflow/.venv ----------------------------------------------------------
install -d -m 0755 "$OPT"
upgrading=no
[ -x "$VENV/bin/mailflow" ] && upgrading=yes
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
# pip builds in the source tree (build/, *.egg-info): a copy keeps the checkout as it was.
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude='./.*_cache' --exclude=./tests --exclude=./bench -cf - . \
    | tar -C "$build" -xf -
say "installing mailflow into $VENV (pip; a minute the first time)"
pip() { "$VENV/bin/pip" --quiet --disable-pip-version-check "$@"; }
pip wheel --no-deps --wheel-dir "$build/dist" "$build"
wheel=$(echo "$build"/dist/mailflow-*.whl)
if [ "$upgrading" = yes ]; then
    # Forced: a newer checkout with the same version number must still replace the installed
    # code (pip would call it satisfied). Then the new code's dependencies, next line.
    pip install --no-warn-script-location --force-reinstall --no-deps "$wheel"
fi
pip install --no-warn-script-location "$wheel"
"$VENV/bin/mailflow" --version
if [ "$SRC" != "$OPT" ]; then
    install -m 0644 "$SRC/README.md" "$SRC/config.example.toml" "$OPT/"
fi

# -- `mailflow` on the administrator's PATH -------------------------------------------------
cat >"$WRAPPER.new" <<EOF
#!/bin/sh
# mailflow, run as the service's user $USER_NAME (installed by scripts/install.sh).
# As root it switches to $USER_NAME; anyone else runs it as themselves, which works for the
# user $USER_NAME and, for reading the configuration, for members of the group $USER_NAME.
# Give paths (--config, backup DEST) as absolute paths: $USER_NAME may not enter your directory.
if [ "\$(id -u)" = 0 ]; then
    # Who asked stays known (sudo's user, else root): \`show --with-identity\` records it.
    who="\${SUDO_USER:-root}"
    exec runuser -u $USER_NAME -- env HOME=$STATE LOGNAME="\$who" USER="\$who" \\
        $VENV/bin/mailflow "\$@"
fi
exec $VENV/bin/mailflow "\$@"
EOF
chmod 0755 "$WRAPPER.new"
mv -f "$WRAPPER.new" "$WRAPPER"

# -- /etc/mailflow: the configuration and its secret files ----------------------------------
install -d -m 0750 -o root -g "$USER_NAME" "$ETC"
if [ -e "$ETC/config.toml" ]; then
    say "kept $ETC/config.toml (never overwritten)"
else
    install -m 0640 -o root -g "$USER_NAME" "$SRC/config.example.toml" "$ETC/config.toml"
    say "created $ETC/config.toml from config.example.toml: edit it"
fi
# The secret files the configuration names, as "KIND PATH" lines (KIND: password or secret).
secret_files=$("$VENV/bin/python" - "$ETC/config.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    cfg = tomllib.load(handle)
# "password": the administrator's to fill; "secret": mailflow's own, generated here.
wanted = [(section, key, "password") for section in ("imap", "smtp")
          for key in ("password_file", "oauth_client_secret_file", "oauth_refresh_token_file")]
for section, key, kind in [*wanted, ("commands", "secret_file", "secret")]:
    path = cfg.get(section, {}).get(key)
    if path:
        print(kind, f"[{section}] {key}", path, sep="\t")
EOF
) || die "cannot read $ETC/config.toml as TOML; fix it and run this again"
to_fill=()
while IFS=$'\t' read -r kind key path; do
    [ -n "$path" ] || continue
    if [ -e "$path" ]; then
        [ -s "$path" ] || to_fill+=("$key"$'\t'"$path")
        continue
    fi
    [ -d "$(dirname "$path")" ] || { say "WARNING: $key $path: its directory does not exist"; continue; }
    if [ "$kind" = secret ]; then
        head -c 32 /dev/urandom | base64 | install -m 0640 -o root -g "$USER_NAME" /dev/stdin "$path"
        say "created $path ($key) with a random value"
    else
        install -m 0640 -o root -g "$USER_NAME" /dev/null "$path"
        say "created $path ($key), empty"
        to_fill+=("$key"$'\t'"$path")
    fi
done <<<"$secret_files"

# -- the systemd unit -----------------------------------------------------------------------
install -m 0644 "$SRC/systemd/mailflow.service" "$UNIT"
install -m 0644 "$SRC/systemd/mailflow@.service" "$TEMPLATE"
say "installed $TEMPLATE (for /etc/mailflow/NAME.toml; not enabled)"
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload
    systemctl enable --quiet mailflow.service
    say "installed and enabled $UNIT (not started)"
    running=$(systemctl is-active mailflow.service || true)
else
    say "installed $UNIT; systemd is not running here, so it was not enabled" \
        "(later: systemctl daemon-reload && systemctl enable mailflow)"
    running=no
fi

# -- what is left to do -----------------------------------------------------------------------
echo
echo "mailflow is installed. Next:"
step=1
echo "  $step. Edit $ETC/config.toml: [village], [imap], [smtp], [[staff]], [commands] admin_address"
echo "     (sudoedit $ETC/config.toml)."
for item in "${to_fill[@]}"; do
    step=$((step + 1))
    key=${item%%$'\t'*}; path=${item#*$'\t'}
    echo "  $step. Write the secret for $key into $path (empty now), for example:"
    echo "       read -rs PW && printf '%s' \"\$PW\" > $path && unset PW"
done
step=$((step + 1))
echo "  $step. mailflow check          (as root; runs as the user $USER_NAME; exit 0 when all is well)"
if [ "$upgrading" = yes ]; then
    step=$((step + 1))
    echo "  $step. After an upgrade, the database may need the new schema (as root):"
    if [ "$running" = active ]; then
        echo "       systemctl stop mailflow && mailflow db upgrade && systemctl start mailflow"
    else
        echo "       mailflow db upgrade && systemctl restart mailflow"
    fi
else
    step=$((step + 1))
    echo "  $step. systemctl start mailflow && journalctl -u mailflow -f"
fi
echo "The demo's servers are not installed here: run \`make demo\` in a checkout to try mailflow."
