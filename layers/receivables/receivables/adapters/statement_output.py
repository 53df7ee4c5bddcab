"""An agency statement out: a CSV (one line per installment) and a PDF into the outbound bucket under
``statements/<YYYY-MM>/``, and an e-mail to the agency when it has an address."""

from __future__ import annotations

import csv
import io
from typing import Any

from receivables.insurance.agency_bill import Agency
from receivables.insurance.statements import AgencyStatement
from receivables.notifications.context import NoticeItem, NotificationContext
from receivables.notifications.render import render_email, render_letter_pdf

CSV_HEADER = ("statement_id", "policy_id", "item_id", "installment_no", "due_date", "gross", "commission", "net")


def statement_csv(statement: AgencyStatement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in statement.lines:
        writer.writerow(
            (
                statement.statement_id,
                line.policy_id,
                line.item_id,
                line.no,
                line.due_date.isoformat(),
                f"{line.gross:.2f}",
                f"{line.commission:.2f}",
                f"{line.net:.2f}",
            )
        )
    writer.writerow(
        ("TOTAL", "", "", "", "", f"{statement.gross:.2f}", f"{statement.commission:.2f}", f"{statement.net_due:.2f}")
    )
    return out.getvalue()


def statement_context(statement: AgencyStatement, agency: Agency, company_name: str) -> NotificationContext:
    return NotificationContext(
        customer_name=agency.name,
        account_id=statement.account_id,
        overdue_amount=statement.net_due,
        currency=statement.currency,
        oldest_due_date=min(line.due_date for line in statement.lines),
        days_overdue=0,
        items=[NoticeItem(line.item_id, line.due_date, line.net) for line in statement.lines],
        company_name=company_name,
        payment_reference=statement.statement_id,
        letter_date=statement.issued_on,
    )


class S3StatementOutput:
    def __init__(self, s3: Any, bucket: str, messenger: Any, company_name: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._messenger = messenger
        self._company = company_name

    def publish(self, statement: AgencyStatement, agency: Agency) -> list[str]:
        prefix = f"statements/{statement.period}/{statement.statement_id}"
        context = statement_context(statement, agency, self._company)
        self._s3.put_object(
            Bucket=self._bucket, Key=f"{prefix}.csv", Body=statement_csv(statement).encode(), ContentType="text/csv"
        )
        pdf = render_letter_pdf("agency_statement", agency.language, context)
        self._s3.put_object(Bucket=self._bucket, Key=f"{prefix}.pdf", Body=pdf, ContentType="application/pdf")
        if agency.email:
            email = render_email("agency_statement", agency.language, context)
            self._messenger.send_email(agency.email, email.subject, email.html, email.text)
        return [f"{prefix}.csv", f"{prefix}.pdf"]
