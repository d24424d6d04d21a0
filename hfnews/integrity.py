"""Files hfnews writes and later reads back: written so a kill never leaves one that looks finished, and checked
when read so a damaged one is never used silently.

A kill or a full disk leaves a file missing, empty or cut short. Writers here go through a temporary name and an
`os.replace` (atomic on POSIX and Windows within one filesystem); readers open every file the way its loader does
(JSON here; safetensors headers and `torch.load(weights_only=True)` in `hfnews.models.model_files`) before the real
load,
and raise `DamagedFileError`, one line that names the file. This module imports neither torch nor transformers, so
data-only work (the corpus cache) can use it. Folders that hfnews keeps as caches carry a manifest of checksums
(`write_manifest`, `verify_manifest`) so that a damaged entry is rebuilt instead of reused.
"""

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import xxhash

from .errors import HfnewsError


MANIFEST_NAME = "manifest.json"
STAGING_PREFIX = "tmp-"  # a folder being written is named tmp-<its final name>
_CHUNK = 1 << 24


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
        if not path.is_file():
            raise DamagedFileError(path, "is missing")
        # A file written empty (the nlp100 text file of an empty split) is sound; one emptied since is not.
        if file_checksum(path) != checksum:
            emptied = path.stat().st_size == 0
            raise DamagedFileError(path, "is empty" if emptied else "changed since it was written (checksum differs)")
    return {key: value for key, value in manifest.items() if key != "files"}


# ---------------------------------------------------------------------------------------------------------------
# Checking single files the way their loaders read them


def require_file(path: Path) -> None:
    """Raise `DamagedFileError` when `path` is missing or empty."""
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
    require_file(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedFileError(path, f"is not JSON ({error})") from None
