"""EventBridge Scheduler (the 1st of each month) → here: each agency's statement of the month before, commission
netted, as a PDF and a CSV in the outbound bucket and by e-mail (receivables.insurance.agency_bill); on the 1st of a
quarter also each reinsurer's statement of the quarter before, then its settlement (receivables.insurance.reinsurance).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.clock import scheduled_business_date
from receivables.observability import count, logger, metrics, tracer

BILL = bootstrap.agency_statements()
REINSURANCE = bootstrap.reinsurance_statements()
SETTINGS = bootstrap.agency_statement_settings()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = scheduled_business_date(event, SETTINGS.business_timezone, SETTINGS.business_date)
    run = BILL.issue_statements(day)
    logger.info("agency statements", extra={"business_date": day.isoformat(), "issued": run.issued})
    count("AgencyStatementsIssued", len(run.issued))
    reinsurers = REINSURANCE.issue(day)
    if reinsurers:
        logger.info("reinsurance statements", extra={"business_date": day.isoformat(), "issued": reinsurers})
        count("ReinsuranceStatementsIssued", len(reinsurers))
    return {"business_date": day.isoformat(), "issued": run.issued, "files": run.files, "reinsurance": reinsurers}
