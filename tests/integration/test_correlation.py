"""One correlation id per story in the logs: a file's planning and every chunk of it; a payment's events and the
dunning review they cause."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from receivables.observability import logger

from tests.integration.test_loading_pipeline import CUSTOMERS, drop


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def take(self) -> list[dict]:
        taken, self.lines = self.lines, []
        return taken


@pytest.fixture
def log_lines() -> Iterator[_Lines]:
    """The handlers' log lines as Lambda writes them (Powertools' JSON formatter adds the correlation id)."""
    collector = _Lines()
    collector.setFormatter(logger.registered_formatter)
    level = logger.log_level
    logger.addHandler(collector)
    logger.setLevel(logging.INFO)
    yield collector
    logger.removeHandler(collector)
    logger.setLevel(level)


def test_a_files_fan_out_logs_under_its_file_id_and_a_review_under_its_payment(stack, context, log_lines):
    drop(stack, "customers/c.csv", CUSTOMERS)
    stack.drain(context)
    lines = log_lines.take()
    planned = [line for line in lines if line["message"] == "planned inbound file"]
    chunks = [line for line in lines if line["message"] == "loaded chunk"]
    assert planned and chunks
    file_id = planned[0]["correlation_id"]
    assert file_id.endswith("-customers") and {c["correlation_id"] for c in chunks} == {file_id}

    stack.handler("dunning_worker")({"id": "evt-1", "detail": {"account_id": "A1", "payment_id": "P-77"}}, context)
    reviews = [line for line in log_lines.take() if line["message"] == "dunning review"]
    assert reviews and {r["correlation_id"] for r in reviews} == {"P-77"}
