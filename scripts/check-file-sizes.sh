#!/usr/bin/env bash
# Every Rust file, tests included, stays under 800 lines: a file that grows
# past it is split by subject, so that a reader finds a concept by its name.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=800
# Tracked and new files as they are in the work tree (a clean clone in CI).
long=$(git ls-files --cached --others --exclude-standard '*.rs' \
  | while read -r file; do [ -f "$file" ] && printf '%s\n' "$file"; done \
  | xargs awk -v limit="$limit" \
  'FNR == 1 && prev { if (count >= limit) print prev ": " count " lines" }
   { prev = FILENAME; count = FNR }
   END { if (count >= limit) print prev ": " count " lines" }')
if [ -n "$long" ]; then
  echo "files of ${limit} lines or more (split them by subject):"
  echo "$long"
  exit 1
fi
echo "every .rs file is under ${limit} lines"
