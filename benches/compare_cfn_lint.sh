#!/usr/bin/env bash
# Compares `heat template validate` with cfn-lint (from PyPI) on the same CloudFormation
# files of the shared corpus, in one run. Not part of CI (it downloads cfn-lint).
#
#   bash benches/compare_cfn_lint.sh            # uses ../shared/corpus or $HEAT_CORPUS
#
# It prints wall-clock seconds for each tool over all CloudFormation files (one process each,
# so start-up is paid once) and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${HEAT_CORPUS:-$(cd .. && pwd)/shared/corpus}"
[ -f "$corpus/MANIFEST.tsv" ] || { echo "corpus not found at $corpus (set HEAT_CORPUS)" >&2; exit 2; }
venv="target/cfn-lint-venv"
if [ ! -x "$venv/bin/cfn-lint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet cfn-lint
fi
cargo build --release -p heat-cli --quiet
mapfile -t files < <(awk -F'\t' 'NR>1 && ($5=="cfn-json" || $5=="cfn-yaml") {print $4}' "$corpus/MANIFEST.tsv" | sed "s|^|$corpus/|")
bytes=$(cat "${files[@]}" | wc -c)
echo "files: ${#files[@]} CloudFormation templates, $bytes bytes"
echo "cfn-lint: $("$venv/bin/cfn-lint" --version 2>&1)"

t0=$(date +%s.%N)
./target/release/heat template validate --format json "${files[@]}" > /dev/null || true
t1=$(date +%s.%N)
"$venv/bin/cfn-lint" --format parseable -- "${files[@]}" > /dev/null 2>&1 || true
t2=$(date +%s.%N)

heat_s=$(echo "$t1 - $t0" | bc -l)
lint_s=$(echo "$t2 - $t1" | bc -l)
printf 'heat template validate: %.3f s (%.1f MB/s, %.0f files/s)\n' "$heat_s" "$(echo "$bytes / $heat_s / 1000000" | bc -l)" "$(echo "${#files[@]} / $heat_s" | bc -l)"
printf 'cfn-lint:               %.3f s (%.2f MB/s, %.1f files/s)\n' "$lint_s" "$(echo "$bytes / $lint_s / 1000000" | bc -l)" "$(echo "${#files[@]} / $lint_s" | bc -l)"
printf 'ratio: heat is %.0fx faster\n' "$(echo "$lint_s / $heat_s" | bc -l)"
