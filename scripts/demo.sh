#!/usr/bin/env bash
# Start PLC Bridge with its embedded defaults (SQLite in ./instance, generated keys, the demo LMS) on
# http://127.0.0.1:5000 — open http://127.0.0.1:5000/demo/ and click "Launch as teacher".
# First it makes sure the Thai fonts the documents need are installed (certificates, logbooks, the results report and
# the letters print Thai with them; without them Thai prints as empty boxes), as scripts/test.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."

# Noto Sans/Serif Thai, the TLWG fonts, and Laksaman (the free twin of TH Sarabun PSK, the font of official letters).
THAI_FONT_PACKAGES=(fonts-thai-tlwg fonts-noto-core fonts-tlwg-laksaman)

thai_fonts_installed() {
    command -v fc-list >/dev/null 2>&1 && fc-list :lang=th family 2>/dev/null | grep -q . || return 1
    # On Debian, each package the documents rely on (Laksaman for letters too); elsewhere a Thai font is enough.
    if command -v dpkg >/dev/null 2>&1; then
        dpkg -s "${THAI_FONT_PACKAGES[@]}" >/dev/null 2>&1
    fi
}

ensure_thai_fonts() {
    if thai_fonts_installed; then
        return 0
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo"
        else
            sudo="none"
        fi
    fi
    if [ "$sudo" = "none" ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "PLC Bridge: the Thai fonts the documents need are not installed, and this script cannot install them" >&2
        echo "  (it needs apt-get, as root or with sudo). Certificates and reports would print Thai as empty boxes." >&2
        echo "  Ask the administrator to run: apt-get install ${THAI_FONT_PACKAGES[*]} fontconfig" >&2
        echo "  The demo starts anyway." >&2
        return 1
    fi
    echo "Installing the Thai fonts the documents need: ${THAI_FONT_PACKAGES[*]}..."
    ${sudo:+$sudo} apt-get update -qq
    ${sudo:+$sudo} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig "${THAI_FONT_PACKAGES[@]}" >/dev/null
}

case "${1:-}" in  # the font steps alone, e.g. for a provisioning script: 0 when the fonts are there
    --check-fonts) thai_fonts_installed; exit ;;
    --install-fonts) ensure_thai_fonts; exit ;;
esac
ensure_thai_fonts || true

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet -c requirements.lock -e '.[demo]'
exec .venv/bin/plc-bridge demo "$@"
