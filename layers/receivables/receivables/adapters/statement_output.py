"""An agency statement out: a CSV (one line per installment) and a PDF into the outbound bucket under
``statements/<YYYY-MM>/``, and an e-mail to the agency when it has an address."""

from __future__ import annotations

import csv
import io
from typing import Any

from receivables.insurance.agency_bill import Agency
from receivables.insurance.reinsurance import ReinsuranceStatement
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


REINSURANCE_CSV_HEADER = ("statement_id", "line_id", "kind", "booked_on", "policy_id", "claim_id", "period", "amount")


def reinsurance_statement_csv(statement: ReinsuranceStatement) -> str:
    """One line per premium, commission and recovery of the quarter (signed: + the reinsurer owes us), then the totals
    and the balance of everything still open on the account."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REINSURANCE_CSV_HEADER)
    for line in statement.lines:
        writer.writerow(
            (
                statement.statement_id,
                line.line_id,
                line.kind,
                line.booked_on.isoformat(),
                line.policy_id or "",
                line.claim_id or "",
                line.period or "",
                f"{line.amount:.2f}",
            )
        )
    for label, kind in (
        ("PREMIUMS", "ceded_premium"),
        ("COMMISSIONS", "reinsurance_commission"),
        ("RECOVERIES", "claim_recovery"),
    ):
        writer.writerow((label, "", kind, "", "", "", statement.period, f"{statement.total(kind):.2f}"))
    writer.writerow(("BALANCE", "", "", statement.issued_on.isoformat(), "", "", "", f"{statement.balance:.2f}"))
    return out.getvalue()


class S3ReinsuranceStatementOutput:
    """``statements/<YYYY-Qn>/<statement id>.csv`` and ``.pdf`` in the outbound bucket."""

    def __init__(self, s3: Any, bucket: str, company_name: str, language: str | None = None) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._company = company_name
        self._language = language

    def publish(self, statement: ReinsuranceStatement, name: str) -> list[str]:
        prefix = f"statements/{statement.period}/{statement.statement_id}"
        self._s3.put_object(
            Bucket=self._bucket,
            Key=f"{prefix}.csv",
            Body=reinsurance_statement_csv(statement).encode(),
            ContentType="text/csv",
        )
        context = NotificationContext(
            customer_name=name,
            account_id=statement.account_id,
            overdue_amount=statement.balance,
            currency=statement.currency,
            oldest_due_date=min((line.booked_on for line in statement.lines), default=statement.issued_on),
            days_overdue=0,
            items=[NoticeItem(line.line_id, line.booked_on, line.amount) for line in statement.lines],
            company_name=self._company,
            payment_reference=statement.statement_id,
            letter_date=statement.issued_on,
        )
        pdf = render_letter_pdf("reinsurance_statement", self._language, context)
        self._s3.put_object(Bucket=self._bucket, Key=f"{prefix}.pdf", Body=pdf, ContentType="application/pdf")
        return [f"{prefix}.csv", f"{prefix}.pdf"]
