"""transformers' own common model tests (`ModelTesterMixin`, `ConfigTester`), taken at test time from the source
distribution of the installed transformers, never copied into this repository.

`pip download --no-binary :all: transformers==<installed>` fetches the sdist (about 11 MB, once: it is kept in
`$HFNEWS_TEST_CACHE`, default `~/.cache/hfnews-tests`); its `tests/test_modeling_common.py` and
`tests/test_configuration_common.py` are extracted into a package of their own. Three modules they import are not
in the sdist and are stood in for here: the export and generation mixins (empty: these models neither generate nor
are exported through transformers' exporter; hfnews's ONNX export has its own tests) and `config_common_kwargs`, the
common configuration keywords `ConfigTester.check_config_arguments_init` sets and reads back.
"""

import importlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import transformers


COMMON_FILES = ("test_modeling_common.py", "test_configuration_common.py")
PACKAGE = "transformers_common_tests"
STUBS = {
    "exporters/__init__.py": "",
    "exporters/test_export.py": "class ExportTesterMixin:\n    pass\n",
    "generation/__init__.py": "",
    "generation/test_utils.py": "class GenerationTesterMixin:\n    pass\n",
    "utils/__init__.py": "",
    "utils/test_configuration_utils.py": (
        "config_common_kwargs = {'return_dict': False, 'output_hidden_states': True, 'output_attentions': True,\n"
        "    'dtype': 'float16', 'problem_type': 'single_label_classification', 'id2label': {0: 'a', 1: 'b'},\n"
        "    'label2id': {'a': 0, 'b': 1}, 'tie_word_embeddings': False, 'chunk_size_feed_forward': 5}\n"
    ),
}


def cache_dir() -> Path:
    return Path(os.environ.get("HFNEWS_TEST_CACHE") or Path.home() / ".cache" / "hfnews-tests")


def common_tests_package() -> Path:
    """The folder holding the package of transformers' common tests for the installed version, fetched once.

    Raises:
        subprocess.CalledProcessError: when pip cannot download the sdist (no package index reachable).
    """
    version = transformers.__version__
    root = cache_dir() / f"transformers-{version}"
    package = root / PACKAGE
    if all((package / name).is_file() for name in COMMON_FILES):
        return root
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"transformers=={version}", "-d", download],
            check=True, timeout=600,
        )  # fmt: skip
        (sdist,) = Path(download).glob("transformers-*.tar.gz")
        package.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as archive:
            for name in COMMON_FILES:
                member = archive.extractfile(f"transformers-{version}/tests/{name}")
                (package / name).write_bytes(member.read())
    (package / "__init__.py").write_text("")
    for name, text in STUBS.items():
        (package / name).parent.mkdir(exist_ok=True)
        (package / name).write_text(text)
    return root


def load_common_tests():
    """`(ModelTesterMixin, ConfigTester)` of the installed transformers' own tests."""
    root = str(common_tests_package())
    if root not in sys.path:
        sys.path.insert(0, root)
    modeling = importlib.import_module(f"{PACKAGE}.test_modeling_common")
    configuration = importlib.import_module(f"{PACKAGE}.test_configuration_common")
    return modeling.ModelTesterMixin, configuration.ConfigTester
