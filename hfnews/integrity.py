"""Files hfnews writes and later reads back: written so a kill never leaves one that looks finished, and checked
when read so a damaged one is never used silently.

A kill or a full disk leaves a file missing, empty or cut short. Writers here go through a temporary name and an
`os.replace` (atomic on POSIX and Windows within one filesystem); readers open every file the way its loader does
(safetensors header, `torch.load(weights_only=True)`, JSON) before the real load, and raise `DamagedFileError`, one
line that names the file. Folders that hfnews keeps as caches carry a manifest of checksums (`write_manifest`,
`verify_manifest`) so that a damaged entry is rebuilt instead of reused.
"""

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import torch
import xxhash
from safetensors import SafetensorError, safe_open
from transformers.trainer import OPTIMIZER_NAME, SCALER_NAME, SCHEDULER_NAME, TRAINER_STATE_NAME
from transformers.trainer_pt_utils import safe_globals
from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME

from .errors import HfnewsError


MANIFEST_NAME = "manifest.json"
STAGING_PREFIX = "tmp-"  # a folder being written is named tmp-<its final name>
_CHUNK = 1 << 24
# Files AutoTokenizer reads as JSON when present. Without tokenizer.json it can only convert a slow tokenizer's
# vocabulary (BERT's vocab.txt, BPE's vocab.json, a SentencePiece or tiktoken model).
TOKENIZER_JSON_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
SLOW_VOCABS = ("vocab.txt", "vocab.json", "*.model", "*.tiktoken")


class DamagedFileError(HfnewsError):
    """A file hfnews needs is missing, empty or does not load; `path` names it and the message says what is wrong."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path} {problem}")


# ---------------------------------------------------------------------------------------------------------------
# Writing


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file next to `path` and move it onto `path` only when the block ends without an error.

    A kill leaves at most `.<name>.tmp<pid>` behind, never a short `path`. The data is flushed to disk (`fsync`)
    before the rename, so a power loss right after cannot leave a renamed but empty file either.

    Args:
        path: the final file; its folder must exist.
        mode: `"w"` (text) or `"wb"` (bytes).
        open_kwargs: passed to `open` (`encoding`, `newline`).
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(partial, mode, **open_kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_atomically(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """`Path.write_text`, through `atomic_write`."""
    with atomic_write(path, "w", encoding=encoding) as stream:
        stream.write(text)


def staging_path(folder: str | os.PathLike) -> Path:
    """The temporary sibling a folder is built in before `publish_folder` gives it its name (`tmp-<name>`)."""
    folder = Path(folder)
    return folder.with_name(f"{STAGING_PREFIX}{folder.name}")


def publish_folder(staging: str | os.PathLike, folder: str | os.PathLike) -> None:
    """Rename a finished `staging` folder to `folder`, replacing an older `folder` of that name."""
    if Path(folder).exists():
        shutil.rmtree(folder)
    os.replace(staging, folder)


@contextmanager
def staged_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder (`tmp-<name>.<pid>`); when the block succeeds it becomes `folder` in one
    rename, so a kill or an error never leaves a half-written `folder`.

    Meant for cache entries keyed by their content: when another process publishes the same `folder` first (two
    processes of one `accelerate launch` preparing the same corpus), its copy is kept and this one dropped.
    """
    folder = Path(folder)
    staging = folder.with_name(f"{STAGING_PREFIX}{folder.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        try:
            publish_folder(staging, folder)
        except OSError:
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# Checksums and manifests


def update_with_file(hasher: "xxhash.xxh3_128", path: str | os.PathLike) -> None:
    """Feed a file's bytes to a hasher in 16 MiB chunks (xxh3 reads ~10 GB/s, so 100 MB cost ~10 ms)."""
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            hasher.update(chunk)


def file_checksum(path: str | os.PathLike) -> str:
    """The xxh3-128 digest of a file, as 32 hex digits."""
    hasher = xxhash.xxh3_128()
    update_with_file(hasher, path)
    return hasher.hexdigest()


def write_manifest(folder: str | os.PathLike, **records) -> dict:
    """Record the checksum of every file under `folder` (and any JSON-able `records`) in `folder/manifest.json`.

    Call it last, when the folder is complete; `verify_manifest` later tells whether it still is. Returns what was
    written: `{"files": {relative path: checksum}, **records}`.
    """
    folder = Path(folder)
    files = {
        path.relative_to(folder).as_posix(): file_checksum(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    }
    manifest = {"files": files, **records}
    write_text_atomically(folder / MANIFEST_NAME, json.dumps(manifest, indent=1))
    return manifest


def verify_manifest(folder: str | os.PathLike) -> dict:
    """Check that every file `write_manifest` recorded under `folder` is still there with the same bytes.

    Files added since are ignored (a library may keep its own caches there). Returns the manifest's records.

    Raises:
        DamagedFileError: naming the manifest (missing or unreadable) or the first file that is missing or changed.
    """
    folder = Path(folder)
    manifest = check_json(folder / MANIFEST_NAME)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise DamagedFileError(folder / MANIFEST_NAME, "is not an hfnews manifest (no 'files' table)")
    for name, checksum in manifest["files"].items():
        path = folder / name
        _require_file(path)
        if file_checksum(path) != checksum:
            raise DamagedFileError(path, "changed since it was written (checksum differs)")
    return {key: value for key, value in manifest.items() if key != "files"}


# ---------------------------------------------------------------------------------------------------------------
# Checking single files the way their loaders read them


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise DamagedFileError(path, "is missing")
    if path.stat().st_size == 0:
        raise DamagedFileError(path, "is empty")


def check_json(path: str | os.PathLike):
    """Parse a JSON file and return its value.

    Raises:
        DamagedFileError: when the file is missing, empty or not JSON (a cut-short file is not).
    """
    path = Path(path)
    _require_file(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedFileError(path, f"is not JSON ({error})") from None


def check_safetensors(path: str | os.PathLike) -> None:
    """Open a `.safetensors` file's header: `safe_open` fails unless the file covers every tensor it lists, so a
    file cut short is caught without reading the tensors.

    Raises:
        DamagedFileError: when the file is missing, empty or cut short.
    """
    path = Path(path)
    _require_file(path)
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
    _require_file(path)
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
    folder = Path(folder)
    check_json(folder / TRAINER_STATE_NAME)
    check_model_folder(folder)
    for name in (OPTIMIZER_NAME, SCHEDULER_NAME):
        check_torch_file(folder / name)
    for optional in sorted([*folder.glob("rng_state*.pth"), *folder.glob(SCALER_NAME)]):
        check_torch_file(optional)
