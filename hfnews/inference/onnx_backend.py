"""Classifying headlines with an exported ONNX folder and onnxruntime, without torch or transformers.

The folder is what `hfnews.inference.export` writes: `model.onnx`, `tokenizer.json` with `tokenizer_config.json`,
and `config.json`. Tokenization uses the `tokenizers` library directly, set up as transformers sets it up for
`tokenizer(texts, padding=True, truncation=True)`: pad to the longest text of the batch on the tokenizer's side,
truncate to `model_max_length` when it is finite, so the ids (and thus the scores) are those of the torch path.

This module must not import torch, transformers or a torch-importing hfnews module (`hfnews.inference.prediction`,
`hfnews.models.factory`): a deployment without torch is its point.
"""

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..data.tokenization import UNLIMITED_LENGTH, WORD_ID_MAX_LENGTH, WORD_ID_MODEL_PREFIX, clip_text
from ..errors import HfnewsError


MODEL_FILE = "model.onnx"
QUANTIZED_DIR = "int8"  # the int8 copy's subfolder of an exported folder
BACKEND_NAME = "onnxruntime"


def is_onnx_folder(path: str | os.PathLike) -> bool:
    """Whether `path` is a folder holding `model.onnx` (an ONNX export rather than a torch checkpoint)."""
    return (Path(path) / MODEL_FILE).is_file()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HfnewsError(
            f"{path.parent} is not a complete ONNX folder: {path.name} is missing; export it again"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HfnewsError(f"{path} is damaged ({error}); export the model again") from None


def load_tokenizer(folder: Path, model_type: str | None = None):
    """The folder's `tokenizers.Tokenizer`, padding and truncating as transformers' fast tokenizer does with
    `padding=True, truncation=True`, to the length `hfnews.data.tokenization.input_length_limit` gives (an hfnews
    word-ID
    model saved without one reads 256 tokens, as in `predict.py`'s torch path). Returns `(tokenizer, max_length)`,
    `max_length` `None` when unlimited."""
    from tokenizers import Tokenizer

    settings = _read_json(folder / "tokenizer_config.json")
    if not (folder / "tokenizer.json").is_file():
        raise HfnewsError(f"{folder} is not a complete ONNX folder: tokenizer.json is missing; export it again")
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    pad_token = settings.get("pad_token") or "[PAD]"
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise HfnewsError(f"{folder}/tokenizer.json has no pad token {pad_token!r}; export the model again")
    tokenizer.enable_padding(direction=settings.get("padding_side", "right"), pad_id=pad_id, pad_token=pad_token)
    max_length = settings.get("model_max_length")
    max_length = max_length if max_length is not None and max_length < UNLIMITED_LENGTH else None
    if max_length is None and (model_type or "").startswith(WORD_ID_MODEL_PREFIX):
        max_length = WORD_ID_MAX_LENGTH
    if max_length is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length, direction=settings.get("truncation_side", "right"))
    return tokenizer, max_length


def _scores(logits: np.ndarray, config: dict) -> np.ndarray:
    """pipeline()'s rule (as `hfnews.inference.prediction`): sigmoid for multi-label or one-output models, else
    softmax."""
    logits = logits.astype(np.float32)
    if config.get("problem_type") == "multi_label_classification" or logits.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class OnnxClassifier:
    """An ONNX folder ready to classify: `logits`, `scores` and `top_labels` for lists of headlines.

    Args:
        folder: the exported folder.
        threads: onnxruntime intra-op threads (`None`: onnxruntime's default, one per core).

    Raises:
        HfnewsError: when the folder or one of its files is missing or damaged.
    """

    backend = BACKEND_NAME

    def __init__(self, folder: str | os.PathLike, threads: int | None = None):
        import onnxruntime
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        if not is_onnx_folder(self.folder):
            raise HfnewsError(f"{self.folder} holds no {MODEL_FILE}: pass a folder written by scripts/export.py")
        self.config = _read_json(self.folder / "config.json")
        self.id2label = {int(index): name for index, name in self.config["id2label"].items()}
        self.tokenizer, self.max_length = load_tokenizer(self.folder, self.config.get("model_type"))
        self._counter = Tokenizer.from_file(str(self.folder / "tokenizer.json"))  # neither pads nor truncates
        self._counter.no_padding()
        self._counter.no_truncation()
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(self.folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own Fail/InvalidProtobuf types, not one base class
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise HfnewsError(f"{self.folder / MODEL_FILE} cannot be loaded ({first_line}); export it again") from None

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """`(input_ids, attention_mask)`, int64 `(len(texts), sequence)`, sequence >= 1: a batch of empty titles is
        padded to one masked position, since a zero-length sequence can abort onnxruntime."""
        if self.max_length is not None:  # a line of megabytes is tokenized only as far as it is read
            texts = [clip_text(self._count_tokens, text, self.max_length) for text in texts]
        encodings = self.tokenizer.encode_batch(list(texts))
        input_ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64).reshape(len(texts), -1)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64).reshape(len(texts), -1)
        if input_ids.shape[1] == 0:
            pad_id = self.tokenizer.padding["pad_id"]
            return np.full((len(texts), 1), pad_id, dtype=np.int64), np.zeros((len(texts), 1), dtype=np.int64)
        return input_ids, mask

    def _count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def logits(self, texts: Sequence[str], batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """float32 `(len(texts), num_labels)` logits in the order of `texts`, from batches of similar length (less
        padding), as `hfnews.inference.prediction.predict_logits` batches; `progress` shows a tqdm bar on stderr."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        logits = np.empty((len(texts), len(self.id2label)), dtype=np.float32)
        with tqdm(total=len(texts), unit="headlines", disable=not progress, desc="classifying") as bar:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                input_ids, mask = self.encode([texts[i] for i in rows])
                (logits[rows],) = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": mask})
                bar.update(len(rows))
        return logits

    def scores(self, texts: Sequence[str], batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """float32 `(len(texts), num_labels)` probabilities (pipeline()'s softmax or sigmoid) of `logits`."""
        return _scores(self.logits(texts, batch_size, progress), self.config)

    def top_labels(
        self, texts: Sequence[str], top_k: int = 1, batch_size: int = 256, progress: bool = False
    ) -> list[list[tuple[str, float]]]:
        """The `top_k` (label, score) pairs of each text, best first; ties keep the lower label id first."""
        scores = self.scores(texts, batch_size, progress)
        best = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
        return [[(self.id2label[int(i)], float(row[i])) for i in ids] for ids, row in zip(best, scores)]
