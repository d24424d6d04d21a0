"""Knowledge distillation (issue 13 §1): the soft-target loss, the teacher-logit cache, the errors, a tiny run.

The teacher is a random 2-layer BERT with a WordPiece vocabulary of the hand-written headlines, saved like a
`scripts/train.py --model bert` output; the student is the tiny CNN of configs/tiny.yaml.
"""

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import TINY_TITLES
from model_helpers import save_tiny_bert
from safetensors.torch import save_file
from training_helpers import train, train_error
from transformers import BertForSequenceClassification, BertTokenizerFast, pipeline

from hfnews.data.arguments import DataArguments
from hfnews.data.augmentation import augment_titles
from hfnews.data.corpus import LABEL_NAMES
from hfnews.errors import HfnewsError
from hfnews.models.arguments import ModelArguments
from hfnews.models.transformer_vectors import transformer_word_vectors
from hfnews.training import distillation
from hfnews.training.arguments import NewsTrainingArguments
from hfnews.training.distillation import cache_file, cache_key, teacher_logits, weights_digest
from hfnews.training.losses import TEACHER_COLUMN, DistillationLoss, distillation_loss
from hfnews.training.run import prepare_experiment
from hfnews.training.trainer import build_trainer


REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "configs" / "tiny.yaml"
TEXTS = [title for _, title in TINY_TITLES]
LABELS = list(LABEL_NAMES)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("teacher"), LABELS)


@pytest.fixture
def forward_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the teacher's forward calls (batch sizes), whichever instance `from_pretrained` makes."""
    calls, forward = [], BertForSequenceClassification.forward

    def counting(self, *args, **kwargs):
        output = forward(self, *args, **kwargs)
        calls.append(output.logits.shape[0])
        return output

    monkeypatch.setattr(BertForSequenceClassification, "forward", counting)
    return calls


# ---------------------------------------------------------------------------------------------------------------
# The loss, against hand-computed values: student logits (0, 0), teacher logits (0, ln 3), label 0.

STUDENT = torch.zeros(1, 2)
TEACHER = torch.tensor([[0.0, math.log(3)]])
LABEL = torch.tensor([0])


def kl_to_uniform(p: list[float]) -> float:
    return sum(q * math.log(q / 0.5) for q in p)


@pytest.mark.parametrize(
    ("temperature", "teacher_probs"),
    [(1.0, [0.25, 0.75]), (2.0, [1 / (1 + math.sqrt(3)), math.sqrt(3) / (1 + math.sqrt(3))])],
)
def test_alpha_one_is_the_temperature_scaled_kl_divergence(temperature, teacher_probs):
    loss = distillation_loss(STUDENT, TEACHER, LABEL, alpha=1.0, temperature=temperature)
    assert loss.item() == pytest.approx(temperature**2 * kl_to_uniform(teacher_probs), rel=1e-5)


@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_alpha_zero_is_the_cross_entropy_whatever_the_temperature(temperature):
    student = torch.tensor([[0.0, math.log(3)]])  # softmax (1/4, 3/4): label 0 costs ln 4
    loss = distillation_loss(student, TEACHER, LABEL, alpha=0.0, temperature=temperature)
    assert loss.item() == pytest.approx(math.log(4), rel=1e-5)


def test_alpha_mixes_the_two_terms_and_averages_over_the_batch():
    student = torch.tensor([[0.0, 0.0], [0.0, math.log(3)]])
    teacher = torch.tensor([[0.0, math.log(3)], [0.0, math.log(3)]])  # the second row agrees with its teacher
    labels = torch.tensor([0, 0])
    soft = 4 * kl_to_uniform([1 / (1 + math.sqrt(3)), math.sqrt(3) / (1 + math.sqrt(3))]) / 2
    hard = (math.log(2) + math.log(4)) / 2
    loss = distillation_loss(student, teacher, labels, alpha=0.3, temperature=2.0)
    assert loss.item() == pytest.approx(0.3 * soft + 0.7 * hard, rel=1e-5)


