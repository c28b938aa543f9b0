#!/usr/bin/env bash
# Installs the real OpenStack clients (python-openstackclient + python-heatclient) into a venv
# for heat's end-to-end tests. Idempotent: does nothing when the venv already holds exactly
# requirements.txt. Prints the venv's bin directory on its last line.
#
#   HEAT_HARNESS_HOME   where venvs go (default: ~/.cache/heat-harness)
#   HEAT_PYTHON         the Python to build the venv with (default: python3; needs >= 3.10)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${HEAT_HARNESS_HOME:-$HOME/.cache/heat-harness}"
venv="$home/clients"
python="${HEAT_PYTHON:-python3}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

if [[ -x "$venv/bin/openstack" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv/bin"
    exit 0
fi
mkdir -p "$home"
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
"$venv/bin/openstack" --version >&2
echo "$want" >"$stamp"
echo "$venv/bin"
