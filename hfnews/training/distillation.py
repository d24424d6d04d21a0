"""Knowledge distillation's data: a fine-tuned teacher (BERT, say) labels the student's training titles.

The teacher's logits over the training titles are computed once and cached under a key of the teacher's weights and
the corpus; they travel to the student as a dataset column (`losses.TEACHER_COLUMN`) that the collator batches like
the labels, and `NewsTrainer.compute_loss` takes it out and scores the batch with `losses.DistillationLoss` (Hinton
et al.'s soft-target loss, "Distilling the Knowledge in a Neural Network", 2015, section 2). Evaluation never sees the
column, so validation and test scores are the student's own. This module imports no Trainer: the loss is the
Trainer's, the data is this module's.
"""

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset, DatasetDict, Value, concatenate_datasets
from huggingface_hub import snapshot_download
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from transformers import PreTrainedTokenizerBase, TrainingArguments

from ..data.arguments import DataArguments
from ..data.augmentation import AugmentedTitles, augment_titles
from ..data.download import cache_root, sha256_file
from ..data.encoding import encode_texts
from ..data.text_files import read_texts
from ..data.tokenization import max_input_length, report_cut
from ..errors import HfnewsError
from ..integrity import atomic_write
from ..models.arguments import ModelArguments
from ..models.loading import load_model, load_tokenizer, resolve_model_path
from ..models.logits import predict_logits
from .losses import IGNORE_INDEX, TEACHER_COLUMN


logger = logging.getLogger(__name__)

CACHE_FORMAT = "hfnews-teacher-logits-1"  # part of every cache key: bump it when the computation changes
TRAIN_TEACHER_HINT = "train it first (accelerate launch scripts/train.py --model bert) or pass --teacher_name_or_path"


@dataclass(frozen=True)
class Distillation:
    """How a student learns from its teacher: which teacher (and its weights' digest), alpha, temperature and how many
    unlabelled titles (transfer file, augmented copies) it labelled."""

    teacher: str
    teacher_sha256: str
    alpha: float
    temperature: float
    transfer_titles: int = 0  # headlines of --distill_transfer_file, labelled by the teacher alone
    augmented_titles: int = 0  # perturbed copies of training titles labelled by the teacher alone (augmentation.py)

    def as_report(self) -> dict:
        """The `distillation` entry of `metrics.json`."""
        return asdict(self)


def weights_digest(name_or_path: str) -> str:
    """SHA-256 over the teacher's weight files (`*.safetensors`, else `*.bin`) in file-name order.

    A Hub id is read from the local Hub cache (where `from_pretrained` has just put it).
    """
    path = Path(resolve_model_path(name_or_path))
    folder = path if path.is_dir() else Path(snapshot_download(str(path), allow_patterns=["*.safetensors", "*.bin"]))
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not files:
        raise HfnewsError(f"teacher {name_or_path} has no weight file (*.safetensors or *.bin) in {folder}")
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}:{sha256_file(file)}\n".encode())
    return digest.hexdigest()


def cache_key(teacher_sha256: str, texts: list[str], label_names: list[str]) -> str:
    """The key of a teacher's logits over a corpus: the weights' digest, the titles and the label order."""
    corpus = hashlib.sha256(json.dumps([label_names, texts]).encode()).hexdigest()
    return hashlib.sha256(f"{CACHE_FORMAT}\n{teacher_sha256}\n{corpus}".encode()).hexdigest()


def cache_file(key: str) -> Path:
    """Where the logits under `key` are kept: `<cache root>/teacher_logits/<key>.safetensors`."""
    return cache_root() / "teacher_logits" / f"{key}.safetensors"