def test_trainer_uses_the_teacher_column_for_training_and_the_model_loss_without_it(teacher, tiny_csv, tmp_path):
    model_args = ModelArguments(embedding_dim=8, num_filters=4, teacher_name_or_path=str(teacher), distill_alpha=0.7,
                                distill_temperature=3.0)  # fmt: skip
    data_args = DataArguments(source=str(tiny_csv))
    args = NewsTrainingArguments(str(tmp_path / "out"), report_to="none", use_cpu=True)
    experiment = prepare_experiment(model_args, data_args, args)
    trainer = build_trainer(experiment, args)
    assert trainer.distillation_loss == DistillationLoss(0.7, 3.0, trainer.compute_loss_func)
    assert TEACHER_COLUMN not in experiment.train_eval.column_names  # evaluation scores the student alone
    assert TEACHER_COLUMN in next(iter(trainer.get_train_dataloader()))  # not dropped as an unused column
    batch = trainer.data_collator([experiment.encoded["train"][i] for i in range(4)])
    assert batch[TEACHER_COLUMN].shape == (4, len(LABELS))
    inputs = {key: value for key, value in batch.items() if key not in (TEACHER_COLUMN, "labels")}
    model = experiment.model.eval()
    with torch.no_grad():
        logits = model(**inputs).logits
        expected = distillation_loss(logits, batch[TEACHER_COLUMN], batch["labels"], 0.7, 3.0)
        assert trainer.compute_loss(model, dict(batch)).item() == pytest.approx(expected.item(), rel=1e-5)
        plain = {key: value for key, value in batch.items() if key != TEACHER_COLUMN}
        own = model(**plain).loss
        assert trainer.compute_loss(model, plain).item() == pytest.approx(own.item(), rel=1e-5)


def test_a_teacher_leaves_the_students_initialisation_as_it_is(teacher, tiny_csv, tmp_path, monkeypatch):
    # A teacher whose checkpoint lacks weights draws random numbers to initialise them; this one draws some too.
    load_teacher = distillation.load_teacher

    def drawing(*args, **kwargs):
        torch.rand(8)
        return load_teacher(*args, **kwargs)

    monkeypatch.setattr(distillation, "load_teacher", drawing)
    data_args = DataArguments(source=str(tiny_csv))
    args = NewsTrainingArguments(str(tmp_path / "out"), report_to="none", use_cpu=True, seed=3)
    taught = prepare_experiment(ModelArguments(embedding_dim=8, teacher_name_or_path=str(teacher)), data_args, args)
    alone = prepare_experiment(ModelArguments(embedding_dim=8), data_args, args)
    assert taught.distillation is not None and alone.distillation is None
    expected = alone.model.state_dict()
    for name, value in taught.model.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=0, msg=name)


def test_vectors_teacher_starts_the_student_embedding_from_the_teachers_word_pieces(teacher, tiny_csv, tmp_path):
    model_args = ModelArguments(num_filters=4, teacher_name_or_path=str(teacher), vectors="teacher")
    args = NewsTrainingArguments(str(tmp_path / "out"), report_to="none", use_cpu=True)
    experiment = prepare_experiment(model_args, DataArguments(source=str(tiny_csv)), args)
    vocab = experiment.tokenizer.get_vocab()
    words = [word for word in vocab if word not in experiment.tokenizer.all_special_tokens]
    vectors, dim = transformer_word_vectors(str(teacher), words)
    embedding = experiment.model.get_input_embeddings().weight.detach()
    assert embedding.shape == (len(vocab), dim) and dim == 16  # the teacher's hidden size, not the default 300
    assert experiment.coverage.found == len(vectors) > 0
    for word, vector in vectors.items():
        torch.testing.assert_close(embedding[vocab[word]], torch.from_numpy(vector))


