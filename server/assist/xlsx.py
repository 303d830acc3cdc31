"""A chart of the dashboard as an XLSX workbook (openpyxl): a title row, a header row, the numbers."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from server.assist.figures import Chart


def workbook(chart: Chart) -> bytes:
    """The chart's table as .xlsx bytes (one sheet named by the chart's key)."""
    wb = Workbook()
    ws = wb.active
    if not isinstance(ws, Worksheet):  # a new workbook always starts with one worksheet, active
        raise TypeError(f"a new workbook's active sheet is {ws!r}")
    ws.title = chart.key[:31]
    ws.append([f"{chart.title[0]} / {chart.title[1]}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(list(chart.columns))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in chart.rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