def read_cached_logits(path: Path, key: str, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached logits if `path` holds a sound entry for `key` (the key inside, the shape, finite values)."""
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="np") as cached:
            recorded = (cached.metadata() or {}).get("key")
            logits = cached.get_tensor("logits")
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        problem = f"unreadable ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
    else:
        if recorded != key:
            problem = f"recorded for key {recorded}"
        elif logits.shape != shape:
            problem = f"of shape {logits.shape}, expected {shape}"
        elif not np.isfinite(logits).all():
            problem = "holding non-finite values"
        else:
            return logits
    logger.warning("teacher logits cache %s is %s: computing them again", path, problem)
    return None


def write_cached_logits(path: Path, key: str, logits: np.ndarray) -> None:
    """Write atomically (`integrity.atomic_write`: a temporary file renamed into place), so a reader never sees half
    a file; the key goes into the safetensors metadata, where `read_cached_logits` checks it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb") as stream:
        stream.write(save({"logits": torch.from_numpy(logits)}, metadata={"key": key}))


def load_teacher(name_or_path: str, label_names: list[str]) -> tuple[torch.nn.Module, object, list[int]]:
    """The teacher model and tokenizer, and for each corpus label its teacher logit column.

    Raises HfnewsError when the teacher cannot be found (with how to train one) or predicts other labels.
    """
    try:
        model, tokenizer = load_model(name_or_path), load_tokenizer(name_or_path)
    except HfnewsError:
        if Path(name_or_path).exists():
            raise
        raise HfnewsError(
            f"teacher {name_or_path} not found (no such folder, nor Hub model): {TRAIN_TEACHER_HINT}"
        ) from None
    teacher_labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if sorted(teacher_labels) != sorted(label_names):
        raise HfnewsError(
            f"teacher {name_or_path} predicts {teacher_labels}, not this corpus's labels {label_names}: "
            "pass a teacher trained on the same categories"
        )
    return model, tokenizer, [teacher_labels.index(name) for name in label_names]


def teacher_logits(
    name_or_path: str,
    texts: list[str],
    label_names: list[str],
    batch_size: int = 128,
    device: torch.device | str = "cpu",
    disable_progress: bool = False,
    augmented: AugmentedTitles | None = None,
) -> tuple[np.ndarray, str]:
    """The teacher's logits over `texts`, then over the `augmented` titles if any (float32, shape
    (len(texts) + len(augmented), len(label_names)), columns in `label_names` order) and the digest of its weights;
    read from the cache when a sound entry exists, else computed and cached.

    The teacher reads a masked word of `augmented` as its mask token (a word-ID teacher, which has none, as its
    unknown word).
    """
    model, tokenizer, columns = load_teacher(name_or_path, label_names)
    # A datasets Column reads as a list, but only a list serialises for the key.
    texts = list(texts) + ([] if augmented is None else augmented.render(tokenizer.mask_token or tokenizer.unk_token))
    digest = weights_digest(name_or_path)
    key = cache_key(digest, texts, label_names)
    path = cache_file(key)
    logits = read_cached_logits(path, key, (len(texts), len(label_names)))
    if logits is None:
        raw = predict_logits(model.to(device), tokenizer, texts, batch_size, not disable_progress, "teacher logits")
        logits = np.ascontiguousarray(raw.numpy()[:, columns])
        if not np.isfinite(logits).all():
            raise HfnewsError(f"teacher {name_or_path} gives non-finite logits: check its weights")
        write_cached_logits(path, key, logits)
    else:
        logger.info("teacher logits of %s read from %s", name_or_path, path)
    return logits, digest


def transfer_titles(path: str, text_column_name: str, held_out: Sequence[str]) -> list[str]:
    """The headlines of `path` (read like `scripts/predict.py --input_file`: `hfnews.data.text_files.read_texts`), less
    blank lines and titles in `held_out` (the validation and test titles: the student is scored on those), words
    compared after splitting on white space as `AugmentedTitles.excluding` compares them.

    Raises HfnewsError for a missing or unreadable file.
    """
    held_out = {tuple(title.split()) for title in held_out}
    return [
        text for text in read_texts(path, text_column_name) if text.split() and tuple(text.split()) not in held_out
    ]


def add_teacher_logits(
    train: Dataset,
    dataset: DatasetDict,
    model_args: ModelArguments,
    data_args: DataArguments,
    training_args: TrainingArguments,
    tokenizer: PreTrainedTokenizerBase,
) -> tuple[Dataset, Distillation]:
    """`train` (the encoded training split of `dataset`) with the `teacher_logits` column of
    `model_args.teacher_name_or_path` over its titles, and the distillation settings the Trainer needs.

    Unlabelled rows follow the training rows, with their teacher logits and label -100 (the hard-label term of the
    loss skips them), encoded by the student's `tokenizer` like the corpus (cut to its `model_max_length`): the
    headlines of `model_args.distill_transfer_file` (`transfer_titles`), then `model_args.distill_augment` perturbed
    copies of each training title (`hfnews.data.augmentation`, seeded by the run's seed), less any that reads as a
    validation or test title.
    """
    teacher = model_args.teacher_name_or_path
    label_names = dataset["train"].features["label"].names
    texts = dataset["train"]["text"][:]
    held_out = [text for split in ("validation", "test") for text in dataset[split]["text"][:]]
    transfer = []
    if model_args.distill_transfer_file is not None:
        transfer = transfer_titles(model_args.distill_transfer_file, data_args.text_column_name, held_out)
    augmented = augment_titles(texts, model_args.distill_augment, seed=training_args.seed).excluding(held_out)
    logits, digest = teacher_logits(
        teacher, texts + transfer, label_names, batch_size=training_args.per_device_eval_batch_size,
        device=training_args.device, disable_progress=training_args.disable_tqdm, augmented=augmented,
    )  # fmt: skip
    distillation = Distillation(
        teacher, digest, model_args.distill_alpha, model_args.distill_temperature,
        transfer_titles=len(transfer), augmented_titles=len(augmented),
    )  # fmt: skip
    rows = len(train)
    train = train.add_column(TEACHER_COLUMN, list(logits[:rows]))
    unlabelled = transfer + augmented.render(tokenizer.unk_token)
    if not unlabelled:
        return train, distillation
    # The label column loses its ClassLabel type: -100 (no gold label) is no class.
    train = train.cast_column("label", Value("int64"))
    encoded, cut = encode_texts(tokenizer, unlabelled)
    report_cut(cut, len(unlabelled), max_input_length(tokenizer))
    extra = Dataset.from_dict(
        {**encoded, "label": [IGNORE_INDEX] * len(unlabelled), TEACHER_COLUMN: list(logits[rows:])}
    ).cast(train.features)
    return concatenate_datasets([train, extra]), distillation
