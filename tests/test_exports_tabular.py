"""The XLSX and CSV writers, read back cell by cell."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from server.services.tabular import Column, write_csv, write_xlsx

COLUMNS = [
    Column("name", "Tên đơn vị"),
    Column("decided_on", "Ngày quyết định", "date"),
    Column("at", "Thời điểm", "datetime"),
    Column("count", "Số TTHC", "number"),
    Column("note", "Ghi chú"),
]
ROWS = [
    ("Xã Đăk Kan", date(2025, 12, 31), datetime(2026, 3, 1, 17, 30, tzinfo=UTC), 12, "Đã công bố"),
    ("Ủy ban nhân dân huyện Ia H'Drai", None, None, 0, '=HYPERLINK("http://x")'),
    ("Xã Ngọk Réo", date(2026, 1, 2), datetime(2026, 1, 1, 0, 0, tzinfo=UTC), -3, "dòng\x07 một\ndòng hai"),
]


def test_xlsx_reads_back_with_dates_vietnamese_widths_and_a_frozen_bold_header(tmp_path):
    path = tmp_path / "t.xlsx"
    seen = []
    assert write_xlsx(path, COLUMNS, iter(ROWS), sheet_title="Danh sách đơn vị", progress=seen.append) == 3
    assert seen[-1] == 3
    ws = load_workbook(path)["Danh sách đơn vị"]
    assert [c.value for c in ws[1]] == [c.title for c in COLUMNS]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:E4"
    assert ws["A2"].value == "Xã Đăk Kan"
    assert ws["B2"].value == datetime(2025, 12, 31) and ws["B2"].number_format == "dd/mm/yyyy"
    # 17:30 UTC is 00:30 the next day in Vietnam.
    assert ws["C2"].value == datetime(2026, 3, 2, 0, 30) and ws["C2"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["D2"].value == 12 and ws["D4"].value == -3
    assert ws["B3"].value is None
    assert ws["E3"].value == '=HYPERLINK("http://x")' and ws["E3"].data_type == "s"
    assert ws["E4"].value == "dòng một\ndòng hai"
    assert ws["A3"].value == "Ủy ban nhân dân huyện Ia H'Drai"
    # The name column is sized from its longest value, the date column stays narrow.
    assert ws.column_dimensions["A"].width >= len("Ủy ban nhân dân huyện Ia H'Drai")
    assert ws.column_dimensions["B"].width < ws.column_dimensions["A"].width
    assert ws.column_dimensions["A"].width <= 60


def test_csv_reads_back_as_utf8_with_bom_and_escapes_formulas(tmp_path):
    path = tmp_path / "t.csv"
    assert write_csv(path, COLUMNS, ROWS) == 3
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [c.title for c in COLUMNS]
    assert rows[1] == ["Xã Đăk Kan", "31/12/2025", "02/03/2026 00:30", "12", "Đã công bố"]
    assert rows[2][4] == '\'=HYPERLINK("http://x")' and rows[2][1] == ""
    assert rows[3][3] == "-3"
    assert rows[3][4] == "dòng một\ndòng hai"


def test_an_empty_table_is_a_header_alone(tmp_path):
    path = tmp_path / "e.xlsx"
    assert write_xlsx(path, COLUMNS, []) == 0
    ws = load_workbook(path).active
    assert ws.max_row == 1 and ws["A1"].value == "Tên đơn vị"


def test_a_long_table_is_streamed_and_reports_progress(tmp_path):
    path = tmp_path / "l.xlsx"
    seen = []
    rows = ((f"Đơn vị {i}", date(2026, 1, 1), None, i, "") for i in range(2_000))
    assert write_xlsx(path, COLUMNS, rows, progress=seen.append) == 2_000
    assert seen == [500, 1000, 1500, 2000]
    wb = load_workbook(path, read_only=True)
    assert sum(1 for _ in wb.active.iter_rows()) == 2_001
    wb.close()
