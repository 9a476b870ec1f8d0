"""Start Ralph's LRS API with its file-system backend (run with the Python of Ralph's own virtual environment).

Ralph 5.1.0's fs LRS backend writes every POST with the "create" operation to one file, so every write
after the first fails ("fs_lrs.jsonl already exists and overwrite is not allowed"; the API answers 500).
Its own `ralph runserver` also forks a reloader. This starter sets the backend's operation to "append"
and runs uvicorn in one process, so the fixture can stop and restart it cleanly.

    python ralph_starter.py PORT      (settings from RALPH_* variables, as `ralph runserver` uses them)
"""

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend

FSDataBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", reload=False)
