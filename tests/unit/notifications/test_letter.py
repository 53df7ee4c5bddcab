from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from receivables.notifications import NoticeItem, NotificationContext, TemplateContextError, render_letter_pdf

from tests.unit.notifications.pdf_text import pdf_text

NBSP = "\u00a0"


def test_letter_is_a_pdf_with_the_font_embedded(context: NotificationContext) -> None:
    pdf = render_letter_pdf("formal_notice", "tr", context)

    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"/BaseFont /MPDFAA+DejaVuSansBook" in pdf
    assert b"/BaseFont /MPDFAA+DejaVuSansBold" in pdf
    assert pdf.count(b"/FontFile2") == 2  # both faces embedded (as subsets), nothing left to the viewer
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf  # A4 in points
    assert b"/Lang (tr-TR)" in pdf


def test_turkish_letter_text(context: NotificationContext) -> None:
    text = pdf_text(render_letter_pdf("formal_notice", "tr", context))

    for expected in [
        "Örnek Enerji A.Ş.",  # sender block
        "34394 Şişli / İstanbul",
        "Ayşe Yılmaz",  # address block
        "34710 Kadıköy / İstanbul",
        "14.12.2026",  # letter date
        "Vadesi geçmiş borcunuza ilişkin ihtar – ACC-1001 numaralı hesap",
        "Sayın Ayşe Yılmaz,",
        "INV-2026-0042",
        "01.12.2026",
        "₺234,56",
        "Toplam",
        "₺1.234,56",
        "Saygılarımızla,",
        "Sayfa 1/1",
    ]:
        assert expected in text, expected
    flat = " ".join(text.split())
    assert "24.11.2026 tarihinden bu yana vadesi geçmiş ₺1.234,56 tutarında borcunuz bulunmaktadır." in flat
    assert "yasal yollara başvurulabileceğini" in flat


def test_english_letter_text(context: NotificationContext) -> None:
    pdf = render_letter_pdf("formal_notice", "en", context)
    text = pdf_text(pdf)

    assert "Dear Ayşe Yılmaz," in text
    assert "14 Dec 2026" in text
    # DejaVu draws U+00A0 with the space glyph, so the text layer reads it back as a space.
    assert "TRY 1,234.56" in text.replace(NBSP, " ")
    assert "Yours sincerely," in text
    assert "Page 1/1" in text
    assert b"/Lang (en-GB)" in pdf


def test_same_input_same_bytes(context: NotificationContext) -> None:
    first = render_letter_pdf("formal_notice", "tr", context)
    again = render_letter_pdf("formal_notice", "tr", context)

    assert first == again
    assert b"/CreationDate (D:20261214000000Z)" in first  # the letter date, not the clock


def test_creation_date_is_a_parameter(context: NotificationContext) -> None:
    created = datetime(2026, 12, 14, 6, 30, tzinfo=UTC)
    pdf = render_letter_pdf("formal_notice", "tr", context, created_at=created)

    assert b"/CreationDate (D:20261214063000Z)" in pdf
    assert pdf != render_letter_pdf("formal_notice", "tr", context)
    with pytest.raises(TemplateContextError, match="timezone-aware"):
        render_letter_pdf("formal_notice", "tr", context, created_at=datetime(2026, 12, 14))


def test_long_item_lists_flow_onto_more_pages(context: NotificationContext) -> None:
    items = tuple(NoticeItem(f"INV-{n:04d}", date(2026, 11, 24), Decimal("10.00")) for n in range(80))
    pdf = render_letter_pdf("formal_notice", "tr", dataclasses.replace(context, items=items))
    text = pdf_text(pdf)

    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))  # type: ignore[union-attr]
    assert pages >= 2
    assert f"Sayfa {pages}/{pages}" in text
    assert "INV-0000" in text and "INV-0079" in text
    assert text.count("Belge no") >= 2  # the table headings repeat on the continuation page


def test_letter_needs_its_date(context: NotificationContext) -> None:
    with pytest.raises(TemplateContextError, match="letter_date"):
        render_letter_pdf("formal_notice", "tr", dataclasses.replace(context, letter_date=None))


def test_letter_from_a_mapping_needs_every_key(context: NotificationContext) -> None:
    variables = dict(context.template_vars())
    del variables["customer_address"]
    with pytest.raises(TemplateContextError, match="customer_address"):
        render_letter_pdf("formal_notice", "tr", variables)
