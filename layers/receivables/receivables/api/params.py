"""Path parameters and constants shared by the API's routes."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

API_TITLE = "Receivables API"
API_VERSION = "0.2.0"
IDENTIFIER = r"^[^\s#]{1,128}$"  # the loaders' rule (they also refuse control characters)

IdParam = Annotated[str, Path(pattern=IDENTIFIER, max_length=128, description="Identifier as sent by billing")]
