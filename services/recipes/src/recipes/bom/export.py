"""A bill of materials as a file: CSV for spreadsheets, JSON, or a PDF to print and shop from."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

if TYPE_CHECKING:
    from recipes.bom.schemas import BomLine, BomRead

ExportFormat = Literal["csv", "json", "pdf"]

CSV_COLUMNS = (
    ("Item", "ingredient_name"), ("Type", "type"), ("Category", "category"),
    ("Supplier", "supplier"), ("Quantity", "total_qty"), ("Unit", "unit"),
    ("Purchase quantity", "purchase_qty"), ("Purchase unit", "purchase_unit"),
    ("Pack size", "pack_size"), ("Packs", "packs"), ("Pack price", "pack_price"),
    ("Purchase cost", "purchase_cost"), ("Unit cost", "unit_cost"), ("Line cost", "line_cost"),
    ("Item id", "ingredient_id"),
)


@dataclass(frozen=True, slots=True)
class Exporter:
    media_type: str
    extension: str
    render: Callable[[BomRead], bytes]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"  # never 1E-7: what a spreadsheet reads as the number it is
    text = str(value)
    # A cell starting like a formula is read as one by spreadsheets: keep it text.
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return f"'{text}"
    return text


def render_csv(bom: BomRead) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheets read accents right), CRLF rows, one row
    per item and a total row; numbers exact, with a dot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for title, _ in CSV_COLUMNS])
    for line in bom.items:
        writer.writerow([_cell(getattr(line, field)) for _, field in CSV_COLUMNS])
    totals = {"ingredient_name": "Total", "purchase_cost": bom.total_purchase_cost,
              "line_cost": bom.total_cost}
    writer.writerow([_cell(totals.get(field)) for _, field in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_json(bom: BomRead) -> bytes:
    return bom.model_dump_json(indent=2).encode()


def render_pdf(bom: BomRead) -> bytes:
    """A shopping list: grouped by supplier, what to buy in packs, with a box to tick and the
    total to spend."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                                 topMargin=15 * mm, bottomMargin=15 * mm, title=bom.name,
                                 author="Smallbatch")
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story: list[Flowable] = [Paragraph(escape(bom.name), styles["Title"])]
    subtitle = [f"Generated {bom.created_at:%Y-%m-%d %H:%M} UTC"]
    if bom.date:
        subtitle.insert(0, f"For {bom.date:%Y-%m-%d}")
    story.append(Paragraph(" · ".join(subtitle), styles["Normal"]))
    recipes = "; ".join(
        f"{r.name}, {_amount(r.portions)} portions" if r.portions is not None
        else f"{r.name}, {_amount(r.multiplier)} batches" for r in bom.recipes_included)
    story += [Paragraph(escape(f"Recipes: {recipes}"), small), Spacer(1, 6 * mm)]
    rows: list[list[object]] = [["", "Item", "Need", "Buy", "Pack price", "Cost"]]
    supplier_rows = []
    to_spend = Decimal(0)
    for supplier, lines in _by_supplier(bom.items):
        supplier_rows.append(len(rows))
        rows.append(["", Paragraph(f"<b>{escape(supplier)}</b>", small), "", "", "", ""])
        for line in lines:
            # What buying it costs: whole packs when the item is bought in packs, else what
            # the recipes use of it.
            cost = line.purchase_cost if line.purchase_cost is not None else line.line_cost
            to_spend += cost or 0
            rows.append([Checkbox(), Paragraph(escape(line.ingredient_name), small),
                         f"{_amount(line.total_qty)} {line.unit}", _buy(line),
                         _money(line.pack_price), _money(cost)])
    rows.append(["", Paragraph("<b>Total</b>", small), "", "", "", _money(to_spend)])
    table = Table(rows, colWidths=[7 * mm, 62 * mm, 30 * mm, 35 * mm, 22 * mm, 22 * mm],
                  repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        *(("BACKGROUND", (0, row), (-1, row), colors.HexColor("#eeeeee"))
          for row in supplier_rows),
    ]))
    story.append(table)
    notes = [f"Cost of what the recipes use: {_money(bom.total_cost)}; the total above buys "
             "whole packs."]
    if not bom.cost_complete:
        notes.append("Some costs are unknown (items without stock or purchase price): the "
                     "totals leave them out.")
    story += [Spacer(1, 4 * mm), *(Paragraph(escape(note), small) for note in notes)]
    document.build(story)
    return buffer.getvalue()


class Checkbox(Flowable):
    """An empty square to tick off on paper (drawn, so it needs no symbol font)."""

    size = 3.2 * mm

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        self.canv.setLineWidth(0.6)
        self.canv.rect(0, 0, self.size, self.size, stroke=1, fill=0)


def _by_supplier(lines: list[BomLine]) -> list[tuple[str, list[BomLine]]]:
    groups: dict[str, list[BomLine]] = {}
    for line in lines:
        groups.setdefault(line.supplier or "No supplier", []).append(line)
    return sorted(groups.items(), key=lambda group: (group[0] == "No supplier", group[0]))


def _buy(line: BomLine) -> str:
    if line.packs is not None:
        return f"{line.packs} x {_amount(line.pack_size)} {line.purchase_unit}"
    return f"{_amount(line.total_qty)} {line.unit}"


def _amount(value: Decimal | None) -> str:
    """A quantity for people to read: at most three decimals, never a positive one shown as 0
    (the CSV and JSON keep every digit)."""
    if value is None:
        return ""
    rounded = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    if not rounded and value:
        return "< 0.001"
    return f"{rounded.normalize():f}"


def _money(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


EXPORTERS: dict[str, Exporter] = {
    "csv": Exporter("text/csv; charset=utf-8", "csv", render_csv),
    "json": Exporter("application/json", "json", render_json),
    "pdf": Exporter("application/pdf", "pdf", render_pdf),
}
