"""Registering the hfnews classes with transformers once transformers has loaded its Auto classes.

`import hfnews` must make `AutoConfig`, `AutoModelForSequenceClassification` and `pipeline()` know the `hfnews-rnn`
and `hfnews-cnn` model types, yet importing transformers and torch for that costs seconds that data-only commands
should not pay. So registration follows transformers instead of forcing it:

- a module of transformers that is already imported gets its registration at once (`register_auto_classes`);
- for one imported later, `register_when_imported` puts a finder on `sys.meta_path` that lets the usual finders
  locate the module and registers right after the module has executed; the finder removes itself once all is done.

What registers when: the configurations with `AutoConfig` when `configuration_auto` has loaded, the models with
`AutoModelForSequenceClassification` when `modeling_auto` has, and the text-classification pipeline that truncates to
the model's maximum length (`hfnews.inference.prediction`) when `transformers.pipelines` has. A module still executing
(one
imported by another module of transformers half-way through its own import) is left until it has finished, since
importing the hfnews classes then could meet a partly initialised transformers module.
"""

import functools
import importlib
import importlib.abc
import sys
import threading
from types import ModuleType


CONFIGURATION_AUTO = "transformers.models.auto.configuration_auto"
MODELING_AUTO = "transformers.models.auto.modeling_auto"
MODELING_UTILS = "transformers.modeling_utils"
PIPELINES = "transformers.pipelines"
# (configuration module, class, modeling module, class) of each model type, relative to hfnews.models.
MODEL_CLASSES = (
    ("configuration_news_rnn", "NewsRNNConfig", "modeling_news_rnn", "NewsRNNForSequenceClassification"),
    ("configuration_news_cnn", "NewsCNNConfig", "modeling_news_cnn", "NewsCNNForSequenceClassification"),
)

_done: set[str] = set()  # "configs", "models", "pipeline" once registered
_lock = threading.RLock()  # imports in two threads must not register twice or half


def _class(module: str, name: str) -> type:
    return getattr(importlib.import_module(f"{__package__}.models.{module}"), name)


def _loaded(name: str, finished: str | None) -> bool:
    """Whether module `name` has finished executing (`finished` is the one whose execution just ended)."""
    module = sys.modules.get(name)
    if module is None:
        return False
    return name == finished or not getattr(getattr(module, "__spec__", None), "_initializing", False)


def _register_configs() -> None:
    from transformers import AutoConfig

    for config_module, config_name, _, _ in MODEL_CLASSES:
        config_class = _class(config_module, config_name)
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
        config_class.register_for_auto_class()


def _register_models() -> None:
    from transformers import AutoModelForSequenceClassification

    for config_module, config_name, model_module, model_name in MODEL_CLASSES:
        model_class = _class(model_module, model_name)
        AutoModelForSequenceClassification.register(_class(config_module, config_name), model_class, exist_ok=True)
        model_class.register_for_auto_class("AutoModelForSequenceClassification")


def _register_pipeline() -> None:
    from .inference.pipelines import register_text_classification_pipeline

    register_text_classification_pipeline()


def _once(step: str, register) -> None:
    """Run a registration step unless done; marked done first, so imports it triggers do not come back to it."""
    if step in _done:
        return
    _done.add(step)
    try:
        register()
    except BaseException:
        _done.discard(step)  # a later trigger tries again
        raise


def register_auto_classes(load: bool = False, finished: str | None = None) -> None:
    """Register with every transformers component that is already loaded; safe to call any number of times.

    `load=True` first imports transformers' `modeling_auto` (and so `configuration_auto`), for a caller about to use
    the model classes: `save_pretrained` writes `auto_map` only for registered classes. `finished` names a module
    whose execution has just ended (the finder's call).
    """
    if load:
        importlib.import_module(MODELING_AUTO)
    with _lock:
        if _loaded(CONFIGURATION_AUTO, finished):
            _once("configs", _register_configs)
        # Model classes import modeling_utils, so not while it is half-way through its own import.
        utils_ready = MODELING_UTILS not in sys.modules or _loaded(MODELING_UTILS, finished)
        if "configs" in _done and _loaded(MODELING_AUTO, finished) and utils_ready:
            _once("models", _register_models)
        if _loaded(PIPELINES, finished):
            _once("pipeline", _register_pipeline)
        if len(_done) == 3 and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: asks the other finders for the watched modules and registers after they execute."""

    watched = frozenset({CONFIGURATION_AUTO, MODELING_AUTO, MODELING_UTILS, PIPELINES})

    def find_spec(self, fullname: str, path=None, target: ModuleType | None = None):
        if fullname not in self.watched:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            # An attribute of this loader instance only (one per module), so its type and other methods stay as
            # they are for tracebacks, `importlib.resources` and the like.
            spec.loader.exec_module = _then_register(spec.loader.exec_module, fullname)
        return spec


def _then_register(exec_module, name: str):
    @functools.wraps(exec_module)
    def wrapper(module: ModuleType) -> None:
        exec_module(module)
        register_auto_classes(finished=name)

    return wrapper


_FINDER = _RegisterAfterImport()


def register_when_imported() -> None:
    """Register now with what transformers has loaded, and later with what it loads (called by `import hfnews`)."""
    with _lock:
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)
        register_auto_classes()
