"""A table (a header and rows of typed values) written as XLSX or as CSV, streamed to a file.

Both writers take rows as an iterable and never hold the whole table: the XLSX writer uses openpyxl's
write-only mode (rows go to a temporary XML part as they come) and only buffers the first rows to size
the columns, which must be declared before the first row is written. Dates stay dates (dd/mm/yyyy),
moments are shown in Asia/Ho_Chi_Minh (Excel has no time zones), and text that looks like a formula stays
text in both formats, so a unit named "=HYPERLINK(...)" cannot run anything in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from sync.periods import VN

__all__ = [
    "Column",
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "cell_text",
    "write_csv",
    "write_xlsx",
]

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
FONT_NAME = "DejaVu Sans"  # LibreOffice substitutes Calibri badly; DejaVu has every Vietnamese letter
SIZING_ROWS = 500  # rows buffered to size the columns
MIN_WIDTH, MAX_WIDTH = 6, 60
# XML 1.0 forbids these control characters; openpyxl refuses a string that holds one.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Column:
    """One column: its key in the rows' dicts (for documentation), its header, and its kind.

    kind: "text", "number", "date", "datetime" (aware; shown in Asia/Ho_Chi_Minh) or "link" (a URL kept
    as text)."""

    key: str
    title: str
    kind: str = "text"


def local_naive(moment: datetime) -> datetime:
    """An aware moment as Asia/Ho_Chi_Minh wall time without a zone (what a spreadsheet can hold)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(VN).replace(tzinfo=None)


def cell_text(value: Any) -> str:
    """A value as a person reads it in a CSV cell: dates dd/mm/yyyy, moments HH:MM in Vietnam's time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_naive(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "Có" if value else "Không"
    return str(value)


def _safe_text(text: str) -> str:
    """Text a spreadsheet shows as text: control characters dropped, a leading formula sign escaped."""
    text = _ILLEGAL.sub("", text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _width_of(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = cell_text(value)
    return max((len(line) for line in text.splitlines()), default=0)


def column_widths(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Widths in characters from the header and the rows seen, bounded so a long note wraps instead."""
    widths = [len(c.title) for c in columns]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width_of(value))
    return [min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for w in widths]


def _count(rows: Iterable[Sequence[Any]], progress: Progress | None, every: int = 500) -> Iterator[Sequence[Any]]:
    """The rows, reporting how many went by every `every` rows and at the end."""
    n = 0
    for row in rows:
        yield row
        n += 1
        if progress and n % every == 0:
            progress(n)
    if progress and (n == 0 or n % every):
        progress(n)


def write_xlsx(
    path: Path | str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str = "Dữ liệu",
    progress: Progress | None = None,
) -> int:
    """Write the table to `path` as one sheet: a bold frozen header with a filter, sized columns.

    Returns the number of data rows written. `progress(n)` is called as rows are written."""
    rows = iter(rows)
    head = list(islice(rows, SIZING_ROWS))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(sheet_title))
    for i, width in enumerate(column_widths(columns, head), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    last = get_column_letter(max(1, len(columns)))
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    plain, bold = Font(name=FONT_NAME, size=10), Font(name=FONT_NAME, size=10, bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=_safe_text(c.title))
        cell.font, cell.alignment = bold, wrap
        header.append(cell)
    ws.append(header)

    n = 0
    for row in _count(chain(head, rows), progress):
        ws.append([_xlsx_cell(ws, col, value, plain, wrap) for col, value in zip(columns, row)])
        n += 1
    ws.auto_filter.ref = f"A1:{last}{n + 1}"
    wb.save(str(path))
    return n


def _xlsx_cell(ws: Any, column: Column, value: Any, font: Font, wrap: Alignment) -> WriteOnlyCell:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=local_naive(value))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
    elif isinstance(value, bool):
        cell = WriteOnlyCell(ws, value=cell_text(value))
    elif isinstance(value, int | float):
        cell = WriteOnlyCell(ws, value=value)
    elif value is None:
        cell = WriteOnlyCell(ws, value=None)
    else:
        cell = WriteOnlyCell(ws, value=_ILLEGAL.sub("", str(value)))
        cell.data_type = "s"  # never a formula, whatever the text begins with
    cell.font = font
    # Only text with line breaks wraps: LibreOffice keeps a write-only sheet's default row height, so a
    # wrapped long line would overlap the next row; a long single line is cut at the column's edge instead.
    if isinstance(cell.value, str) and "\n" in cell.value:
        cell.alignment = wrap
    return cell


def _sheet_title(title: str) -> str:
    """A title Excel accepts: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet"


def write_csv(
    path: Path | str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    progress: Progress | None = None,
) -> int:
    """Write the table to `path` as CSV in UTF-8 with a BOM (so Excel shows the diacritics), CRLF lines.

    Returns the number of data rows written."""
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.title for c in columns])
        for row in _count(rows, progress):
            writer.writerow([_csv_value(v) for v in row])
            n += 1
    return n


def _csv_value(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a negative number is a number, not a formula
    return _safe_text(cell_text(value))
