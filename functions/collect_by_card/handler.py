"""EventBridge Scheduler (each business day, 07:00 Istanbul) → here: each bank's card-installment or bank-scheme
collection request for the items due (and the retries due) of customers with an auto-pay instruction
(receivables.card_collection). Safe to run twice for one date: an item asked for is never asked for again until
the bank answers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.clock import scheduled_business_date
from receivables.observability import count, logger, metrics, tracer

bootstrap.cold_start("collect_by_card")
SERVICE = bootstrap.card_collections()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = bootstrap.card_collection_settings()
    run = SERVICE.run(scheduled_business_date(event, settings.business_timezone, settings.business_date))
    result: dict[str, Any] = {"run_date": run.run_date.isoformat(), "files": run.files, "skipped": run.skipped}
    count("CollectionsRequested", sum(int(str(f["requests"])) for f in run.files))
    logger.info("card collection run", extra=result)
    return result
