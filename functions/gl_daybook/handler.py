"""DynamoDB stream (records that are postings: journal entries, items' and payables' own records) → here: staged for
the general-ledger export under their business date (receivables.adapters.general_ledger). A batch delivered again
stages the same object; nothing is lost when this fails, the stream retries it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.clock import scheduled_business_date
from receivables.adapters.general_ledger import posting_facts
from receivables.observability import count, logger, metrics, tracer

DAYBOOK = bootstrap.gl_daybook()
SETTINGS = bootstrap.gl_daybook_settings()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The whole batch or nothing: staging is one object per day, written again whole on a retry.
    facts = [
        fact
        for record in event.get("Records", [])
        if record.get("eventName") == "INSERT"
        for fact in posting_facts(record.get("dynamodb", {}).get("NewImage", {}))
    ]
    today = scheduled_business_date({}, SETTINGS.business_timezone, SETTINGS.business_date)
    staged = DAYBOOK.stage(facts, today) if facts else []
    count("PostingsStaged", len(facts))
    logger.info("postings staged for the general ledger", extra={"postings": len(facts), "objects": staged})
    return {"postings": len(facts), "objects": staged}
