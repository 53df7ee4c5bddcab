"""EventBridge Scheduler (each day, 02:30 Istanbul) → here: the BI export of the business day before, Parquet by
table and date in the analytics bucket (receivables.adapters.bi_export), exactly once per day.
``{"export_date": "YYYY-MM-DD"}`` exports that date instead (answered from its control when already exported)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.clock import export_day
from receivables.observability import count, logger, metrics, tracer

EXPORT = bootstrap.bi_export()
SETTINGS = bootstrap.bi_export_settings()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = export_day(event, SETTINGS.business_timezone, SETTINGS.business_date)
    control = EXPORT.export(day)
    result = {"business_date": day.isoformat(), "rows": control.rows, "files": control.files, "again": control.already}
    if not control.already:
        count("BiRowsExported", sum(control.rows.values()))
    logger.info("BI export", extra=result)
    return result
