#!/usr/bin/env bash
# Starts one Keystone instance on 127.0.0.1 from the state setup.sh prepared, waits until it
# answers, and describes it in DIR/keystone.json (also printed on stdout): auth_url, port, the
# accounts with their passwords and ids, the token lifetime, where its log is.
#
# Usage: start.sh [--dir DIR] [--port PORT] [--token-expiration SECONDS] [--owner-pid PID]
#   --dir DIR                 the instance's directory (state copy, config, logs, pid files);
#                             default: a new directory under $HEAT_HARNESS_HOME/keystone/instances
#   --port PORT               the port to listen on; default (or 0): a free one, retried if
#                             someone else takes it first
#   --token-expiration SECS   lifetime of the tokens it issues (default 3600)
#   --owner-pid PID           stop the instance (stop.sh) once process PID has exited
# Runs setup.sh first (a no-op when it is done). Stop the instance with: stop.sh DIR
set -euo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

dir="" port="" expiration=3600 owner=""
while [ $# -gt 0 ]; do
    case $1 in
        --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
        --port) port=${2:?--port needs a number}; shift 2 ;;
        --token-expiration) expiration=${2:?--token-expiration needs seconds}; shift 2 ;;
        --owner-pid) owner=${2:?--owner-pid needs a pid}; shift 2 ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ -z $port || ($port =~ ^[0-9]+$ && $port -le 65535) ]] || die "--port must be a port number, not '$port'"
[ "$port" != 0 ] || port=""
[[ $expiration =~ ^[0-9]+$ && $expiration -gt 0 ]] || die "--token-expiration must be a positive number of seconds"
[[ -z $owner || $owner =~ ^[0-9]+$ ]] || die "--owner-pid must be a number, not '$owner'"

"$HARNESS_DIR/setup.sh"

if [ -z "$dir" ]; then
    mkdir -p "$KS_INSTANCES"
    dir=$(mktemp -d "$KS_INSTANCES/ks-XXXXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -f "$dir/run/keystone.pid" ] && kill -0 "$(cat "$dir/run/keystone.pid")" 2>/dev/null; then
    die "an instance is already running in $dir (stop.sh $dir)"
fi

# A fresh copy of the bootstrapped state: instances never share a database. The shared lock
# keeps a concurrent setup.sh from pruning it meanwhile.
rm -rf "$dir/keystone.db" "$dir/fernet-keys" "$dir/credential-keys" "$dir/keystone.json"
exec 9< "$KS_HOME/setup.lock"
flock -s 9
cp -a "$KS_BASE/keystone.db" "$KS_BASE/fernet-keys" "$KS_BASE/credential-keys" "$dir/"
touch "$KS_BASE" "$KS_VENV"
flock -u 9
exec 9<&-
ks_write_config "$dir" "$expiration"

chosen=$port
for attempt in 1 2 3; do
    [ -n "$chosen" ] || port=$(free_port)
    ks_launch "$dir" "$port"
    status=0
    ks_wait "$dir" "$port" || status=$?
    [ $status = 0 ] && break
    ks_kill_group "$dir/run/keystone.pid"
    if [ $status = 2 ] && [ -z "$chosen" ] && [ $attempt -lt 3 ]; then
        log "keystone exited at start on port $port (taken meanwhile?); trying another port"
        continue
    fi
    die "keystone did not come up on port $port; see $dir/log/gunicorn.out and $dir/log/keystone.log"
done

if [ -n "$owner" ]; then
    setsid "$HARNESS_DIR/watch.sh" "$owner" "$dir" > /dev/null 2>&1 < /dev/null &
    echo $! > "$dir/run/watch.pid"
fi

"$KS_BIN/python" - "$KS_BASE/accounts.json" "$dir" "$KS_HOST" "$port" "$expiration" \
    "$(cat "$dir/run/keystone.pid")" "$HARNESS_DIR/stop.sh" <<'PY'
import json, os, sys

accounts, directory, host, port, expiration, pid, stop = sys.argv[1:]
with open(accounts) as f:
    document = json.load(f)
document = {
    "auth_url": f"http://{host}:{port}/v3",
    "host": host,
    "port": int(port),
    "pid": int(pid),
    "token_expiration": int(expiration),
    "dir": directory,
    "log": os.path.join(directory, "log", "keystone.log"),
    "stop": [stop, directory],
    **document,
}
fd = os.open(os.path.join(directory, "keystone.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    json.dump(document, out, indent=2)
    out.write("\n")
json.dump(document, sys.stdout, indent=2)
print()
PY
log "keystone up at http://$KS_HOST:$port/v3 (stop.sh $dir)"
