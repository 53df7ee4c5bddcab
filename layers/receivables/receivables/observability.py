"""One place for the Powertools logger, tracer and metrics every handler shares."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
