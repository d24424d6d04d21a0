"""The RNN and CNN headline classifiers, registered with transformers' Auto classes.

Registration lets `AutoConfig` / `AutoModelForSequenceClassification` resolve the `hfnews-rnn` and `hfnews-cnn`
model types, and makes `save_pretrained` copy the configuration and modeling files next to the weights and write
`auto_map` into config.json, so a checkpoint also loads where hfnews is not installed (`trust_remote_code=True`).

Importing this package is cheap: it imports neither torch nor transformers (data-only commands never pay for them).
The classes load on first access (PEP 562 `__getattr__`), which registers them; `import hfnews` also installs
`registration.register_when_imported`, so the Auto classes know the models as soon as transformers loads them.
"""

import importlib

from ..registration import register_auto_classes, register_when_imported


# Public name -> the submodule that defines it.
_CLASSES = {
    "NewsCNNConfig": "configuration_news_cnn",
    "NewsRNNConfig": "configuration_news_rnn",
    "NewsCNNForSequenceClassification": "modeling_news_cnn",
    "NewsCNNPreTrainedModel": "modeling_news_cnn",
    "NewsRNNForSequenceClassification": "modeling_news_rnn",
    "NewsRNNPreTrainedModel": "modeling_news_rnn",
}

__all__ = [*_CLASSES, "register_auto_classes", "register_when_imported"]


def __getattr__(name: str):
    if name not in _CLASSES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # Whoever uses a class gets it registered, so `save_pretrained` writes `auto_map` and the code files.
    register_auto_classes(load=True)
    value = getattr(importlib.import_module(f".{_CLASSES[name]}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_CLASSES})
