"""Construct ids, in one place.

CloudFormation logical ids are derived from these, and a changed logical id makes CloudFormation replace the
resource (a new, empty table or bucket). Treat every value here, and every logical name in the topology (the
per-resource ids derive from them), as part of the deployed state: rename only with a migration plan.
"""

from __future__ import annotations

STACK = "Receivables"

# Top-level constructs of the stack.
STORAGE = "Storage"
MESSAGING = "Messaging"
LAYER = "SharedLayer"
ANALYTICS_LAYER = "AnalyticsLayer"
GL_CATALOG = "GeneralLedgerCatalog"
ANALYTICS_CATALOG = "AnalyticsCatalog"
FUNCTIONS = "Functions"
TRIGGERS = "Triggers"
API = "Api"
PEOPLE = "People"
PEOPLE_API = "PeopleApi"
PEOPLE_USER_POOL = "UserPool"
PEOPLE_CLIENT = "ConsoleClient"
MONITORING = "Monitoring"

# Inside Storage.
TABLE = "LedgerTable"
ACCESS_LOGS_BUCKET = "AccessLogsBucket"

# Inside Messaging.
EVENT_BUS = "EventBus"
DEAD_LETTER_SUFFIX = "Dlq"

# Inside each function construct.
FUNCTION_RESOURCE = "Function"
FUNCTION_ROLE = "Role"
FUNCTION_LOG_GROUP = "LogGroup"

# Inside Api.
API_REST_API = "RestApi"
API_AUTHORIZER = "PeopleAuthorizer"
API_ACCESS_LOGS = "AccessLogs"
API_REQUEST_VALIDATOR = "RequestValidator"

# Inside Monitoring.
ALARM_TOPIC = "AlarmTopic"
DASHBOARD = "Dashboard"

# Stack outputs.
OUTPUT_TABLE_NAME = "TableName"
OUTPUT_API_URL = "ApiUrl"
OUTPUT_PEOPLE_API_URL = "PeopleApiUrl"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID = "UserPoolClientId"
OUTPUT_EVENT_BUS_NAME = "EventBusName"
OUTPUT_ALARM_TOPIC_ARN = "AlarmTopicArn"


def pascal(logical_name: str) -> str:
    """Construct ids from topology names: ``inbound-files`` → ``InboundFiles``, ``plan_daily_run`` →
    ``PlanDailyRun``."""
    return "".join(part.capitalize() for part in logical_name.replace("_", "-").split("-") if part)


def bucket(name: str) -> str:
    return f"{pascal(name)}Bucket"


def queue(name: str) -> str:
    return f"{pascal(name)}Queue"


def dead_letter_queue(name: str) -> str:
    return f"{pascal(name)}{DEAD_LETTER_SUFFIX}"


def function(name: str) -> str:
    return pascal(name)


def schedule(name: str) -> str:
    return f"{pascal(name)}Schedule"


def bus_rule(name: str) -> str:
    return f"{pascal(name)}Rule"


def output_bucket_name(name: str) -> str:
    return f"{pascal(name)}BucketName"