def test_augmented_titles_follow_the_training_rows_with_teacher_logits_and_no_label(teacher, tiny_csv, tmp_path):
    model_args = ModelArguments(embedding_dim=8, num_filters=4, teacher_name_or_path=str(teacher), distill_augment=3)
    args = NewsTrainingArguments(str(tmp_path / "out"), report_to="none", use_cpu=True, seed=5)
    experiment = prepare_experiment(model_args, DataArguments(source=str(tiny_csv)), args)
    titles = experiment.dataset["train"]["text"][:]
    held_out = [text for split in ("validation", "test") for text in experiment.dataset[split]["text"][:]]
    augmented = augment_titles(titles, 3, seed=5).excluding(held_out)
    train = experiment.encoded["train"]
    assert experiment.distillation.augmented_titles == len(augmented) > len(titles)
    assert len(train) == len(titles) + len(augmented)
    assert train["label"][len(titles) :] == [-100] * len(augmented)
    assert train["label"][: len(titles)] == experiment.dataset["train"]["label"][:]
    assert len(experiment.train_eval) == len(titles)  # the per-epoch training scores stay on the labelled rows
    # The student reads a masked word as [UNK] (word ID 0), the teacher as [MASK].
    tokenizer = experiment.tokenizer
    masked = next(i for i, copy in enumerate(augmented.words) if None in copy)
    student_ids = train[len(titles) + masked]["input_ids"]
    assert student_ids == tokenizer(augmented.render("[UNK]")[masked])["input_ids"] and 0 in student_ids
    model = BertForSequenceClassification.from_pretrained(teacher)
    teacher_tokenizer = BertTokenizerFast.from_pretrained(teacher)
    with torch.no_grad():
        direct = model(**teacher_tokenizer(augmented.render("[MASK]")[masked], return_tensors="pt")).logits
    np.testing.assert_allclose(train[len(titles) + masked][TEACHER_COLUMN], direct[0].numpy(), rtol=1e-4, atol=1e-5)


def test_transfer_headlines_join_the_training_rows_less_blanks_and_held_out_titles(teacher, tiny_csv, tmp_path):
    args = NewsTrainingArguments(str(tmp_path / "out"), report_to="none", use_cpu=True)
    data_args = DataArguments(source=str(tiny_csv))
    dataset = prepare_experiment(ModelArguments(embedding_dim=8, num_filters=4), data_args, args).dataset
    held_out = dataset["test"]["text"][0]
    new = ["Bitcoin slides after exchange halts withdrawals", "Measles cases rise in California"]
    spaced = "  ".join(held_out.split())  # the held-out title with other spacing is still left out
    (tmp_path / "transfer.txt").write_text(f"{new[0]}\n\n{spaced}\n{new[1]}\n", encoding="utf-8")
    model_args = ModelArguments(embedding_dim=8, num_filters=4, teacher_name_or_path=str(teacher),
                                distill_transfer_file=str(tmp_path / "transfer.txt"))  # fmt: skip
    experiment = prepare_experiment(model_args, data_args, args)
    train, titles = experiment.encoded["train"], len(experiment.dataset["train"])
    assert experiment.distillation.transfer_titles == 2 and len(train) == titles + 2
    assert train["label"][titles:] == [-100, -100]
    assert train["input_ids"][titles:] == experiment.tokenizer(new)["input_ids"]
    expected, _ = teacher_logits(str(teacher), new, LABELS)
    np.testing.assert_allclose(np.array(train[TEACHER_COLUMN][titles:]), expected, rtol=1e-4, atol=1e-5)


def test_a_missing_transfer_file_is_one_error(teacher, tiny_csv, tmp_path, monkeypatch, capsys):
    error = train_error(monkeypatch, capsys, "--config", TINY_CONFIG, "--source", tiny_csv, "--output_dir",
                        tmp_path / "o", "--teacher_name_or_path", teacher, "--distill_transfer_file",
                        tmp_path / "none.txt")  # fmt: skip
    assert error == f"error: --distill_transfer_file {tmp_path / 'none.txt'}: no such file"


