"""Where the local stack finds the repository's handlers and the DynamoDB Local jar, and where it writes logs.

The package is installed editable from the repository (``pip install -e .``), so the repository root is found
from this file's location; ``RECEIVABLES_REPO_ROOT`` overrides it for unusual layouts.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    override = os.environ.get("RECEIVABLES_REPO_ROOT")
    if override:
        return Path(override).resolve()
    # infra/receivables_local/paths.py -> the repository root is two levels above the package.
    return Path(__file__).resolve().parents[2]


def functions_dir() -> Path:
    return repo_root() / "functions"


def local_dir() -> Path:
    """Scratch space of the local stack (git-ignored)."""
    return repo_root() / ".local"


def logs_dir() -> Path:
    path = local_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path
