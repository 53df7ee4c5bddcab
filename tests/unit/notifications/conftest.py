from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from receivables.notifications import NoticeItem, NotificationContext


@pytest.fixture
def context() -> NotificationContext:
    """A Turkish customer two invoices behind, with everything a letter needs."""
    return NotificationContext(
        customer_name="Ayşe Yılmaz",
        account_id="ACC-1001",
        overdue_amount=Decimal("1234.56"),
        currency="TRY",
        oldest_due_date=date(2026, 11, 24),
        days_overdue=20,
        items=(
            NoticeItem("INV-2026-0042", date(2026, 11, 24), Decimal("1000.00")),
            NoticeItem("INV-2026-0077", date(2026, 12, 1), Decimal("234.56")),
        ),
        company_name="Örnek Enerji A.Ş.",
        company_iban="TR330006100519786457841326",
        company_contact="0850 123 45 67 · destek@ornek.com.tr",
        customer_address=("Atatürk Cad. No: 12 D: 3", "34710 Kadıköy / İstanbul"),
        company_address=("Büyükdere Cad. No: 1", "34394 Şişli / İstanbul"),
        letter_date=date(2026, 12, 14),
    )


@pytest.fixture
def plain_context(context: NotificationContext) -> NotificationContext:
    """An English-speaking customer whose name and company fit the GSM 7-bit alphabet."""
    return NotificationContext(
        customer_name="John Smith",
        account_id="ACC-2002",
        overdue_amount=Decimal("1234.56"),
        currency="TRY",
        oldest_due_date=date(2026, 11, 24),
        days_overdue=10,
        items=context.items,
        company_name="Example Energy",
    )