@pytest.mark.parametrize("extra", [["--distill_augment", "2"], ["--distill_transfer_file", "transfer.txt"]])
def test_extra_rows_without_a_teacher_are_one_error(extra, tiny_csv, tmp_path, monkeypatch, capsys):
    error = train_error(monkeypatch, capsys, "--config", TINY_CONFIG, "--source", tiny_csv, "--output_dir",
                        tmp_path / "o", *extra)  # fmt: skip
    assert error == (
        "error: --distill_augment and --distill_transfer_file add rows for a teacher to label: "
        "pass --teacher_name_or_path too"
    )


def test_a_run_with_extra_rows_records_and_names_them(teacher, tiny_csv, tmp_path, monkeypatch):
    transfer = tmp_path / "transfer.jsonl"
    transfer.write_text('{"text": "Bitcoin slides after exchange halts withdrawals"}\n', encoding="utf-8")
    output_dir = tmp_path / "student"
    train(monkeypatch, "--config", TINY_CONFIG, "--source", tiny_csv, "--output_dir", output_dir,
          "--teacher_name_or_path", teacher, "--distill_augment", 2, "--distill_transfer_file", transfer)  # fmt: skip
    distillation = json.loads((output_dir / "metrics.json").read_text())["distillation"]
    assert distillation["transfer_titles"] == 1 and distillation["augmented_titles"] > 0
    card = (output_dir / "README.md").read_text()
    assert "also on 1 unlabelled headlines of a transfer file" in card
    assert f"also on {distillation['augmented_titles']} perturbed training titles" in card


