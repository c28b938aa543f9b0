#!/usr/bin/env bash
# Started by start.sh --owner-pid: waits until process OWNER_PID has exited, then stops the
# instance in DIR. This is how a test binary that cannot run code at exit still leaves no
# Keystone behind. Usage: watch.sh OWNER_PID DIR
set -euo pipefail
owner=$1 dir=$2
while kill -0 "$owner" 2>/dev/null; do
    sleep 1
done
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stop.sh" "$dir"
