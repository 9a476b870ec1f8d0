"""Start Ralph's LRS API with its file-system backend (run with the Python of Ralph's own virtual environment).

Ralph 5.1.0's fs LRS backend writes every POST with the "create" operation to one file, so every write
after the first fails ("fs_lrs.jsonl already exists and overwrite is not allowed"; the API answers 500).
Its own `ralph runserver` also forks a reloader. This starter sets the backend's operation to "append"
and runs uvicorn in one process, so the fixture can stop and restart it cleanly.

Ralph 5.1.0's API also hands the fs LRS backend the `verb` and `activity` query parameters wrapped in its pydantic
`IRI` root model, which the backend compares with the statements' plain strings: every query filtered by verb or
activity answers no statement. The starter unwraps them before the backend's query, as the backend expects.

    python ralph_starter.py PORT      (settings from RALPH_* variables, as `ralph runserver` uses them)
"""

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend
from ralph.backends.lrs.fs import FSLRSBackend

FSDataBackend.default_operation_type = BaseOperationType.APPEND
_query_statements = FSLRSBackend.query_statements


def _query_with_plain_iris(self, params, target=None):  # type: ignore[no-untyped-def]
    for name in ("verb", "activity"):
        value = getattr(params, name, None)
        if value is not None and hasattr(value, "root"):
            setattr(params, name, str(value.root))
    return _query_statements(self, params, target)


FSLRSBackend.query_statements = _query_with_plain_iris

if __name__ == "__main__":
    uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", reload=False)
