"""A bill of materials as a file: CSV for spreadsheets, JSON, or a PDF to print and shop from."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

if TYPE_CHECKING:
    from recipes.bom import BomLine, BomRead

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


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula is read as one by spreadsheets: keep it text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render_csv(bom: BomRead) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheets read accents right), CRLF rows, one row
    per item and a total row; numbers exact, with a dot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for title, _ in CSV_COLUMNS])
    for line in bom.items:
        data = line.model_dump()
        writer.writerow([_cell(data[field]) for _, field in CSV_COLUMNS])
    total_row = [""] * len(CSV_COLUMNS)
    total_row[0] = "Total"
    total_row[11] = str(bom.total_purchase_cost)
    total_row[13] = str(bom.total_cost)
    writer.writerow(total_row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_json(bom: BomRead) -> bytes:
    return bom.model_dump_json(indent=2).encode()


def render_pdf(bom: BomRead) -> bytes:
    """A shopping list: grouped by supplier, what to buy in packs, with the totals."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                                 topMargin=15 * mm, bottomMargin=15 * mm, title=bom.name,
                                 author="Smallbatch")
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story = [Paragraph(escape(bom.name), styles["Title"])]
    subtitle = [f"Generated {bom.created_at:%Y-%m-%d %H:%M} UTC"]
    if bom.date:
        subtitle.insert(0, f"For {bom.date:%Y-%m-%d}")
    story.append(Paragraph(" · ".join(subtitle), styles["Normal"]))
    recipes = ", ".join(f"{r.name} x {r.portions if r.portions is not None else r.multiplier}"
                        f"{'' if r.portions is not None else ' batches'}"
                        for r in bom.recipes_included)
    story += [Paragraph(escape(f"Recipes: {recipes}"), small), Spacer(1, 6 * mm)]
    rows: list[list[object]] = [["", "Item", "Need", "Buy", "Pack price", "Cost"]]
    for supplier, lines in _by_supplier(bom.items):
        rows.append(["", Paragraph(f"<b>{escape(supplier)}</b>", small), "", "", "", ""])
        for line in lines:
            rows.append(["q", Paragraph(escape(line.ingredient_name), small),
                         f"{line.total_qty} {line.unit}", _buy(line),
                         _money(line.pack_price), _money(line.purchase_cost or line.line_cost)])
    rows.append(["", Paragraph("<b>Total</b>", small), "", "", "",
                 _money(bom.total_purchase_cost or bom.total_cost)])
    table = Table(rows, colWidths=[7 * mm, 62 * mm, 30 * mm, 35 * mm, 22 * mm, 22 * mm],
                  repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 1), (0, -1), "ZapfDingbats", 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.HexColor("#f4f4f4")]),
    ]))
    story.append(table)
    if not bom.cost_complete:
        story += [Spacer(1, 4 * mm), Paragraph(
            "Some costs are unknown (items without stock or purchase price); totals leave "
            "them out.", small)]
    document.build(story)
    return buffer.getvalue()


def _by_supplier(lines: list[BomLine]) -> list[tuple[str, list[BomLine]]]:
    groups: dict[str, list[BomLine]] = {}
    for line in lines:
        groups.setdefault(line.supplier or "No supplier", []).append(line)
    return sorted(groups.items(), key=lambda group: (group[0] == "No supplier", group[0]))


def _buy(line: BomLine) -> str:
    if line.packs is not None:
        return f"{line.packs} x {line.pack_size} {line.purchase_unit}"
    return f"{line.total_qty} {line.unit}"


def _money(value: object) -> str:
    return "" if value is None else f"{float(value):,.2f}"  # type: ignore[arg-type]


EXPORTERS: dict[str, Exporter] = {
    "csv": Exporter("text/csv; charset=utf-8", "csv", render_csv),
    "json": Exporter("application/json", "json", render_json),
    "pdf": Exporter("application/pdf", "pdf", render_pdf),
}
