"""EventBridge Scheduler (daily) → here: prove every balance from the journal. Each difference is logged with its
account and item; the ``LedgerDifferences`` metric (alarmed above 0) counts them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.observability import count, logger, metrics, tracer

VERIFIER = bootstrap.ledger_verifier()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = VERIFIER.verify()
    for difference in report.differences:
        logger.error(
            "ledger difference",
            extra={
                "account_id": difference.account_id,
                "item_id": difference.item_id,
                "payment_id": difference.payment_id,
                "what": difference.what,
                "stored": str(difference.stored),
                "journal": str(difference.journal),
            },
        )
    count("LedgerDifferences", len(report.differences))
    result = {
        "verified": report.verified,
        "accounts": report.accounts,
        "items": report.items,
        "payments": report.payments,
        "entries": report.entries,
        "differences": len(report.differences),
    }
    logger.info("ledger verified" if report.verified else "ledger has differences", extra=result)
    return result
