"""EventBridge Scheduler (each day, 02:00 Istanbul) → here: the general-ledger export of the business day before,
``gl/<date>/journal.csv`` and ``.parquet`` with their control record (receivables.accounting.export). Safe to run
again: the same date writes the same files. ``{"export_date": "YYYY-MM-DD"}`` exports that date instead."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.adapters.clock import export_day
from receivables.observability import count, logger, metrics, tracer

EXPORT = bootstrap.gl_export()
SETTINGS = bootstrap.gl_export_settings()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = export_day(event, SETTINGS.business_timezone, SETTINGS.business_date)
    done = EXPORT.export(day)
    control = done.control
    result = {
        "business_date": day.isoformat(),
        "lines": control.lines,
        "balanced": control.balanced,
        "unmapped": len(control.unmapped),
        "currencies": [c.model_dump(mode="json") for c in control.currencies],
        "files": done.files,
    }
    count("GlLinesExported", control.lines)
    count("GlPostingsUnmapped", len(control.unmapped))
    count("GlExportsUnbalanced", 0 if control.balanced else 1)
    if not control.balanced:
        logger.error("general-ledger export does not balance", extra=result)
    else:
        logger.info("general-ledger export", extra=result)
    return result
