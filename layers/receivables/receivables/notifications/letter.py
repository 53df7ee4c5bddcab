"""A dunning letter on A4, laid out with fpdf2: sender block, window-envelope address block, date and references,
subject, body, a table of the overdue items, closing and a footer on every page.

The words come from the Jinja templates (``render.py``); this module only places them. The output is byte-for-byte
deterministic: the PDF creation date is a parameter and fpdf2's document id is a hash of the content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

FONTS_DIR: Final = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR: Final = FONTS_DIR / "DejaVuSans.ttf"
FONT_BOLD: Final = FONTS_DIR / "DejaVuSans-Bold.ttf"
_FONT: Final = "DejaVuSans"  # a Unicode TTF: the PDF core fonts are Latin-1 only and cannot print ş, ğ, ı, İ or ₺

_MARGIN: Final = 20.0
_ADDRESS_TOP: Final = 50.0  # DIN 5008 form B address field, so the letter fits a left window envelope
_ADDRESS_WIDTH: Final = 85.0
_LINE: Final = 5.0
_GREY: Final = (90, 90, 90)


@dataclass(frozen=True, slots=True)
class LetterLabels:
    date: str
    account: str
    reference: str
    item: str
    due_date: str
    open_amount: str
    total: str
    page: str


LETTER_LABELS: Final[dict[str, LetterLabels]] = {
    "tr": LetterLabels(
        date="Tarih",
        account="Hesap no",
        reference="Ödeme referansı",
        item="Belge no",
        due_date="Vade tarihi",
        open_amount="Açık tutar",
        total="Toplam",
        page="Sayfa",
    ),
    "en": LetterLabels(
        date="Date",
        account="Account no.",
        reference="Payment reference",
        item="Document no.",
        due_date="Due date",
        open_amount="Open amount",
        total="Total",
        page="Page",
    ),
}


@dataclass(frozen=True, slots=True)
class LetterRow:
    item_id: str
    due_date: str  # already formatted for the letter's locale
    open_amount: str


@dataclass(frozen=True, slots=True)
class LetterContent:
    language_tag: str  # BCP 47, for the PDF's /Lang (screen readers, text extraction)
    labels: LetterLabels
    company_name: str
    company_address: Sequence[str]
    company_contact: str | None
    customer_name: str
    customer_address: Sequence[str]
    date: str
    account_id: str
    payment_reference: str
    subject: str
    body: Sequence[str]  # paragraphs before the items table
    rows: Sequence[LetterRow]
    total: str
    closing: Sequence[str]  # paragraphs after the table, ending with the signature


class _LetterPdf(FPDF):
    def __init__(self, footer_text: str, page_label: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_text = footer_text
        self._page_label = page_label

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(_FONT, size=7.5)
        self.set_text_color(*_GREY)
        self.cell(0, 4, self._footer_text, align=Align.L)
        self.set_x(self.l_margin)
        self.cell(0, 4, f"{self._page_label} {self.page_no()}/{self.str_alias_nb_pages}", align=Align.R)


def build_letter_pdf(content: LetterContent, *, created_at: datetime) -> bytes:
    footer = " · ".join(part for part in (content.company_name, content.company_contact) if part)
    pdf = _LetterPdf(footer, content.labels.page)
    pdf.set_creation_date(created_at)
    pdf.set_title(content.subject)
    pdf.set_author(content.company_name)
    pdf.set_creator("receivables")
    pdf.set_lang(content.language_tag)
    pdf.add_font(_FONT, "", str(FONT_REGULAR))
    pdf.add_font(_FONT, "B", str(FONT_BOLD))
    pdf.set_margins(_MARGIN, 15.0, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=22.0)
    pdf.add_page()

    _sender_block(pdf, content)
    _reference_block(pdf, content)
    _address_block(pdf, content)

    pdf.set_y(max(pdf.get_y(), _ADDRESS_TOP + 45.0) + 8.0)
    pdf.set_font(_FONT, "B", 11)
    pdf.multi_cell(0, 6, content.subject, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    _paragraphs(pdf, content.body)
    _items_table(pdf, content)
    pdf.ln(4)
    _paragraphs(pdf, content.closing)
    return bytes(pdf.output())


def _sender_block(pdf: FPDF, content: LetterContent) -> None:
    pdf.set_xy(_MARGIN, 15.0)
    pdf.set_font(_FONT, "B", 11)
    pdf.cell(95, 5.5, content.company_name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=8.5)
    pdf.set_text_color(*_GREY)
    for line in (*content.company_address, *([content.company_contact] if content.company_contact else [])):
        pdf.cell(95, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _reference_block(pdf: FPDF, content: LetterContent) -> None:
    labels = content.labels
    x = pdf.w - _MARGIN - 70.0
    pdf.set_y(_ADDRESS_TOP)
    for label, value in (
        (labels.date, content.date),
        (labels.account, content.account_id),
        (labels.reference, content.payment_reference),
    ):
        pdf.set_x(x)
        pdf.set_font(_FONT, size=8.5)
        pdf.set_text_color(*_GREY)
        pdf.cell(32, 4.5, f"{label}:")
        pdf.set_font(_FONT, size=9)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(38, 4.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _address_block(pdf: FPDF, content: LetterContent) -> None:
    pdf.set_xy(_MARGIN, _ADDRESS_TOP)
    pdf.set_font(_FONT, size=6.5)
    pdf.set_text_color(*_GREY)
    return_line = " · ".join((content.company_name, *content.company_address))
    pdf.cell(_ADDRESS_WIDTH, 3.5, return_line[:90], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    pdf.set_font(_FONT, size=10)
    for line in (content.customer_name, *content.customer_address):
        pdf.multi_cell(_ADDRESS_WIDTH, _LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _paragraphs(pdf: FPDF, paragraphs: Sequence[str]) -> None:
    pdf.set_font(_FONT, size=10)
    for paragraph in paragraphs:
        # Ragged right: justified lines stretch badly around long tokens such as an IBAN.
        pdf.multi_cell(0, _LINE, paragraph, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2.5)


def _items_table(pdf: FPDF, content: LetterContent) -> None:
    labels = content.labels
    pdf.set_font(_FONT, size=9)
    bold = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    with pdf.table(
        col_widths=(80, 40, 50),
        text_align=(Align.L, Align.C, Align.R),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=bold,
        line_height=5.5,
    ) as table:
        table.row((labels.item, labels.due_date, labels.open_amount))
        for row in content.rows:
            table.row((row.item_id, row.due_date, row.open_amount))
        total = table.row()
        total.cell(labels.total, colspan=2, style=FontFace(emphasis="BOLD"))
        total.cell(content.total, align=Align.R, style=FontFace(emphasis="BOLD"))
