"""The notice and the annual summary as XLSX workbooks (openpyxl): dates as dates (dd/mm/yyyy), numbers as
numbers, Vietnamese text as it is, DejaVu Sans (Calibri is substituted badly where it is missing), set
column widths, the header row frozen and repeated on every printed page, fitted to the page's width.

Each workbook has the table itself and a "Nguồn" sheet: the approved checklists its figures come from.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..catalogue import CHOICE_LABELS, NOTICE_COLUMNS, TIMELINESS_LABELS
from .annual_summary import AnnualSummary
from .documents import Source
from .notice import CHOICE_COLUMNS, Notice

FONT = "DejaVu Sans"
DATE_FORMAT = "dd/mm/yyyy"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_thin = Side(style="thin", color="808080")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")


def _title(ws: Worksheet, lines: list[str], width: int) -> int:
    """Title lines merged across the table's width; returns the next free row."""
    for i, text in enumerate(lines, 1):
        ws.cell(row=i, column=1, value=text).font = Font(name=FONT, bold=i == 1, size=12 if i == 1 else 10)
        ws.cell(row=i, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
        ws.row_dimensions[i].height = 32 if i == 1 else 18
    return len(lines) + 2


def _table(ws: Worksheet, top: int, headers: list[tuple[str, float]], rows: list[list[Any]]) -> None:
    """Header at row `top`, frozen and printed on every page; then the rows, bordered and wrapped."""
    for col, (text, width) in enumerate(headers, 1):
        cell = ws.cell(row=top, column=col, value=text)
        cell.font = Font(name=FONT, bold=True, size=9)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        ws.column_dimensions[get_column_letter(col)].width = width
    widths = [w for _t, w in headers]
    ws.row_dimensions[top].height = max(30.0, _height([t for t, _w in headers], [w * 0.85 for w in widths]))
    for r, values in enumerate(rows, top + 1):
        ws.row_dimensions[r].height = _height(values, widths)
        for col, value in enumerate(values, 1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.font = Font(name=FONT, size=9)
            cell.border = BORDER
            long_text = col == 2 or (
                isinstance(value, str) and len(value) > 24
            )  # names and sentences read from the left
            cell.alignment = Alignment(vertical="top", wrap_text=True, horizontal="left" if long_text else "center")
            if isinstance(value, date):
                cell.number_format = DATE_FORMAT
            elif isinstance(value, int | float) and col > 1:
                cell.number_format = "#,##0"  # 15.000.000 đồng, in the reader's own separators
    ws.freeze_panes = ws.cell(row=top + 1, column=3)  # the header and the unit's name stay in view
    ws.print_title_rows = f"{top}:{top}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4


def _height(values: list[Any], widths: list[float]) -> float:
    """Row height (points) for the wrapped text of a row. LibreOffice does not grow rows to fit wrapped
    text on opening a file, so the lines are counted here: about 1.15 characters of 9 pt DejaVu Sans
    per unit of column width (looked at in LibreOffice)."""
    lines = 1
    for value, width in zip(values, widths):
        if isinstance(value, str):
            per_line = max(1, int(width * 1.15))
            lines = max(lines, sum(-(-max(1, len(part)) // per_line) for part in value.split("\n")))
    return 12.5 * lines + 2


def _sources(wb: Workbook, sources: list[Source], base_url: str) -> None:
    ws = wb.create_sheet("Nguồn")
    top = _title(ws, ["Các phiếu đã duyệt được dùng để tổng hợp số liệu"], 6)
    headers = [("STT", 6), ("Đơn vị", 34), ("Mẫu phiếu", 44), ("Kỳ", 16), ("Ngày duyệt", 13), ("Phiếu", 60)]
    rows = [
        [i, s.unit_name, f"{s.template_title} (phiên bản {s.template_version})", s.period_label, s.approved_on]
        + [base_url + s.link]
        for i, s in enumerate(sources, 1)
    ]
    _table(ws, top, headers, rows)
    for i, s in enumerate(sources, top + 1):
        ws.cell(row=i, column=6).hyperlink = base_url + s.link


def _bytes(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _choice(code: str | None) -> str:
    return CHOICE_LABELS.get(code, "") if code else ""


def notice_xlsx(n: Notice, base_url: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Phụ lục"
    headers: list[tuple[str, float]] = [("STT", 6), ("Đơn vị", 30)]
    headers += [(NOTICE_COLUMNS[k], 13) for k in CHOICE_COLUMNS[:4]]
    headers += [("Ngày đánh giá nội bộ", 13), (NOTICE_COLUMNS["management_review_done"], 13)]
    headers += [("Ngày xem xét của lãnh đạo", 13)]
    headers += [(NOTICE_COLUMNS[k], 13) for k in CHOICE_COLUMNS[5:]]
    headers += [("Số TTHC mới ban hành", 11), ("Số TTHC mới đã đưa vào HTQLCL", 12)]
    headers += [(NOTICE_COLUMNS["internal_procedures_count"], 11), (NOTICE_COLUMNS["report_sent"], 22)]
    headers += [("Hạn gửi", 13), ("Ngày gửi", 13)]
    rows = []
    for r in n.rows:
        c = r.choices
        rows.append(
            [r.no, r.name]
            + [_choice(c[k]) for k in CHOICE_COLUMNS[:4]]
            + [r.dates["internal_audit_done"], _choice(c["management_review_done"])]
            + [r.dates["management_review_done"]]
            + [_choice(c[k]) for k in CHOICE_COLUMNS[5:]]
            + [r.new_tthc, r.new_tthc_built, r.procedures, TIMELINESS_LABELS[r.report.status]]
            + [r.report.due, r.report.sent_on]
        )
    title = [
        f"Phụ lục: Kết quả tổng hợp tình hình xây dựng, áp dụng, duy trì và cải tiến HTQLCL tháng {n.month_no} năm {n.year}",
        f"(Kèm theo Thông báo của {n.issuer.name}, phạm vi: {n.root.name})",
        f"Số liệu lấy từ {len(n.sources)} báo cáo tháng đã được duyệt (xem trang «Nguồn»); ô trống: chưa có báo cáo được duyệt.",
    ]
    _table(ws, _title(ws, title, len(headers)), headers, rows)
    _sources(wb, n.sources, base_url)
    return _bytes(wb)


def summary_xlsx(s: AnnualSummary, base_url: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    top = _title(
        ws,
        [
            f"Tổng hợp kết quả xây dựng, áp dụng, duy trì và cải tiến HTQLCL năm {s.year}",
            f"{s.issuer.name}, phạm vi: {s.root.name}",
            f"Từ {s.figures['reported']}/{s.figures['total']} báo cáo năm đã được duyệt (xem trang «Nguồn»).",
        ],
        3,
    )
    rows: list[list[Any]] = [[1, "Số đơn vị đã gửi báo cáo năm được duyệt", s.figures["reported"]]]
    rows += [[1 + i, label, s.totals[k]] for i, (k, label) in enumerate(s.number_labels.items(), 1)]
    start = len(rows) + 1
    rows += [[start + i, label, s.yes_counts[k]] for i, (k, label) in enumerate(s.yes_labels.items())]
    _table(ws, top, [("STT", 6), ("Nội dung", 60), ("Số liệu", 18)], rows)
    for row in ws.iter_rows(min_row=top + 1, min_col=3, max_col=3):
        row[0].number_format = "#,##0"

    detail = wb.create_sheet("Chi tiết")
    headers: list[tuple[str, float]] = [("STT", 6), ("Đơn vị", 30)]
    headers += [(label, 13) for label in s.number_labels.values()]
    headers += [(label, 13) for label in s.yes_labels.values()]
    headers += [("Số quyết định công bố", 16), ("Ngày công bố", 13), ("Ngày gửi báo cáo", 13)]
    body = [
        [r.no, r.name]
        + [r.numbers[k] for k in s.number_labels]
        + [_choice(r.choices[k]) for k in s.yes_labels]
        + [r.announcement_number, r.announcement_date, r.sent_date]
        for r in s.rows
    ]
    _table(detail, _title(detail, [f"Chi tiết theo đơn vị, năm {s.year}"], len(headers)), headers, body)
    _sources(wb, s.sources, base_url)
    return _bytes(wb)
