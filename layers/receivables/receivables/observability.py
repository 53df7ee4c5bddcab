"""One place for the Powertools logger, tracer and metrics every handler shares."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def count(name: str, value: float = 1) -> None:
    """Add a count metric. With metrics disabled (the local stack), Powertools would still gather values and print
    them once a hundred have piled up; nothing is gathered then."""
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
