#!/usr/bin/env bash
# Creates the project-local Python venv tools/.venv (pinned torch, numpy, safetensors) used by
# tools/make_model_fixtures.py, tools/pth_to_safetensors.py, loss fixtures and bench/iteration_torch.py.
# Idempotent: skips when the venv already imports the pinned versions. Serialised with a lock so
# two engineers (or CI steps) calling it at once do not build the same venv twice.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
PY="${PYTHON:-python3}"

check() {
  "$VENV/bin/python" - "$REQ" <<'PYEOF' 2>/dev/null
import sys, importlib.metadata as md
want = {}
for line in open(sys.argv[1]):
    line = line.split('#', 1)[0].strip()
    if '==' in line:
        name, ver = line.split('==')
        want[name.strip()] = ver.strip()
for name, ver in want.items():
    if md.version(name) != ver:
        sys.exit(1)
import torch, numpy, safetensors  # noqa: F401  (import must work, not just metadata)
PYEOF
}

build() {
  if [ -x "$VENV/bin/python" ] && check; then
    echo "tools/.venv: ready ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
    return 0
  fi
  command -v "$PY" >/dev/null || { echo "setup-venv: $PY not found; install Python 3.11" >&2; exit 1; }
  echo "tools/.venv: creating with $("$PY" --version)"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check -q --upgrade pip >/dev/null
  if ! "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQ"; then
    echo "setup-venv: pip could not install $REQ (is the package index reachable?)" >&2
    exit 1
  fi
  check || { echo "setup-venv: installed, but 'import torch, numpy, safetensors' fails in $VENV" >&2; exit 1; }
  echo "tools/.venv: ready ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
}

if command -v flock >/dev/null; then
  exec 9>/tmp/venv.lock
  flock 9
fi
build
