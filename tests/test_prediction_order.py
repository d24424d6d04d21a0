"""What a run writes agrees with what it measured (issue 19 §1): `test_predictions.jsonl`, the printed mistakes and
the card pair each prediction with its own title, whatever order the evaluation sampler gives the rows.

transformers 5 applies `train_sampling_strategy: group_by_length` to evaluation too, so `trainer.predict` returns
the test rows sorted by length; each record is checked here against an independent reading: the saved checkpoint
classifying the record's own text.
"""

import re
from collections import Counter

import numpy as np
import pytest
import torch
from model_helpers import save_tiny_bert
from training_helpers import assert_predictions_are_the_checkpoints, train_tiny, write_tiny_corpus
from transformers.trainer_utils import PredictionOutput

from hfnews.data.corpus import LABEL_NAMES, load_news_corpus
from hfnews.errors import HfnewsError
from hfnews.evaluation.error_analysis import (
    MISTAKES_PER_CLASS,
    check_predictions_file,
    prediction_records,
    write_predictions,
)
from hfnews.training.trainer import in_split_order


@pytest.mark.parametrize("architecture", ["rnn", "cnn", "bert"])
def test_group_by_length_predictions_pair_with_their_titles(architecture, tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("HFNEWS_CACHE", str(tmp_path / "cache"))
    source = write_tiny_corpus(tmp_path / "news.csv", copies=4)
    extra = ["--architecture", architecture, "--train_sampling_strategy", "group_by_length"]
    if architecture == "bert":
        extra += ["--model_name_or_path", str(save_tiny_bert(tmp_path / "bert", list(LABEL_NAMES)))]
    # Batches of 4 test rows: grouping by length then reorders the 13 test rows across batches.
    _, printed = train_tiny(source, tmp_path / "out", *extra, "--per_device_eval_batch_size", "4")
    test = load_news_corpus(source).dataset["test"]
    records = assert_predictions_are_the_checkpoints(tmp_path / "out", test["text"][:])
    # The printed mistakes name predictions of their own titles.
    wrong = {record["text"]: record["predicted"] for record in records if record["predicted"] != record["gold"]}
    for line in printed.splitlines():
        if line.strip().startswith("p=") and " predicted " in line:
            predicted, text = line.split(" predicted ", 1)[1].split(": ", 1)
            assert wrong[text] == predicted
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    in_card = re.findall(r"^\s*- predicted `([^`]+)` \(p=[0-9.]+\): (.*)$", card, flags=re.MULTILINE)
    per_class = Counter(record["gold"] for record in records if record["predicted"] != record["gold"])
    assert len(in_card) == sum(min(MISTAKES_PER_CLASS, count) for count in per_class.values())
    for predicted, text in in_card:
        assert wrong[text] == predicted


def shuffled_prediction(logits: np.ndarray, labels: np.ndarray, order: list[int]) -> PredictionOutput:
    return PredictionOutput((logits[order], np.asarray(order)), labels[order], {})


def test_in_split_order_puts_rows_back_and_refuses_a_wrong_cover():
    logits = np.arange(12, dtype=np.float32).reshape(6, 2)
    labels = np.array([0, 1, 1, 0, 1, 0])
    ordered, label_ids = in_split_order(shuffled_prediction(logits, labels, [3, 0, 5, 1, 4, 2]), labels, "test")
    np.testing.assert_array_equal(ordered, logits)
    np.testing.assert_array_equal(label_ids, labels)
    with pytest.raises(HfnewsError, match="cover 5 distinct rows of 6, 6 in all"):
        in_split_order(shuffled_prediction(logits, labels, [3, 0, 5, 1, 4, 4]), labels, "test")
    swapped = labels.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    with pytest.raises(HfnewsError, match="labels differ from the split's own"):
        in_split_order(shuffled_prediction(logits, labels, [0, 1, 2, 3, 4, 5]), swapped, "test")


def test_a_predictions_file_that_disagrees_with_the_metrics_is_removed_with_one_error(tmp_path, tiny_csv):
    test = load_news_corpus(tiny_csv).dataset["test"]
    logits = torch.randn(len(test), len(LABEL_NAMES)).numpy()
    records = prediction_records(test["text"][:], test["label"][:], logits, LABEL_NAMES)
    write_predictions(tmp_path, records)
    accuracy = np.mean([record["predicted"] == record["gold"] for record in records])
    check_predictions_file(tmp_path, test, float(accuracy))  # agrees: kept
    assert (tmp_path / "test_predictions.jsonl").is_file()
    with pytest.raises(HfnewsError, match="predictions score .* where the metrics say .*; it was removed"):
        check_predictions_file(tmp_path, test, float(accuracy) + 1 / len(test))
    assert not (tmp_path / "test_predictions.jsonl").exists()
    # Records paired with other titles (the bug of group_by_length) are caught before any score is compared.
    write_predictions(tmp_path, records[1:] + records[:1])
    with pytest.raises(HfnewsError, match="texts or gold labels are not the split's"):
        check_predictions_file(tmp_path, test, float(accuracy))
