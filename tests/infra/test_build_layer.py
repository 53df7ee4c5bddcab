"""The Docker-free layer build: what it asks pip for, what lands in the layer, when it reinstalls.

pip itself is replaced by a fake that writes a few packages, so these tests neither download nor take long.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load_build_layer() -> ModuleType:
    # layers/ is a folder of scripts, not a package; load the module from its file like infra/app.py does.
    spec = importlib.util.spec_from_file_location("build_layer", REPO_ROOT / "layers" / "build_layer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_layer_module = _load_build_layer()


class FakePip:
    """Records pip commands and installs a tiny, plausible site-packages into --target."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> None:
        self.commands.append(list(command))
        target = Path(command[command.index("--target") + 1])
        for package in ("pydantic", "botocore", "boto3"):
            (target / package).mkdir(parents=True)
            (target / package / "__init__.py").write_text("")
        (target / "botocore-1.0.dist-info").mkdir()
        (target / "bin").mkdir()
        (target / "bin" / "some-script").write_text("#!/build/host/python\n")


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["pydantic==2.14.3", "babel==2.18.0"]\n')
    package = tmp_path / "src" / "receivables"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "topology.py").write_text("TOPOLOGY = None\n")
    (package / "__pycache__" / "topology.cpython-313.pyc").write_bytes(b"")
    return {
        "pyproject": pyproject,
        "package_source": package,
        "layer_dir": tmp_path / "build" / "layer",
        "stamp_file": tmp_path / "build" / "layer.stamp",
    }


def test_runtime_dependencies_come_from_pyproject() -> None:
    dependencies = build_layer_module.runtime_dependencies()
    assert any(d.startswith("aws-lambda-powertools") for d in dependencies)
    assert not any(d.startswith(("aws-cdk-lib", "pytest", "moto")) for d in dependencies)


def test_pip_is_asked_for_lambda_wheels_only(tmp_path: Path) -> None:
    command = build_layer_module.pip_install_command(["pydantic==2.14.3"], tmp_path)
    joined = " ".join(command)
    assert "--platform manylinux2014_x86_64" in joined
    assert "--python-version 3.13" in joined
    assert "--implementation cp" in joined
    assert "--only-binary=:all:" in command
    assert command[-1] == "pydantic==2.14.3"


def test_builds_the_layer_layout(project: dict[str, Path]) -> None:
    pip = FakePip()
    layer = build_layer_module.build_layer(**project, run=pip)
    site = layer / "python"
    assert layer == project["layer_dir"]
    assert (site / "pydantic" / "__init__.py").is_file()
    assert (site / "receivables" / "topology.py").is_file()
    assert not (site / "receivables" / "__pycache__").exists()
    # The runtime's own boto3/botocore stay authoritative; host-specific scripts are dropped.
    assert not (site / "botocore").exists() and not (site / "boto3").exists()
    assert not list(site.glob("botocore-*.dist-info"))
    assert not (site / "bin").exists()
    assert project["stamp_file"].is_file()
    assert not project["stamp_file"].is_relative_to(layer)  # the stamp must not end up inside the layer zip


def test_unchanged_dependencies_are_not_reinstalled(project: dict[str, Path]) -> None:
    pip = FakePip()
    build_layer_module.build_layer(**project, run=pip)
    (project["package_source"] / "new_module.py").write_text("X = 1\n")
    layer = build_layer_module.build_layer(**project, run=pip)
    assert len(pip.commands) == 1
    assert (layer / "python" / "receivables" / "new_module.py").is_file()  # the package is always refreshed


def test_changed_dependencies_or_force_reinstall(project: dict[str, Path]) -> None:
    pip = FakePip()
    build_layer_module.build_layer(**project, run=pip)
    build_layer_module.build_layer(**project, run=pip, force=True)
    project["pyproject"].write_text('[project]\nname = "x"\ndependencies = ["pydantic==2.14.4"]\n')
    build_layer_module.build_layer(**project, run=pip)
    assert len(pip.commands) == 3
    assert pip.commands[-1][-1] == "pydantic==2.14.4"


def test_a_failed_install_leaves_no_stamp(project: dict[str, Path]) -> None:
    def failing_pip(command: Sequence[str]) -> None:
        raise build_layer_module.LayerBuildError("no wheel for that platform")

    with pytest.raises(build_layer_module.LayerBuildError):
        build_layer_module.build_layer(**project, run=failing_pip)
    assert not project["stamp_file"].exists()
    assert not (project["layer_dir"] / "python").exists()


def test_the_analytics_layer_holds_its_own_extra_and_no_package(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["pydantic==2.14.3"]\n'
        '[project.optional-dependencies]\nanalytics = ["pyarrow==26.0.1"]\n'
    )
    pip = FakePip()
    layer_dir, stamp = tmp_path / "build" / "layer-analytics", tmp_path / "build" / "layer-analytics.stamp"

    layer = build_layer_module.build_analytics_layer(
        pyproject=pyproject, layer_dir=layer_dir, stamp_file=stamp, run=pip
    )
    build_layer_module.build_analytics_layer(pyproject=pyproject, layer_dir=layer_dir, stamp_file=stamp, run=pip)

    assert layer == layer_dir and (layer / "python" / "pydantic").is_dir()  # what the fake pip installed
    assert not (layer / "python" / "receivables").exists()
    assert [c[-1] for c in pip.commands] == ["pyarrow==26.0.1"]  # once: the stamp matched the second time
    assert build_layer_module.analytics_dependencies() == ["pyarrow==26.0.1"]
    pyproject.write_text('[project]\nname = "x"\ndependencies = []\n')
    with pytest.raises(build_layer_module.LayerBuildError, match="analytics"):
        build_layer_module.build_analytics_layer(pyproject=pyproject, layer_dir=layer_dir, stamp_file=stamp, run=pip)
