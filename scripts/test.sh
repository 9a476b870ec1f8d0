#!/usr/bin/env bash
# Run the whole test suite on a fresh machine (Python 3.11 and pip): make .venv, install PLC Bridge with its
# test extras at the locked versions, install Debian's Chromium for the browser tests and PHP for the Moodle tests when
# they are missing, then run pytest.
# Ruff, mypy and import-linter run first. Extra arguments go to pytest, e.g. `scripts/test.sh -k launch`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# Every dependency at the version of requirements.lock (pyproject.toml keeps the ranges; see the README).
.venv/bin/python -m pip install --quiet -c requirements.lock -e '.[test]'

# Ralph, the real LRS of the learning-record tests, in its own environment (its pins are not ours).
if [ ! -x .venv-ralph/bin/ralph ]; then
    python3 -m venv .venv-ralph
    .venv-ralph/bin/python -m pip install --quiet 'ralph-malph[lrs,cli]>=5.0' requests
fi

# Chromium for the browser tests; Thai fonts (Noto Sans/Serif Thai, TLWG) so that screenshots and PDFs show Thai,
# Laksaman (fonts-tlwg-laksaman, the free twin of TH Sarabun) for the letters to the Council; Pango for WeasyPrint's
# PDFs (libthai breaks Thai lines between words); poppler's pdftoppm and pdftotext to read printed QR codes and text.
if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=th 2>/dev/null | grep -q . \
    || ! dpkg -s fonts-noto-core fonts-tlwg-laksaman libpangoft2-1.0-0 libthai0 poppler-utils >/dev/null 2>&1; then
    echo "Installing Debian's chromium, Thai fonts, Pango and poppler-utils for the tests..."
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-thai-tlwg fonts-tlwg-laksaman \
        fonts-noto-core libpango-1.0-0 libpangoft2-1.0-0 libthai0 poppler-utils >/dev/null
fi

# PHP 8.2 for the real Moodle of the Moodle tests (../shared/moodle/, see tests/support/moodle.py), when it is there.
PHP_PACKAGES="php8.2-cli php8.2-pgsql php8.2-intl php8.2-xml php8.2-mbstring php8.2-curl php8.2-zip php8.2-gd php8.2-soap php8.2-opcache"
if ls ../shared/moodle/moodle-* >/dev/null 2>&1 && ! dpkg -s $PHP_PACKAGES >/dev/null 2>&1; then
    echo "Installing Debian's PHP 8.2 for the Moodle tests..."
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PHP_PACKAGES >/dev/null
fi

# The checks that need no running component, before the tests: lint, format, types, the dependency direction
# (import-linter's contracts also run inside the suite, in tests/test_architecture.py).
echo "ruff check, ruff format --check, mypy --strict, lint-imports..."
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy --strict --ignore-missing-imports --no-error-summary models xapi lti_tool/lti lti_tool/services lti_tool/workers
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache

# Two test processes (PLC_TEST_WORKERS, 0 for one): the tests mostly wait on servers, browsers and databases. Each
# process starts its own session fixtures (tool, platform, Ralph, Chromium, its own copy of the Moodle site); a
# worker that is done takes tests still queued for the other (worksteal), so the long browser journeys spread out.
exec .venv/bin/python -m pytest -n "${PLC_TEST_WORKERS:-2}" --dist worksteal "$@"
