#!/usr/bin/env bash
# Prepares the Keystone test harness in $HEAT_HARNESS_HOME (default ~/.cache/heat-harness):
#   1. a Python venv with keystone and gunicorn from PyPI (requirements.txt, pinned);
#   2. a bootstrapped Keystone state every instance starts from: sqlite database, fernet and
#      credential keys, the accounts below, and accounts.json describing them.
# Idempotent and safe to run concurrently (a lock serialises runs): both are named by a hash of
# the files that make them, and one that exists is not made again, so a second run takes well
# under a second.
#
# Accounts (domain Default; passwords are random, written to accounts.json):
#   admin  admin of project admin (keystone-manage bootstrap)
#   heat   service user, role service in project service (validates other users' tokens)
#   alice  role member in project alpha
#   bob    role member in project beta
#
# Usage: setup.sh          Environment: HEAT_HARNESS_HOME, HEAT_HARNESS_PYTHON (python3)
set -euo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

mkdir -p "$KS_HOME"
exec 9> "$KS_HOME/setup.lock"
flock 9

# ---- 1. the venv
if [ ! -x "$KS_BIN/python" ] || [ ! -f "$KS_VENV/.complete" ]; then
    command -v "$KS_PYTHON" > /dev/null || die "$KS_PYTHON not found (set HEAT_HARNESS_PYTHON)"
    "$KS_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || die "$KS_PYTHON is older than 3.10, which keystone 30 needs (set HEAT_HARNESS_PYTHON)"
    log "creating the venv in $KS_VENV (keystone from PyPI; about a minute)"
    rm -rf "$KS_VENV"
    "$KS_PYTHON" -m venv "$KS_VENV"
    "$KS_BIN/pip" install -q -r "$HARNESS_DIR/requirements.txt" >&2
    touch "$KS_VENV/.complete"
fi

# ---- 2. the bootstrapped state
if [ -f "$KS_BASE/accounts.json" ]; then
    log "ready: $KS_HOME"
    exit 0
fi
log "bootstrapping the Keystone state in $KS_BASE"
new=$KS_BASE.new
rm -rf "$new"
ks_write_config "$new" 3600
trap 'ks_kill_group "$new/run/keystone.pid"' EXIT
manage() { "$KS_BIN/keystone-manage" --config-file "$new/keystone.conf" "$@"; }
manage db_sync
# WAL: readers do not block the writer (nor keystone-manage the server). The mode is stored in
# the database file, so copies keep it.
sqlite() { "$KS_BIN/python" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute(sys.argv[2]).fetchone()[0])
db.close()' "$new/keystone.db" "$1" > /dev/null; }
sqlite 'pragma journal_mode=wal'
manage fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
manage credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
admin_password=$("$KS_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(18))')
OS_BOOTSTRAP_PASSWORD=$admin_password manage bootstrap \
    --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id RegionOne

# The accounts are made through Keystone's own API, so a temporary server runs meanwhile.
port=$(free_port)
ks_launch "$new" "$port"
ks_wait "$new" "$port" || die "the bootstrap Keystone did not come up; see $new/log/"
HARNESS_ADMIN_PASSWORD=$admin_password "$KS_BIN/python" "$HARNESS_DIR/provision.py" \
    "http://$KS_HOST:$port/v3" "$new/accounts.json"
ks_kill_group "$new/run/keystone.pid"
trap - EXIT
# Everything into the database file itself: instances copy that file alone.
sqlite 'pragma wal_checkpoint(truncate)'

# Only the state is kept: every instance writes its own configuration.
rm -rf "$new/log" "$new/run" "$new/wsgi" "$new/keystone.conf" "$new/keystone.db-wal" "$new/keystone.db-shm"
mv "$new" "$KS_BASE"
# Versions of the venv and state that no start.sh used for 30 days (start.sh touches them).
find "$KS_HOME" -mindepth 1 -maxdepth 1 \( -name 'venv-*' -o -name 'base-*' \) -mtime +30 \
    ! -name "${KS_VENV##*/}" ! -name "${KS_BASE##*/}" -exec rm -rf {} + 2> /dev/null || true
log "ready: $KS_HOME"
