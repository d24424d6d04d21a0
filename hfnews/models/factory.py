"""Turning parsed arguments into the tokenizer and model every architecture trains with (loading a checkpoint is
`hfnews.models.loading`, below this module and below the word vectors that read checkpoints too).

This is the one place that knows the difference between the word-ID models (their tokenizer is trained on the
training split, their model built fresh from a config) and BERT (both come from a pretrained folder).
"""

import logging

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel, PreTrainedTokenizerBase

from ..data.arguments import DataArguments
from ..data.tokenization import WORD_ID_MAX_LENGTH, max_input_length, train_word_tokenizer
from ..errors import HfnewsError
from .arguments import ModelArguments
from .configuration_news_cnn import NewsCNNConfig
from .configuration_news_rnn import NewsRNNConfig
from .loading import load_model, load_tokenizer
from .vectors import VectorCoverage, load_embedding_matrix


logger = logging.getLogger(__name__)

DEFAULT_EMBEDDING_DIM = 300
RNN_FIELDS = ("cell", "nonlinearity", "hidden_size", "num_layers", "bidirectional")
CNN_FIELDS = ("kernel_sizes", "num_filters", "activation")


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
            max_length=data_args.max_length or WORD_ID_MAX_LENGTH,  # the words the model will read
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
