#!/usr/bin/env bash
# Stops the Keystone instance start.sh started in DIR: only the process groups whose pids it
# recorded there (gunicorn and its workers, the owner watch). Then removes DIR if start.sh
# created it under $HEAT_HARNESS_HOME/keystone/instances, unless HEAT_HARNESS_KEEP=1 (to read
# its logs). Stopping an instance that is not running succeeds.
#
# Usage: stop.sh DIR
set -euo pipefail
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[ $# = 1 ] || die "usage: stop.sh DIR"
[ -d "$1" ] || exit 0
dir=$(cd "$1" && pwd)

ks_kill_group "$dir/run/keystone.pid"
# The watch runs this script when its owner exits: it must not kill itself midway.
if [ -f "$dir/run/watch.pid" ] && [ "$(cat "$dir/run/watch.pid")" != "$$" ]; then
    ks_kill_group "$dir/run/watch.pid"
fi
rm -f "$dir/run/watch.pid"

case $dir in
    "$KS_INSTANCES"/*) [ "${HEAT_HARNESS_KEEP:-0}" = 1 ] || rm -rf "$dir" ;;
esac
