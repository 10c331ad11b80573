#!/usr/bin/env bash
# Install the test-only peer InVEST (natcap.invest) into a SEPARATE venv, .venv-peers.
# Used by tests/test_peer_invest.py (pytest -m peer), which skips when the import fails.
# Idempotent: each step is skipped when its result is already there.
#
#   scripts/install_peers.sh            # from the project root
#   PEERS_VENV=/some/where scripts/install_peers.sh
#
# Needs root (or sudo) for apt-get when libgdal-dev is missing (Debian/Ubuntu).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PEERS_VENV:-$ROOT/.venv-peers}"
INVEST_VERSION="${INVEST_VERSION:-3.20.2}"
PYGEOPROCESSING_VERSION="${PYGEOPROCESSING_VERSION:-2.4.11}"
PY="$VENV/bin/python"

log() { printf '[install_peers] %s\n' "$*"; }

if "$PY" -c "import natcap.invest, sys; sys.exit(0 if natcap.invest.__version__.startswith('$INVEST_VERSION') else 1)" 2>/dev/null; then
    log "natcap.invest $INVEST_VERSION already installed in $VENV"
    exit 0
fi

# 1. GDAL headers and gdal-config (system GDAL; the Python bindings must match its version)
if ! command -v gdal-config >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    log "installing libgdal-dev (apt-get)"
    $SUDO apt-get update
    $SUDO apt-get install -y libgdal-dev
fi
GDAL_VERSION="$(gdal-config --version)"
log "system GDAL $GDAL_VERSION"

# 2. the separate venv
if [ ! -x "$PY" ]; then
    log "creating venv $VENV"
    python3 -m venv "$VENV"
fi
PIP=("$PY" -m pip)
"${PIP[@]}" install --upgrade pip

# 3. build prerequisites (InVEST and pygeoprocessing build Cython extensions)
"${PIP[@]}" install numpy babel "cython<3.1" "setuptools>=77" wheel setuptools_scm

# 4. GDAL Python bindings matching the system library
if ! "$PY" -c "from osgeo import gdal" 2>/dev/null; then
    "${PIP[@]}" install --no-build-isolation "gdal==$GDAL_VERSION"
fi

# 5. pygeoprocessing, then InVEST (its build calls tools from the venv's bin: put it first on PATH)
if ! "$PY" -c "import pygeoprocessing" 2>/dev/null; then
    "${PIP[@]}" install --no-build-isolation "pygeoprocessing==$PYGEOPROCESSING_VERSION"
fi
PATH="$VENV/bin:$PATH" "${PIP[@]}" install --no-build-isolation "natcap-invest==$INVEST_VERSION"

"$PY" -c "import natcap.invest; print('natcap.invest', natcap.invest.__version__)"
log "done: $VENV"
