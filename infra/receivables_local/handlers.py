"""Loading each function's ``functions/<name>/handler.py`` as Lambda would: once, on first use.

Modules are loaded by file path under the synthetic package ``receivables_local_functions.<name>`` so that two
functions' ``handler`` modules never collide in ``sys.modules`` and relative imports inside a function folder
work.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from receivables_local.paths import functions_dir

Handler = Callable[[Any, Any], Any]

_ROOT_PACKAGE = "receivables_local_functions"


class HandlerNotFoundError(LookupError):
    pass


def _package(name: str, path: list[str]) -> types.ModuleType:
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name)
        module.__path__ = path
        sys.modules[name] = module
    return module


def load_handler(function_name: str, root: Path | None = None) -> Handler:
    folder = (root or functions_dir()) / function_name
    source = folder / "handler.py"
    if not source.is_file():
        raise HandlerNotFoundError(f"{source} does not exist (function {function_name!r} of the topology)")
    _package(_ROOT_PACKAGE, [])
    package = f"{_ROOT_PACKAGE}.{function_name}"
    _package(package, [str(folder)])
    module_name = f"{package}.handler"
    spec = importlib.util.spec_from_file_location(module_name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    handler = getattr(module, "lambda_handler", None)
    if not callable(handler):
        raise HandlerNotFoundError(f"{source} defines no callable lambda_handler")
    return handler


class HandlerRegistry:
    """Function name → handler, loaded lazily. Tests replace entries with :meth:`override`."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._handlers: dict[str, Handler] = {}
        self._overridden: set[str] = set()
        self._lock = threading.Lock()

    def get(self, function_name: str) -> Handler:
        with self._lock:
            if function_name not in self._handlers:
                self._handlers[function_name] = load_handler(function_name, self._root)
            return self._handlers[function_name]

    def override(self, function_name: str, handler: Handler) -> None:
        with self._lock:
            self._handlers[function_name] = handler
            self._overridden.add(function_name)

    def cold_start(self) -> None:
        """Forget the loaded modules, so the next invocation imports them afresh: module-level state (settings
        read at import, clients) is rebuilt, as in a new Lambda execution environment. Overrides stay."""
        with self._lock:
            for name in list(self._handlers):
                if name not in self._overridden:
                    del self._handlers[name]
