"""Build the shared Lambda layer without Docker.

The layer holds the runtime dependencies from ``pyproject.toml`` ``[project].dependencies`` plus the
``receivables`` package, laid out as Lambda expects (``python/`` at the root of the asset, mounted at
``/opt/python``).

Instead of building inside a Lambda-like container, pip is asked for prebuilt wheels matching the Lambda
runtime (``manylinux2014_x86_64``, CPython 3.13, binary only). That works on any host and needs no Docker; the
price is that a dependency without a compatible wheel fails the build loudly instead of compiling from source.

Installing the dependencies is the slow part, so it is skipped while a stamp (hash of the dependency list and
the target platform) matches; the ``receivables`` package is recopied on every build because it changes all
the time.

Usable as a script (``python layers/build_layer.py [--force]``) and as a function (:func:`build_layer`), which
the CDK app calls before synthesizing so that ``cdk synth`` works on a fresh clone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_SOURCE = REPO_ROOT / "layers" / "receivables" / "receivables"
LAYER_DIR = REPO_ROOT / "build" / "layer"
# Outside the asset directory on purpose: anything inside LAYER_DIR would be zipped into the layer.
STAMP_FILE = REPO_ROOT / "build" / "layer.stamp"

# Must agree with the function construct in infra/receivables_infra (runtime python3.13, architecture x86_64).
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.13"
IMPLEMENTATION = "cp"

# The Lambda runtime ships boto3/botocore/s3transfer as a matched set. If a dependency (aws-xray-sdk needs
# botocore) drags a copy of one of them into the layer, that copy shadows the runtime's (/opt/python comes
# first on sys.path) and can mismatch the runtime's boto3; drop them so the runtime's set is used.
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")

_COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")

Runner = Callable[[Sequence[str]], None]


class LayerBuildError(RuntimeError):
    """The layer could not be built; the message says why and what to do."""


def runtime_dependencies(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """The requirement strings of ``[project].dependencies``: exactly what the functions import at runtime."""
    with pyproject.open("rb") as fh:
        project = tomllib.load(fh).get("project", {})
    dependencies = project.get("dependencies")
    if not dependencies:
        raise LayerBuildError(f"{pyproject} has no [project].dependencies to put into the layer")
    return list(dependencies)


ANALYTICS_DIR = REPO_ROOT / "build" / "layer-analytics"
ANALYTICS_STAMP = REPO_ROOT / "build" / "layer-analytics.stamp"


def analytics_dependencies(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """``[project.optional-dependencies].analytics``: what the analytics layer holds (pyarrow), nothing else."""
    with pyproject.open("rb") as fh:
        extras = tomllib.load(fh).get("project", {}).get("optional-dependencies", {})
    dependencies = extras.get("analytics")
    if not dependencies:
        raise LayerBuildError(f"{pyproject} has no [project.optional-dependencies].analytics for the analytics layer")
    return list(dependencies)


def dependencies_fingerprint(dependencies: Sequence[str]) -> str:
    """Changes whenever the installed set would: the requirements or the platform they were resolved for."""
    payload = {
        "dependencies": sorted(dependencies),
        "platform": PLATFORM,
        "python": PYTHON_VERSION,
        "implementation": IMPLEMENTATION,
        "dropped": PROVIDED_BY_RUNTIME,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def pip_install_command(dependencies: Sequence[str], target: Path) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # bytecode would be compiled by the build host's interpreter; Lambda compiles its own
        "--no-warn-conflicts",  # pip would check this interpreter's environment, which is not the layer
        "--platform", PLATFORM,
        "--implementation", IMPLEMENTATION,
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
        "--target", str(target),
        *dependencies,
    ]  # fmt: skip


def _run(command: Sequence[str]) -> None:
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise LayerBuildError(
            f"pip could not install the layer dependencies for {PLATFORM} / CPython {PYTHON_VERSION} "
            f"(exit {result.returncode}). Every runtime dependency needs a binary wheel for that platform."
        )


def _drop_runtime_provided(site: Path) -> None:
    # bin/ holds console scripts whose shebang points at this build host's interpreter: useless in Lambda.
    shutil.rmtree(site / "bin", ignore_errors=True)
    for name in PROVIDED_BY_RUNTIME:
        for path in (site / name, *site.glob(f"{name}-*.dist-info")):
            if path.is_dir():
                shutil.rmtree(path)


def _install_dependencies(dependencies: Sequence[str], site: Path, run: Runner) -> None:
    # Install next to the final location and swap it in, so an interrupted build never leaves a half-filled
    # directory behind that a later run would trust.
    staging = site.with_name(site.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    run(pip_install_command(dependencies, staging))
    _drop_runtime_provided(staging)
    shutil.rmtree(site, ignore_errors=True)
    staging.rename(site)


def _copy_package(source: Path, site: Path) -> None:
    if not (source / "__init__.py").is_file():
        raise LayerBuildError(f"the receivables package is missing at {source}")
    destination = site / source.name
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination, ignore=_COPY_IGNORE)


def _install_if_changed(dependencies: Sequence[str], site: Path, stamp_file: Path, *, force: bool, run: Runner) -> None:
    """Install ``dependencies`` into ``site`` unless the stamp says exactly these are there already."""
    fingerprint = dependencies_fingerprint(dependencies)
    stamp_matches = stamp_file.is_file() and stamp_file.read_text().strip() == fingerprint
    if force or not stamp_matches or not site.is_dir():
        stamp_file.unlink(missing_ok=True)
        _install_dependencies(dependencies, site, run)
        stamp_file.parent.mkdir(parents=True, exist_ok=True)
        stamp_file.write_text(fingerprint + "\n")


def build_layer(
    *,
    pyproject: Path = REPO_ROOT / "pyproject.toml",
    package_source: Path = PACKAGE_SOURCE,
    layer_dir: Path = LAYER_DIR,
    stamp_file: Path = STAMP_FILE,
    force: bool = False,
    run: Runner = _run,
) -> Path:
    """Build (or refresh) the layer and return its asset directory, the one that contains ``python/``."""
    site = layer_dir / "python"
    _install_if_changed(runtime_dependencies(pyproject), site, stamp_file, force=force, run=run)
    _copy_package(package_source, site)
    return layer_dir


def build_analytics_layer(
    *,
    pyproject: Path = REPO_ROOT / "pyproject.toml",
    layer_dir: Path = ANALYTICS_DIR,
    stamp_file: Path = ANALYTICS_STAMP,
    force: bool = False,
    run: Runner = _run,
) -> Path:
    """The analytics layer (pyarrow alone, no ``receivables`` package): built like the shared one, its own stamp."""
    _install_if_changed(analytics_dependencies(pyproject), layer_dir / "python", stamp_file, force=force, run=run)
    return layer_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="reinstall the dependencies even if the stamp matches")
    parser.add_argument("--analytics", action="store_true", help="build the analytics layer (pyarrow) instead")
    args = parser.parse_args(argv)
    try:
        layer = build_analytics_layer(force=args.force) if args.analytics else build_layer(force=args.force)
    except LayerBuildError as error:
        print(f"layer build failed: {error}", file=sys.stderr)
        return 1
    print(layer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
