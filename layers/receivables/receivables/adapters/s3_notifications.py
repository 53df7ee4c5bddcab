"""The objects an S3 event notification (delivered through SQS) announces."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event


def announced_objects(body: str) -> list[tuple[str, str]]:
    """(bucket, key) of every object in the notification; none for the test event S3 sends when it is configured."""
    notification = json.loads(body)
    if notification.get("Event") == "s3:TestEvent":
        return []
    # Keys arrive URL-encoded ('+' for a space).
    return [(r.s3.bucket.name, unquote_plus(r.s3.get_object.key)) for r in S3Event(notification).records]
