"""CSV exports: one writer for every report a person opens in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is run as a formula by Excel,
LibreOffice and Google Sheets, and a leading tab or carriage return is dropped before the
same check. Names, addresses and texts in these reports come from residents, owners'
registers and imports, so ``=HYPERLINK("http://x", "click")`` in a company's name would
become a live link (or worse, with DDE) on a supervisor's desktop. Such text cells get a
leading apostrophe, as OWASP's CSV-injection guidance recommends; the value stays readable
and nothing runs. A number, even a negative one written as text ("-120.50"), is not a
formula and stays a number the spreadsheet can sum.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, as reports write amounts, areas, rates and counts.
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: object) -> object:
    """Returns ``value`` as a cell no spreadsheet will run as a formula (None as empty)."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # bool is an int: written as True/False
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class CsvWriter:
    """A ``csv.writer`` whose every cell goes through ``safe_cell``."""

    def __init__(self, out: io.StringIO, *, lineterminator: str = "\r\n") -> None:
        self._out = out
        self._end = lineterminator
        # Rows are written with CRLF, then given the file's own ending: the csv module quotes
        # a cell holding CR or LF only when its line terminator holds that character, and an
        # unquoted CR or LF inside a name would split its row in two when the file is read.
        self._line = io.StringIO()
        self._writer = csv.writer(self._line, lineterminator="\r\n")

    def writerow(self, values: Iterable[object]) -> None:
        """Writes one row."""
        self._line.seek(0)
        self._line.truncate()
        self._writer.writerow([safe_cell(value) for value in values])
        self._out.write(self._line.getvalue().removesuffix("\r\n") + self._end)

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        """Writes every row."""
        for row in rows:
            self.writerow(row)


def csv_line(values: Iterable[object], *, lineterminator: str = "\r\n") -> str:
    """Returns one CSV line of ``values``, ending with ``lineterminator``."""
    out = io.StringIO()
    CsvWriter(out, lineterminator=lineterminator).writerow(values)
    return out.getvalue()
