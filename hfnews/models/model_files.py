"""Checking model folders, tokenizers and Trainer checkpoints the way their loaders read them, before they are loaded.

A file cut short by a kill or a full disk fails here with a `DamagedFileError` that names it, instead of a traceback
from deep inside `from_pretrained` or `Trainer.train(resume_from_checkpoint=...)`.
"""

import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from transformers.trainer_pt_utils import safe_globals
from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME

from ..integrity import DamagedFileError, check_json, require_file


# Files AutoTokenizer reads as JSON when present. Without tokenizer.json it can only convert a slow tokenizer's
# vocabulary (BERT's vocab.txt, BPE's vocab.json, a SentencePiece or tiktoken model).
TOKENIZER_JSON_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
SLOW_VOCABS = ("vocab.txt", "vocab.json", "*.model", "*.tiktoken")


def check_safetensors(path: str | os.PathLike) -> None:
    """Open a `.safetensors` file's header: `safe_open` fails unless the file covers every tensor it lists, so a
    file cut short is caught without reading the tensors.

    Raises:
        DamagedFileError: when the file is missing, empty or cut short.
    """
    path = Path(path)
    require_file(path)
    try:
        with safe_open(path, framework="pt"):
            pass
    except SafetensorError as error:
        raise DamagedFileError(path, f"is damaged ({error})") from None


def check_torch_file(path: str | os.PathLike) -> None:
    """Load a `torch.save` file as the Trainer does (`weights_only=True`, numpy allowed), memory-mapped so that the
    tensors are not read: a cut-short file has lost the zip directory at its end and fails here.

    Raises:
        DamagedFileError: when the file is missing, empty or does not load.
    """
    path = Path(path)
    require_file(path)
    try:
        with safe_globals():  # the numpy types of the RNG state, allowed as `Trainer._load_rng_state` allows them
            torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # torch reports a bad file as OSError, RuntimeError or a pickle error, by format
        message = (str(error).strip() or type(error).__name__).splitlines()[0]
        raise DamagedFileError(path, f"does not load ({message})") from None


# ---------------------------------------------------------------------------------------------------------------
# Checking folders: models, tokenizers, Trainer checkpoints


def check_model_weights(folder: str | os.PathLike) -> list[Path]:
    """Check the weights `from_pretrained` would read from `folder`, in its order of preference (safetensors, then
    sharded safetensors, then PyTorch pickles); returns the weight files.

    Raises:
        DamagedFileError: naming the missing or damaged file (`model.safetensors` when there are no weights at all).
    """
    folder = Path(folder)
    for single, index, check in (
        (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, check_safetensors),
        (WEIGHTS_NAME, WEIGHTS_INDEX_NAME, check_torch_file),
    ):
        if (folder / single).exists():
            files = [folder / single]
        elif (folder / index).exists():
            weight_map = check_json(folder / index).get("weight_map", {})
            files = [folder / name for name in sorted(set(weight_map.values()))]
        else:
            continue
        for file in files:
            check(file)
        return files
    raise DamagedFileError(folder / SAFE_WEIGHTS_NAME, "is missing (the folder has no model weights)")


def check_model_folder(folder: str | os.PathLike) -> None:
    """A `save_pretrained` model folder: `config.json` parses and the weights load.

    Raises:
        DamagedFileError: naming the first file at fault.
    """
    check_json(Path(folder) / "config.json")
    check_model_weights(folder)


def check_tokenizer_folder(folder: str | os.PathLike) -> None:
    """A `save_pretrained` tokenizer folder: `tokenizer.json` (or a slow tokenizer's vocabulary to convert) is
    there, and every tokenizer JSON file present parses.

    Raises:
        DamagedFileError: naming `tokenizer.json` when the folder holds no tokenizer, else the damaged file.
    """
    folder = Path(folder)
    if not (folder / "tokenizer.json").exists() and not any(any(folder.glob(pattern)) for pattern in SLOW_VOCABS):
        raise DamagedFileError(folder / "tokenizer.json", "is missing (the folder has no tokenizer)")
    for name in TOKENIZER_JSON_FILES:
        if (folder / name).exists():
            check_json(folder / name)


def check_checkpoint(folder: str | os.PathLike) -> None:
    """A Trainer checkpoint that resuming can load: the model folder, optimizer, scheduler, trainer state, and the
    RNG and gradient-scaler states when present (the Trainer resumes without them, so they are optional).

    Raises:
        DamagedFileError: naming the first file that is missing or does not load.
    """
    # Imported here: transformers.trainer imports datasets and accelerate (~0.5 s), which loading a model for
    # prediction never needs; only checkpoints name these files.
    from transformers.trainer import OPTIMIZER_NAME, SCALER_NAME, SCHEDULER_NAME, TRAINER_STATE_NAME

    folder = Path(folder)
    check_json(folder / TRAINER_STATE_NAME)
    check_model_folder(folder)
    for name in (OPTIMIZER_NAME, SCHEDULER_NAME):
        check_torch_file(folder / name)
    for optional in sorted([*folder.glob("rng_state*.pth"), *folder.glob(SCALER_NAME)]):
        check_torch_file(optional)
