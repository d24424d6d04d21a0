"""`import hfnews` stays cheap (no torch, no transformers) yet registers the models once transformers loads."""

import subprocess
import sys
from pathlib import Path

import pytest
from model_helpers import HEADLINES


ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers")
# Resolves the model type, builds the model and checks that save_pretrained would write auto_map.
USE_AUTO_CLASSES = """
from transformers import AutoConfig, AutoModelForSequenceClassification
config = AutoConfig.for_model("hfnews-cnn", vocab_size=12, embedding_dim=4)
model = AutoModelForSequenceClassification.from_config(config)
assert type(model).__name__ == "NewsCNNForSequenceClassification", type(model)
assert type(model)._auto_class == "AutoModelForSequenceClassification"
"""


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    """A fresh interpreter with this checkout first on the path."""
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{code}", *args],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("statement", ["import hfnews", "import hfnews.models", "import hfnews.errors"])
def test_import_loads_no_model_code(statement):
    done = run_python(f"{statement}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_public_names_still_listed():
    done = run_python("import hfnews\nprint(sorted(hfnews.__all__)); print('NewsCNNConfig' in dir(hfnews))")
    assert done.returncode == 0, done.stderr
    assert "'NewsCNNForSequenceClassification'" in done.stdout and done.stdout.strip().endswith("True")


@pytest.mark.slow
@pytest.mark.parametrize(
    "before",
    [
        "import hfnews",  # hfnews first: registration waits for transformers
        "import transformers\nfrom transformers import AutoModelForSequenceClassification\nimport hfnews",
        "from transformers import pipeline\nimport hfnews",
        "import hfnews\nfrom transformers import PreTrainedModel, Trainer",  # Auto modules loaded mid-import
        "from hfnews.models import NewsCNNConfig",
    ],
)
def test_auto_classes_resolve_in_any_import_order(before):
    done = run_python(before + "\n" + USE_AUTO_CLASSES)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_pipeline_finds_saved_cnn_after_import_hfnews(tmp_path):
    from model_helpers import headline_tokenizer, tiny_model

    tokenizer = headline_tokenizer()
    tiny_model("cnn", vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "modeling_news_cnn.py").unlink()  # so only the registration can resolve hfnews-cnn
    code = (
        "import hfnews\nfrom transformers import pipeline\n"
        "classifier = pipeline('text-classification', model=sys.argv[1])\n"
        "print(type(classifier.model).__module__, classifier(sys.argv[2])[0]['label'])"
    )
    done = run_python(code, str(tmp_path), HEADLINES[0])
    assert done.returncode == 0, done.stderr
    module, label = done.stdout.split()
    assert module == "hfnews.models.modeling_news_cnn"
    assert label in {"business", "science_and_technology", "entertainment", "health"}


@pytest.mark.slow
def test_predict_script_imports_no_data_or_training_code(tmp_path):
    from model_helpers import headline_tokenizer, tiny_model

    tokenizer = headline_tokenizer()
    tiny_model("cnn", vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    code = (
        "import runpy\nsys.argv = ['predict.py', '--model', sys.argv[1], '--texts', sys.argv[2]]\n"
        f"runpy.run_path({str(ROOT / 'scripts' / 'predict.py')!r}, run_name='__main__')\n"
        "print(sorted(m for m in ('datasets', 'transformers.trainer', 'evaluate') if m in sys.modules))"
    )
    done = run_python(code, str(tmp_path), HEADLINES[0])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
