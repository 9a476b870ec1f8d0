"""Add Thai translations to the catalog: refresh it from the source, fill the given entries, compile.

    python scripts/translate.py new-strings.json     # {"English msgid": "Thai msgstr", ...}
    python scripts/translate.py --missing            # list the msgids that still lack Thai

Holds a lock on the catalog while it works, so several people (or helpers) can add text at the same time
without one refresh dropping another's translations.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "lti_tool" / "translations" / "th" / "LC_MESSAGES" / "messages.po"
LOCK = ROOT / "lti_tool" / "translations" / ".catalog.lock"


def refresh() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "translations.sh")], check=True, env=_env())


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHON": os.environ.get("PYTHON", sys.executable)}


def main(argv: list[str]) -> int:
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        refresh()
        with PO.open("rb") as handle:
            catalog = read_po(handle, locale="th")
        if argv and argv[0] != "--missing":
            given: dict[str, str] = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
            unknown = [msgid for msgid in given if msgid not in catalog]
            catalog.fuzzy = False
            for msgid, thai in given.items():
                if msgid in catalog:
                    catalog[msgid].string = thai
            with PO.open("wb") as handle:
                write_po(handle, catalog, width=120, no_location=True, sort_output=True)
            refresh()
            if unknown:
                print("not in the source (check the spelling):", *unknown, sep="\n  ", file=sys.stderr)
        with PO.open("rb") as handle:
            missing = [m.id for m in read_po(handle, locale="th") if m.id and not m.string]
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
