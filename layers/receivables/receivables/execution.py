"""Which function's execution environment the code runs in.

In Lambda that is the whole process: one function, its variables in ``os.environ``, and nothing here is ever set.
The local runtime and the integration tests run every function of the topology in one process; they invoke each
handler inside :func:`running_as`, so that settings read only that function's variables and composition roots are
built and cached per function (``bootstrap.per_function``): function B never reuses what was built under function A's
environment. A context variable rather than swapping ``os.environ``: the local HTTP server invokes different
functions from different threads at the same time.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# Called with (service, client) for each boto3 client a composition root builds; the local stack uses it to check
# every call against the function's grants.
ClientHook = Callable[[str, Any], None]


@dataclass(frozen=True)
class ExecutionEnvironment:
    function: str  # the topology's name of the function
    variables: Mapping[str, str]  # everything the function would find in os.environ in Lambda
    prepare_client: ClientHook | None = None


_CURRENT: ContextVar[ExecutionEnvironment | None] = ContextVar("receivables_execution_environment", default=None)


def current() -> ExecutionEnvironment | None:
    """The function being invoked in this process, or None in Lambda (where the process is the function)."""
    return _CURRENT.get()


def variables() -> Mapping[str, str]:
    """The invoked function's environment: its own variables when one is set, ``os.environ`` otherwise."""
    environment = _CURRENT.get()
    return os.environ if environment is None else environment.variables


@contextlib.contextmanager
def running_as(environment: ExecutionEnvironment) -> Iterator[None]:
    """Run the block (an invocation, a handler's import) as ``environment.function`` with only its variables."""
    token = _CURRENT.set(environment)
    try:
        yield
    finally:
        _CURRENT.reset(token)
