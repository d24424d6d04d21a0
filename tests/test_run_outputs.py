"""What a run writes besides the checkpoint: `metrics.json` from the typed report (keys pinned), the test predictions,
the most confident mistakes, and a `huggingface_hub` model card that loads back with its results and no local path."""

import hashlib
import json
import os
import re
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import pytest
from huggingface_hub import ModelCard
from training_helpers import train_tiny, write_tiny_corpus

from hfnews.data.corpus import LABEL_NAMES, load_news_corpus
from hfnews.evaluation.error_analysis import confident_mistakes
from hfnews.training.model_card import DataSource, NewsCardData, render_model_card
from hfnews.training.report import TrainingReport


# The keys of metrics.json before the report became a dataclass (users' scripts read them): add, never rename or drop.
METRICS_KEYS = ["architecture", "label_names", "history", "test", "confusion_matrix", "best_checkpoint",
                "train_runtime", "data", "model", "training", "vectors_coverage",
                "distillation"]  # fmt: skip  # added with knowledge distillation
DATA_KEYS = {"source", "split_seed", "group_by", "train", "validation", "test"}
TEST_ROWS = 10  # 96 rows split 80/10/10


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two epochs of the tiny CNN on the hand-written headlines, in-process."""
    root = tmp_path_factory.mktemp("tiny-run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HFNEWS_CACHE", str(root / "cache"))
        source = write_tiny_corpus(root / "news.csv")
        report, printed = train_tiny(source, root / "out", "--num_train_epochs", "2")
        test_rows = load_news_corpus(source).dataset["test"]
    output_dir = root / "out"
    records = [json.loads(line) for line in (output_dir / "test_predictions.jsonl").read_text().splitlines()]
    card = (output_dir / "README.md").read_text(encoding="utf-8")
    return SimpleNamespace(root=root, source=source, output_dir=output_dir, report=report, printed=printed,
                           test_rows=test_rows, records=records, card=card)  # fmt: skip


def test_metrics_json_keeps_its_keys_and_reads_back_as_the_report(tiny_run):
    metrics = json.loads((tiny_run.output_dir / "metrics.json").read_text())
    assert list(metrics) == METRICS_KEYS == [item.name for item in fields(TrainingReport)]
    assert set(metrics["data"]) == DATA_KEYS
    # The same values through JSON and back (floats round-trip exactly through their repr).
    assert TrainingReport.from_json(tiny_run.output_dir) == tiny_run.report


def test_report_is_filled_while_training(tiny_run):
    report = tiny_run.report
    assert [row["epoch"] for row in report.history] == [1, 2]
    assert report.train_runtime > 0
    assert Path(report.best_checkpoint).parent == tiny_run.output_dir
    assert Path(report.best_checkpoint).name.startswith("checkpoint-")
    assert sum(map(sum, report.confusion_matrix)) == report.data["test"] == TEST_ROWS


def test_predictions_file_has_one_line_per_test_row_with_probabilities(tiny_run):
    records, rows = tiny_run.records, tiny_run.test_rows
    assert len(records) == len(rows) == TEST_ROWS
    assert [record["text"] for record in records] == rows["text"]
    assert [record["gold"] for record in records] == [LABEL_NAMES[label] for label in rows["label"]]
    for record in records:
        assert record.keys() == {"text", "gold", "predicted", "probabilities"}
        assert list(record["probabilities"]) == list(LABEL_NAMES)
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)  # float32 softmax
        assert record["predicted"] == max(record["probabilities"], key=record["probabilities"].get)
    correct = sum(record["predicted"] == record["gold"] for record in records)
    assert correct / TEST_ROWS == pytest.approx(tiny_run.report.test["accuracy"], abs=1e-9)


def test_printed_output_and_card_list_the_most_confident_mistakes_per_class(tiny_run):
    mistakes = confident_mistakes(tiny_run.records, LABEL_NAMES)
    assert any(mistakes.values()), "the tiny model should get some test rows wrong"
    assert "most confident test mistakes per class:" in tiny_run.printed
    for gold, wrong in mistakes.items():
        assert len(wrong) <= 3
        assert [record["probabilities"][record["predicted"]] for record in wrong] == sorted(
            (record["probabilities"][record["predicted"]] for record in wrong), reverse=True
        )
        for record in wrong:
            assert record["gold"] == gold != record["predicted"]
            assert f"predicted {record['predicted']}: {record['text']}" in tiny_run.printed
            assert f"predicted `{record['predicted']}`" in tiny_run.card and record["text"] in tiny_run.card


def test_card_loads_back_with_the_test_scores_as_eval_results(tiny_run):
    card = ModelCard.load(tiny_run.output_dir / "README.md")
    results = {(result.metric_type, result.dataset_split): result for result in card.data.eval_results}
    test = tiny_run.report.test
    assert results["accuracy", "test"].metric_value == pytest.approx(test["accuracy"], abs=1e-12)  # YAML round trip
    assert results["f1", "test"].metric_value == pytest.approx(test["macro_f1"], abs=1e-12)
    assert results["accuracy", "test"].dataset_name == "news.csv"
    assert card.data.model_name == "out"
    assert card.data.pipeline_tag == "text-classification" and card.data.library_name == "transformers"


def test_card_names_data_by_file_name_and_checksum_and_links_only_what_exists(tiny_run):
    card = tiny_run.card
    # No absolute path, neither the data's nor the output folder's: the usage snippet loads the folder relative to
    # where training ran, so it works from there.
    location = os.path.relpath(tiny_run.output_dir)
    assert card.replace(location, "").count(str(tiny_run.root)) == 0
    checksum = hashlib.sha256(tiny_run.source.read_bytes()).hexdigest()
    assert f"- Source: `news.csv`, SHA-256 `{checksum}`." in card
    assert f'pipeline("text-classification", model="{location}", trust_remote_code=True)' in card
    assert not Path(location).is_absolute() and (Path.cwd() / location / "config.json").is_file()
    for target in re.findall(r"\]\(([^)]+)\)", card):
        assert target.startswith("https://") or (tiny_run.output_dir / target).is_file(), target


def test_card_names_whatever_classes_the_data_has():
    labels = ["positive", "negative", "neutral"]
    test = {"accuracy": 0.5, "macro_f1": 0.4, "loss": 1.0}
    for label in labels:
        test.update({f"precision_{label}": 0.5, f"recall_{label}": 0.5, f"f1_{label}": 0.5, f"support_{label}": 2.0})
    report = TrainingReport(
        architecture="rnn", label_names=labels, test=test,
        data={"source": "/home/someone/reviews.csv", "split_seed": 0, "group_by": "none", "train": 8,
              "validation": 2, "test": 6},
    )  # fmt: skip
    mistake = {"text": "not bad at all", "gold": "positive", "predicted": "negative",
               "probabilities": {"positive": 0.1, "negative": 0.8, "neutral": 0.1}}  # fmt: skip
    card = render_model_card(
        NewsCardData(
            model_id="someone/reviews-rnn", report=report, data=DataSource("reviews.csv", "0" * 64),
            model_config={"model_type": "hfnews-rnn"}, mistakes={"positive": [mistake], "negative": [], "neutral": []},
            has_learning_curves=False, example="great value",
        )
    )  # fmt: skip
    text = str(card)
    assert "the\n3 classes of `reviews.csv`: `positive`, `negative`, `neutral`." in text
    assert all(f"| {label} | 0.5000 |" in text for label in labels)
    assert "predicted `negative` (p=0.80): not bad at all" in text
    assert "learning_curves.png" not in text and "/home/someone" not in text
    assert not any(word in text for word in ("UCI", "Aggregator", "business", "headline"))
    assert 'model="someone/reviews-rnn", trust_remote_code=True)\nclassifier("great value", top_k=None)' in text
    assert card.data.eval_results[0].dataset_name == "reviews.csv"
