"""Writers run at once in threads, for the tests of concurrent changes (locks, lost updates, deadlocks)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(*writers: Callable[[], None], timeout: float = 60) -> list[BaseException]:
    """Run the writers in threads at once; the failures they raised."""
    failures: list[BaseException] = []

    def run(writer: Callable[[], None]) -> None:
        try:
            writer()
        except BaseException as failure:  # noqa: BLE001 (returned to the test)
            failures.append(failure)

    threads = [threading.Thread(target=run, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return failures
