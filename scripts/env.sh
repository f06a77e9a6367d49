# Sourced by scripts/serve and scripts/test: make .venv with pychami installed (editable).
set -euo pipefail
shopt -s nullglob
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PYCHAMI_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "pychami needs Python 3.11 or newer (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
stamp="$VENV/.pychami-installed"
want="$(cat "$ROOT/pyproject.toml" "$ROOT"/ci/pip/*.txt "$ROOT/ci/constraints.txt" | sha256sum | cut -c1-16)-${PYCHAMI_EXTRAS:-}"
# Install the versions the suite was last green with (a new release must not break a fresh checkout).
export PIP_CONSTRAINT="$ROOT/ci/constraints.txt"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$ROOT${PYCHAMI_EXTRAS:+[$PYCHAMI_EXTRAS]}"
  pip_lists=("$ROOT"/ci/pip/*.txt)
  if [ -n "${PYCHAMI_EXTRAS:-}" ] && [ ${#pip_lists[@]} -gt 0 ]; then
    cat "${pip_lists[@]}" | { grep -v '^#' || true; } | xargs -r "$VENV/bin/python" -m pip install -q
  fi
  echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