def test_a_batch_of_augmented_titles_alone_learns_from_the_teacher_alone():
    student, teacher_logits_ = torch.tensor([[0.5, -1.0], [2.0, 0.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    no_labels = torch.tensor([-100, -100])
    loss = distillation_loss(student, teacher_logits_, no_labels, alpha=0.5, temperature=2.0)
    soft = distillation_loss(student, teacher_logits_, no_labels, alpha=1.0, temperature=2.0)
    assert torch.isfinite(loss) and loss.item() == pytest.approx(0.5 * soft.item(), rel=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# The teacher-logit cache.


def test_second_call_reads_the_cache_without_running_the_teacher(teacher, forward_calls):
    first, digest = teacher_logits(str(teacher), TEXTS, LABELS, batch_size=8)
    assert first.shape == (len(TEXTS), len(LABELS)) and first.dtype == np.float32
    assert forward_calls == [8, 8, 8, 8]  # 32 titles in batches of 8
    second, again = teacher_logits(str(teacher), TEXTS, LABELS, batch_size=8)
    assert forward_calls == [8, 8, 8, 8]
    assert again == digest and np.array_equal(first, second)
    # Another corpus is another entry.
    teacher_logits(str(teacher), TEXTS[:5], LABELS, batch_size=8)
    assert forward_calls[4:] == [5]


def test_logits_match_the_teacher_with_columns_in_the_corpus_label_order(teacher, tmp_path):
    reordered = save_tiny_bert(tmp_path / "reordered", LABELS[::-1])  # same weights, labels listed backwards
    logits, _ = teacher_logits(str(reordered), TEXTS[:3], LABELS)
    model, tokenizer = (
        BertForSequenceClassification.from_pretrained(reordered),
        BertTokenizerFast.from_pretrained(reordered),
    )
    with torch.no_grad():
        direct = model(**tokenizer(TEXTS[:3], padding=True, return_tensors="pt")).logits.numpy()
    np.testing.assert_allclose(logits, direct[:, ::-1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("damage", ["truncated", "non-finite", "other key"])
def test_a_damaged_cache_is_rebuilt_with_one_warning(damage, teacher, forward_calls, caplog):
    logits, digest = teacher_logits(str(teacher), TEXTS, LABELS)
    key = cache_key(digest, TEXTS, LABELS)
    path = cache_file(key)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        values = torch.full((len(TEXTS), len(LABELS)), math.nan if damage == "non-finite" else 0.0)
        save_file({"logits": values}, str(path), metadata={"key": key if damage == "non-finite" else "stale"})
    calls = len(forward_calls)
    with caplog.at_level(logging.WARNING, logger="hfnews.training.distillation"):
        rebuilt, _ = teacher_logits(str(teacher), TEXTS, LABELS)
    assert len(forward_calls) > calls
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(path) in warnings[0].getMessage()
    np.testing.assert_allclose(rebuilt, logits, rtol=1e-5, atol=1e-6)
    assert not list(path.parent.glob("*.tmp"))  # written through a temporary file renamed into place
    caplog.clear()
    teacher_logits(str(teacher), TEXTS, LABELS)  # sound again: read without a warning
    assert not caplog.records


def test_the_key_follows_the_teacher_weights(teacher, tmp_path):
    other = save_tiny_bert(tmp_path / "other", LABELS)
    assert weights_digest(str(other)) == weights_digest(str(teacher))  # same seed, same bytes
    state = BertForSequenceClassification.from_pretrained(other)
    with torch.no_grad():
        state.classifier.bias.add_(1.0)
    state.save_pretrained(other)
    assert weights_digest(str(other)) != weights_digest(str(teacher))


# ---------------------------------------------------------------------------------------------------------------
# Errors and a tiny run through scripts/train.py.


def test_a_teacher_with_other_labels_is_one_error(tmp_path):
    wrong = save_tiny_bert(tmp_path / "wrong", ["sports", "politics", "business", "health"])
    with pytest.raises(HfnewsError, match=r"teacher .* predicts .*'sports'.* not this corpus's labels"):
        teacher_logits(str(wrong), TEXTS, LABELS)


@pytest.mark.parametrize("config", ["cnn_distilled", "birnn_distilled"])
def test_a_missing_default_teacher_says_to_train_it_first(config, tiny_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no runs/bert here
    error = train_error(monkeypatch, capsys, "--model", config, "--source", tiny_csv, "--output_dir", tmp_path / "o")
    assert "teacher runs/bert not found" in error
    assert "accelerate launch scripts/train.py --model bert" in error


def test_distilled_run_is_an_ordinary_student_checkpoint_that_names_its_teacher(teacher, tiny_csv, tmp_path,
                                                                                  monkeypatch):  # fmt: skip
    output_dir = tmp_path / "student"
    train(monkeypatch, "--config", TINY_CONFIG, "--source", tiny_csv, "--output_dir", output_dir,
          "--teacher_name_or_path", teacher, "--distill_alpha", 0.8, "--distill_temperature", 2,
          "--vectors", "teacher")  # fmt: skip
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert metrics["distillation"] == {
        "teacher": str(teacher), "teacher_sha256": weights_digest(str(teacher)), "alpha": 0.8, "temperature": 2.0,
        "transfer_titles": 0, "augmented_titles": 0,
    }  # fmt: skip
    card = (output_dir / "README.md").read_text()
    # The card names a local teacher by its folder only: a user's paths never go to the Hub.
    assert f"Distilled from the teacher `{teacher.name}`" in card and str(teacher) not in card
    assert f"word vectors: `{teacher.name}` (its input embeddings, each word the mean of its word pieces)" in card
    config = json.loads((output_dir / "config.json").read_text())
    assert config["model_type"] == "hfnews-cnn"
    classifier = pipeline("text-classification", model=str(output_dir))
    scores = classifier(TEXTS[:2], top_k=None)
    assert [sorted(score["label"] for score in row) for row in scores] == [sorted(LABELS)] * 2
    assert sum(score["score"] for score in scores[0]) == pytest.approx(1.0, abs=1e-5)
