"""One embedded stack (moto server + DynamoDB Local) per test session; each test gets it reset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from receivables.topology import TOPOLOGY
from receivables_local.embedded import EmbeddedStack
from receivables_local.handlers import HandlerRegistry
from receivables_local.paths import functions_dir
from receivables_local.session import LocalSession

BUSINESS_DATE = date(2026, 11, 24)

# Tests that run the real handlers; the runtime mechanics tests use doubles and run regardless.
requires_handlers = pytest.mark.skipif(
    not all((functions_dir() / f.name / "handler.py").is_file() for f in TOPOLOGY.functions),
    reason="functions/<name>/handler.py missing for some function of the topology",
)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(log_dir=tmp_path_factory.mktemp("local-logs")) as embedded:
        yield embedded


@pytest.fixture
def registry() -> HandlerRegistry:
    """The real handlers from functions/, loaded on first use; tests may override entries with doubles."""
    return HandlerRegistry()


@pytest.fixture
def session(stack: EmbeddedStack, registry: HandlerRegistry) -> Iterator[LocalSession]:
    stack.reset()
    with LocalSession(stack, BUSINESS_DATE, registry=registry) as local:
        yield local
        # A call outside a function's grants works on moto and DynamoDB Local but is AccessDenied in AWS.
        assert not local.refused, "handlers called AWS outside their grants:\n" + "\n".join(map(str, local.refused))
