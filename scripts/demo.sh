#!/usr/bin/env bash
# Start PLC Bridge with its embedded defaults (SQLite in ./instance, generated keys, the demo LMS) on
# http://127.0.0.1:5000 — open http://127.0.0.1:5000/demo/ and click "Launch as teacher".
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet -c requirements.lock -e '.[demo]'
exec .venv/bin/plc-bridge demo "$@"
