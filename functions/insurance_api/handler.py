"""API Gateway → here: the insurance sub-ledger (routes live in receivables.api.insurance_routes)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from receivables import bootstrap
from receivables.api.app import handle_insurance
from receivables.observability import logger, tracer

# Built at cold start, so a missing or malformed setting fails the start, not the first request.
bootstrap.cold_start("insurance_api")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_insurance(event, context)
