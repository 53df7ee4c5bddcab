"""Shared test setup: an AWS-free environment by default (no credentials, no network for unit tests)."""

from __future__ import annotations

import os

# Never reach a real AWS account from tests, whatever the developer's shell has.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-central-1",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="Receivables",
    POWERTOOLS_SERVICE_NAME="receivables",
    POWERTOOLS_LOG_LEVEL="WARNING",
)
for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(name, None)
