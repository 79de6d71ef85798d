"""Reading a roster file through the one reader (``yfbz.files.reader``, docs/files.md): xlsx or
CSV (UTF-8, UTF-8 with BOM, GBK), the header found among the first 10 rows, headers matched through
the roster format's wordings and those staff added, row numbers the spreadsheet's own.
"""

from __future__ import annotations

from yfbz.files.formats import ROSTER
from yfbz.files.reader import FileUnreadable, Table, cell_text, normalise_text, read_table

LABEL = ROSTER.labels
RosterUnreadable = FileUnreadable  # the name the roster code and import_roster use
Sheet = Table

__all__ = ["LABEL", "RosterUnreadable", "Sheet", "cell_text", "normalise_text", "open_roster"]


def open_roster(data: bytes) -> Table:
    """Open a roster file from its bytes. Raises RosterUnreadable with a Chinese reason."""
    return read_table(data, ROSTER)
