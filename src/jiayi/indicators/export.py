"""Excel (xlsx) export of any table of the indicator pages (openpyxl, streamed as a download)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, note: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1"
    start = 1
    if note:
        ws.cell(row=1, column=1, value=note)
        start = 3
    for col, header in enumerate(headers, start=1):
        ws.cell(row=start, column=col, value=str(header)).font = Font(bold=True)
    for r, row in enumerate(rows, start=start + 1):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value if isinstance(value, (int, float)) or value is None else str(value))
    for col in ws.columns:
        width = max((len(str(cell.value)) for cell in col if cell.value is not None), default=8)
        ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width * 1.6))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                  *, note: str = "") -> HttpResponse:
    response = HttpResponse(workbook_bytes(title, headers, rows, note=note), content_type=XLSX)
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "export.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response
