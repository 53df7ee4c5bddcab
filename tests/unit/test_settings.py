import pytest
from pydantic import ValidationError
from receivables.settings import PlannerSettings
from receivables.topology import TOPOLOGY, env_var, function_environment

NAMES = {
    env_var("table", "ledger"): "t",
    env_var("bucket", "inbound"): "b",
    env_var("bus", "receivables"): "e",
    env_var("queue", "file-chunks"): "https://sqs/q",
}


def test_settings_come_from_the_variables_the_topology_names():
    settings = PlannerSettings.from_environment({**NAMES, "BUSINESS_DATE": "2026-11-24"})
    assert (settings.table_name, settings.inbound_bucket, settings.file_chunks_queue_url) == ("t", "b", "https://sqs/q")
    assert settings.business_date.isoformat() == "2026-11-24" and settings.rows_per_chunk == 5000


def test_a_missing_variable_fails_at_cold_start_naming_it():
    with pytest.raises(ValidationError, match="QUEUE_FILE_CHUNKS_URL"):
        PlannerSettings.from_environment({k: v for k, v in NAMES.items() if "QUEUE" not in k})


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValidationError, match=r"business_timezone|BUSINESS_TIMEZONE"):
        PlannerSettings.from_environment({**NAMES, "BUSINESS_TIMEZONE": "Mars/Olympus"})


def test_each_function_gets_exactly_what_it_is_granted():
    env = function_environment(TOPOLOGY, TOPOLOGY.function("api"), lambda kind, name: f"{kind}:{name}")
    assert env_var("table", "ledger") in env
    # The read API reads the daybook (outbound) and the BI export (analytics): no other bucket, no queue or bus.
    assert sorted(key for key in env if key.startswith(("BUCKET_", "QUEUE_", "BUS_"))) == sorted(
        [env_var("bucket", "outbound"), env_var("bucket", "analytics")]
    )
    planner = function_environment(TOPOLOGY, TOPOLOGY.function("plan_inbound_file"), lambda k, n: f"{k}:{n}")
    assert planner[env_var("queue", "file-chunks")] == "queue:file-chunks"
