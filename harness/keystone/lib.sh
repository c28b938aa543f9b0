# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings are for the scripts that source this file
# Shared settings and helpers of the Keystone test harness; sourced by setup.sh, start.sh,
# stop.sh. Nothing here depends on the machine: every path derives from HEAT_HARNESS_HOME.

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HEAT_HARNESS_HOME=${HEAT_HARNESS_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache/heat-harness}
KS_HOME=$HEAT_HARNESS_HOME/keystone
# The venv and the bootstrapped state are named by a hash of the files that make them, so that
# checkouts with different versions of the harness neither rebuild each other's nor pull them
# from under each other's running instances.
hash_of() { (cd "$HARNESS_DIR" && cat "$@") | sha256sum | cut -c1-12; }
KS_VENV=$KS_HOME/venv-$(hash_of requirements.txt)
KS_BIN=$KS_VENV/bin
# The bootstrapped state every instance starts from: database, fernet and credential keys, and
# accounts.json (names, passwords and ids of the projects and users setup.sh made).
KS_BASE=$KS_HOME/base-$(hash_of requirements.txt keystone.conf.in provision.py setup.sh lib.sh)
# Instances that start.sh creates itself (when the caller names no directory).
KS_INSTANCES=$KS_HOME/instances
KS_HOST=127.0.0.1
# The Python that creates the venv (keystone 30 needs 3.10 or later).
KS_PYTHON=${HEAT_HARNESS_PYTHON:-python3}
# keystone warns on every command that eventlet is deprecated (a plain Warning, which no
# narrower filter can name before eventlet is imported); warnings say nothing about the harness.
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}

log() { echo "keystone-harness: $*" >&2; }
die() { log "error: $*"; exit 1; }

# A free TCP port on 127.0.0.1, as the kernel hands one out. Whoever binds it next may lose a
# race with another program; start.sh retries with a new port when that happens.
free_port() {
    "$KS_BIN/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# ks_write_config DIR TOKEN_EXPIRATION: keystone.conf and the WSGI entry point of the instance
# whose state lives in DIR.
ks_write_config() {
    local dir=$1 expiration=$2
    mkdir -p "$dir/log" "$dir/run" "$dir/wsgi"
    sed -e "s|@DIR@|$dir|g" -e "s|@TOKEN_EXPIRATION@|$expiration|g" \
        "$HARNESS_DIR/keystone.conf.in" > "$dir/keystone.conf"
    # keystone parses sys.argv with oslo.config; under gunicorn that holds gunicorn's own
    # options, so the entry point clears it before keystone is imported.
    cat > "$dir/wsgi/keystone_api.py" <<'PY'
import sys

sys.argv = sys.argv[:1]
from keystone.wsgi.api import application  # noqa: E402,F401
PY
}

# ks_launch DIR PORT: starts gunicorn in its own session (its pid is the process group of all
# its workers) and records the pid in DIR/run/keystone.pid.
# One worker with one thread: requests are served one at a time. Keystone writes to its sqlite
# database on every password authentication (the user's last_active_at), and two such writes
# at once fail with "database is locked" (a 500), WAL or not.
ks_launch() {
    local dir=$1 port=$2
    OS_KEYSTONE_CONFIG_FILES="$dir/keystone.conf" setsid "$KS_BIN/gunicorn" \
        --no-control-socket --bind "$KS_HOST:$port" --workers 1 --threads 1 --timeout 120 --graceful-timeout 5 \
        --name "heat-harness-keystone" --pythonpath "$dir/wsgi" keystone_api:application \
        > "$dir/log/gunicorn.out" 2>&1 < /dev/null &
    echo $! > "$dir/run/keystone.pid"
}

# ks_wait DIR PORT [SECONDS]: waits until the instance answers GET /v3 with 200. Fails early
# when its process has died (a port taken by someone else, a broken config).
ks_wait() {
    local dir=$1 port=$2 seconds=${3:-120}
    local pid
    pid=$(cat "$dir/run/keystone.pid")
    "$KS_BIN/python" - "$pid" "http://$KS_HOST:$port/v3" "$seconds" <<'PY'
import os, sys, time, urllib.request

pid, url, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(2)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}

# ks_kill_group PIDFILE: TERM the process group a pid file names, then KILL it if it is still
# there after 15 s. Only that group: nothing else on the machine is touched.
ks_kill_group() {
    local file=$1 pid i
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    rm -f "$file"
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}
