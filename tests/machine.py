"""The machine a benchmark or chaos run was measured on, as the results tables name it."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
