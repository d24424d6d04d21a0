import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from model_helpers import BLOCK_HFNEWS, HEADLINES, headline_tokenizer, padded_batch, randomize_biases, tiny_model
from transformers import AutoConfig, AutoModelForSequenceClassification, pipeline

from hfnews.data.corpus import LABEL_NAMES
from hfnews.models import (
    NewsCNNConfig,
    NewsCNNForSequenceClassification,
    NewsRNNConfig,
    NewsRNNForSequenceClassification,
)


KINDS = ["rnn", "cnn"]
# The same weights at other memory addresses may take another vectorised BLAS path that sums in another order, so
# two forwards through equal weights can differ in the last bits (1.19e-7, one float32 eps, seen on another machine).
# Sums over these tiny layers (under 64 terms) stay within a few eps of each other: 8 eps, relative and absolute.
FLOAT32_EPS = torch.finfo(torch.float32).eps
REORDERED_FLOAT32 = {"rtol": 8 * FLOAT32_EPS, "atol": 8 * FLOAT32_EPS}

# Runs where hfnews cannot be imported, as on a machine that only has the saved folder.
REMOTE_CODE_CHILD = (
    BLOCK_HFNEWS
    + """
from transformers import pipeline

classifier = pipeline("text-classification", model=sys.argv[1], trust_remote_code=True)
headlines = json.loads(sys.argv[2])
print(json.dumps({"module": type(classifier.model).__module__, "predictions": classifier(headlines, top_k=None)}))
"""
)


def saved_checkpoint(kind: str, folder: Path, **config_kwargs) -> torch.nn.Module:
    """Save a model with random (non-initial) weights plus its tokenizer to `folder`, the way training does."""
    tokenizer = headline_tokenizer()
    model = tiny_model(kind, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **config_kwargs)
    with torch.no_grad():
        model.get_input_embeddings().weight.normal_()  # a loaded weight must survive, even in the padding row
    randomize_biases(model)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model


def scores_by_label(predictions: list[list[dict]]) -> list[dict[str, float]]:
    return [{item["label"]: item["score"] for item in prediction} for prediction in predictions]


@pytest.mark.parametrize(
    ("model_type", "config_class", "model_class"),
    [
        ("hfnews-rnn", NewsRNNConfig, NewsRNNForSequenceClassification),
        ("hfnews-cnn", NewsCNNConfig, NewsCNNForSequenceClassification),
    ],
)
def test_auto_classes_know_the_model_types(model_type, config_class, model_class):
    config = AutoConfig.for_model(model_type, vocab_size=12, embedding_dim=4)
    assert type(config) is config_class
    assert type(AutoModelForSequenceClassification.from_config(config)) is model_class


@pytest.mark.parametrize(
    ("kind", "config_kwargs"),
    [
        ("rnn", {}),
        ("rnn", {"cell": "lstm", "num_layers": 2, "bidirectional": True}),
        ("rnn", {"cell": "gru"}),
        ("cnn", {"kernel_sizes": [3, 5]}),
    ],
)
def test_save_and_load_round_trip_keeps_every_parameter(kind, config_kwargs, tmp_path):
    model = saved_checkpoint(kind, tmp_path, **config_kwargs)
    assert {"config.json", "model.safetensors", f"configuration_news_{kind}.py", f"modeling_news_{kind}.py"} <= {
        path.name for path in tmp_path.iterdir()
    }
    auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
    assert auto_map["AutoModelForSequenceClassification"] == f"modeling_news_{kind}.{type(model).__name__}"

    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path)
    assert type(loaded) is type(model)
    assert loaded.config.id2label == dict(enumerate(LABEL_NAMES))
    expected = model.state_dict()
    assert loaded.state_dict().keys() == expected.keys()
    for name, param in loaded.state_dict().items():
        assert torch.equal(param, expected[name]), name
    input_ids, attention_mask = padded_batch([3, 8, 1])
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(input_ids, attention_mask=attention_mask).logits,
            model(input_ids, attention_mask=attention_mask).logits,
            **REORDERED_FLOAT32,
        )


@pytest.mark.parametrize("kind", KINDS)
def test_new_models_have_a_zero_padding_row(kind):
    model = tiny_model(kind)
    pad_row = model.get_input_embeddings().weight[model.config.pad_token_id]
    assert pad_row.count_nonzero() == 0
    assert model.get_input_embeddings().weight.count_nonzero() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_frozen_embeddings_stay_frozen_after_loading(kind, tmp_path):
    saved_checkpoint(kind, tmp_path, freeze_embeddings=True)
    for model in (
        tiny_model(kind, freeze_embeddings=True),
        AutoModelForSequenceClassification.from_pretrained(tmp_path),
        AutoModelForSequenceClassification.from_pretrained(tmp_path, output_loading_info=True)[0],
    ):
        assert not model.get_input_embeddings().weight.requires_grad
        assert all(param.requires_grad for name, param in model.named_parameters() if "embedding" not in name)
    assert tiny_model(kind).get_input_embeddings().weight.requires_grad


@pytest.mark.parametrize("kind", KINDS)
def test_pipeline_returns_readable_labels_and_probabilities(kind, tmp_path):
    saved_checkpoint(kind, tmp_path)
    classifier = pipeline("text-classification", model=str(tmp_path))
    assert classifier(HEADLINES[0])[0]["label"] in LABEL_NAMES
    for scores in scores_by_label(classifier(HEADLINES, top_k=None)):
        assert set(scores) == set(LABEL_NAMES)
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_saved_folder_loads_with_remote_code_where_hfnews_is_missing(kind, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    saved_checkpoint(kind, checkpoint)
    headlines = [*HEADLINES, "a title made of words it never saw", ""]
    expected = scores_by_label(pipeline("text-classification", model=str(checkpoint))(headlines, top_k=None))

    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    child = subprocess.run(
        [sys.executable, "-c", REMOTE_CODE_CHILD, str(checkpoint), json.dumps(headlines)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["module"].startswith("transformers_modules.")
    for got, want in zip(scores_by_label(result["predictions"]), expected, strict=True):
        assert got.keys() == want.keys()
        assert all(got[label] == pytest.approx(want[label], abs=1e-6) for label in want)
