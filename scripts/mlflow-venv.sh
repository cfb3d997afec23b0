#!/usr/bin/env bash
# Creates (once) a project-local Python virtual environment with a pinned MLflow, used by the
# tracking integration tests and by `node scripts/mlflow-server.mjs`. Re-running is a no-op when
# the pinned version is already installed, so CI can call it on every run.
#
#   bash scripts/mlflow-venv.sh            # creates .venv-mlflow/ beside package.json
#   ABLATE_MLFLOW_VENV=/path bash scripts/mlflow-venv.sh
set -euo pipefail

MLFLOW_VERSION="${ABLATE_MLFLOW_VERSION:-3.17.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ABLATE_MLFLOW_VENV:-$ROOT/.venv-mlflow}"
PY="${PYTHON:-python3}"

if [ -x "$VENV/bin/mlflow" ] && [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))' 2>/dev/null)" = "$MLFLOW_VERSION" ]; then
  echo "mlflow-venv: mlflow $MLFLOW_VERSION already in $VENV"
  exit 0
fi

if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "mlflow-venv: MLflow 3 needs Python >= 3.10; $PY is $("$PY" --version 2>&1)" >&2
  exit 1
fi

echo "mlflow-venv: installing mlflow==$MLFLOW_VERSION into $VENV (one time, a few minutes)"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION"
"$VENV/bin/mlflow" --version
