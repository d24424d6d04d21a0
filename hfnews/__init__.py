"""hfnews: news-headline classifiers (NLP 100 problems 80-89) trained and served the HuggingFace way.

Importing the package registers the RNN and CNN classifiers with `AutoConfig` and
`AutoModelForSequenceClassification`, so `from_pretrained` and `pipeline()` find them. It does so without importing
torch or transformers itself (`hfnews.registration` registers as soon as transformers loads its Auto
classes), so commands that only read data start fast; the public names below load on first use (PEP 562).

The code is laid out by pipeline stage, each subpackage importing only the stages before it:
`data` (source files -> DatasetDict -> tokenizer -> encoded rows), `models` (configurations, modeling, checkpoints,
word vectors), `evaluation` (metrics, plots, error analysis), `training` (arguments, the Trainer, losses,
distillation, checkpoints, report and card), `inference` (prediction, pipelines, ONNX export, server, demo) and
`tuning` (the hyperparameter search). Directly here: `errors`, `cli`, `integrity` (atomic writes, used by every
stage) and `registration` (the Auto-class hooks that `import hfnews` installs).
"""

import importlib

from .registration import register_when_imported


# Public name -> the submodule that defines it.
_EXPORTS = {
    "LABEL_NAMES": "data.corpus",
    "load_news_corpus": "data.corpus",
    "load_prepared_corpus": "data.corpus",
    "save_corpus": "data.corpus",
    "NewsCNNConfig": "models",
    "NewsCNNForSequenceClassification": "models",
    "NewsRNNConfig": "models",
    "NewsRNNForSequenceClassification": "models",
    "train_word_tokenizer": "data.tokenization",
    "words_to_ids": "data.tokenization",
}

__version__ = "0.1.0"

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


register_when_imported()
