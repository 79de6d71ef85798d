"""Reading a roster file through the one reader (``yfbz.files.reader``, docs/files.md): xlsx or
CSV (UTF-8, UTF-8 with BOM, GBK), the header found among the first 10 rows, headers matched through
the roster format's wordings and those staff added, row numbers the spreadsheet's own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from yfbz.files.formats import ROSTER
from yfbz.files.reader import FileUnreadable, Table, cell_text, normalise_text, read_table, staff_wordings

LABEL = ROSTER.labels
RosterUnreadable = FileUnreadable  # the name the roster code and import_roster use
Sheet = Table

__all__ = ["LABEL", "RosterUnreadable", "Sheet", "cell_text", "normalise_text", "open_roster", "open_roster_aside"]


def open_roster(data: bytes) -> Table:
    """Open a roster file from its bytes. Raises RosterUnreadable with a Chinese reason."""
    return read_table(data, ROSTER)


def open_roster_aside(data: bytes) -> Callable[[], Table]:
    """open_roster in a thread of its own; returns the function that waits for it (and raises what it
    raised). calamine lets go of the GIL while it parses the sheet (~1 s per 100,000 rows), so the caller
    reads the department's open identities meanwhile (issue 14). The staff's header wordings are read
    here first: the thread touches no database connection."""
    extra = staff_wordings(ROSTER)
    box: dict = {}

    def work() -> None:
        try:
            box["table"] = read_table(data, ROSTER, extra=extra)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            box["error"] = exc

    thread = threading.Thread(target=work, name="roster-open", daemon=True)
    thread.start()

    def result() -> Table:
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["table"]

    return result
