#!/usr/bin/env bash
# Refresh the Thai catalog after changing user-facing text: extract, merge into th/messages.po, compile.
# Then translate the new empty msgstr entries in lti_tool/translations/th/LC_MESSAGES/messages.po and run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m babel.messages.frontend extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
    -o lti_tool/translations/messages.pot .
"$PY" -m babel.messages.frontend update -i lti_tool/translations/messages.pot -d lti_tool/translations -l th --no-fuzzy-matching
"$PY" -m babel.messages.frontend compile -d lti_tool/translations
