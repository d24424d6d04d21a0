"""The package works when installed from its wheel, away from the checkout: the named configs are package data."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from hfnews.training.arguments import parse_train_args


REPO = Path(__file__).resolve().parents[1]
# Parses `--model cnn` where only the installed wheel provides hfnews, and says where everything came from.
PARSE_CHILD = """
import json
import hfnews
from hfnews.training.arguments import CONFIG_DIR, parse_train_args
from hfnews.tuning.arguments import SEARCH_DIR

_, model_args, data_args, training_args = parse_train_args(["--model", "cnn", "--output_dir", "out"])
print(json.dumps({
    "package": hfnews.__file__,
    "config_dir": str(CONFIG_DIR),
    "search_dir": str(SEARCH_DIR),
    "model_args": vars(model_args),
    "learning_rate": training_args.learning_rate,
}))
"""


def package_files(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_wheel_installed_elsewhere_parses_model_cnn_from_its_own_configs(tmp_path):
    # Build from a copy, so the checkout gets no build/ or egg-info, and offline: setuptools is already installed.
    source = tmp_path / "source"
    source.mkdir()
    shutil.copytree(REPO / "hfnews", source / "hfnews", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(tmp_path / "wheel")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheel").glob("hfnews-*.whl")
    target = tmp_path / "site"
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    # Every file of the package ships: modules, the remote-code files, configs/, configs/search/, accelerate configs.
    assert package_files(REPO / "hfnews") <= package_files(target / "hfnews")

    # Outside the checkout, hfnews only from the target; its dependencies from this interpreter's site-packages.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])}
    child = subprocess.run(
        [sys.executable, "-c", PARSE_CHILD], cwd=elsewhere, env=env, capture_output=True, text=True, check=False
    )
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert Path(result["package"]).is_relative_to(target)
    assert Path(result["config_dir"]) == target / "hfnews" / "configs"
    assert Path(result["search_dir"], "cnn.yaml").is_file()
    _, model_args, _, training_args = parse_train_args(["--model", "cnn", "--output_dir", "out"])
    assert result["model_args"] == json.loads(json.dumps(vars(model_args)))  # the same configs/cnn.yaml
    assert result["model_args"]["architecture"] == "cnn"
    assert result["learning_rate"] == training_args.learning_rate


def test_no_module_reaches_outside_the_package():
    """An installed package has no checkout around it: no path climbs out of hfnews/ (`parents[1]`, `..`), no module
    runs a script of scripts/."""
    for path in sorted((REPO / "hfnews").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for outside in ("parents[", ".parent.parent", '"scripts"', "subprocess"):
            assert outside not in text, f"{path.relative_to(REPO)} holds {outside!r}"
