"""Cached, resumable HTTP downloads of the corpus, using only urllib and tqdm.

The UCI archive is ~30 MB and the site is slow, so an interrupted transfer is kept as ``<name>.part`` and continued
with a ``Range`` request next time; a finished file is renamed into place atomically, so a file in the cache under its
final name is always complete (and checksum-verified when a digest was given).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from ..errors import HfnewsError


OFFICIAL_ZIP_URL = "https://archive.ics.uci.edu/static/public/359/news+aggregator.zip"
OFFICIAL_CSV_NAME = "newsCorpora.csv"
OFFICIAL_CSV_SIZE = 102_297_000
OFFICIAL_CSV_SHA256 = "d343d484bb7e97534acf25898b688547b8140a0cea64590456ba368983f28452"

_CHUNK = 1 << 20
_USER_AGENT = "hfnews-download/0.1 (+urllib)"
_HINT = "(no network? pass a local file with --source)"


class DownloadError(HfnewsError):
    """A download failed; the message is one self-contained line, fit to print without a traceback."""


class ChecksumError(DownloadError):
    """A file's SHA-256 digest differs from the expected one."""


def cache_root() -> Path:
    """Where hfnews keeps downloads and prepared corpora: ``$HFNEWS_CACHE``, else ``~/.cache/hfnews``."""
    return Path(os.environ.get("HFNEWS_CACHE") or Path.home() / ".cache" / "hfnews")


def default_cache_dir() -> Path:
    """The downloads folder inside the cache root."""
    return cache_root() / "downloads"


def cache_path(url: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where ``url`` is cached: its basename prefixed by a short hash of the whole URL, so that two URLs ending in
    the same name (e.g. mirrors) never overwrite each other while the extension stays intact."""
    basename = urllib.parse.unquote(Path(urllib.parse.urlsplit(url).path).name)
    basename = re.sub(r"[^A-Za-z0-9._+-]", "_", basename) or "download"
    digest = hashlib.sha256(url.encode()).hexdigest()[:10]
    return Path(cache_dir if cache_dir is not None else default_cache_dir()).expanduser() / f"{digest}-{basename}"


def sha256_file(source: str | os.PathLike | BinaryIO) -> str:
    """Hex SHA-256 of a file given by path, or of what remains of a binary stream (e.g. ``ZipFile.open(member)``)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            return sha256_file(stream)
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(source: str | os.PathLike | BinaryIO, expected: str, *, what: str | None = None) -> None:
    """Raise ``ChecksumError`` naming both digests unless ``source`` hashes to ``expected``."""
    actual = sha256_file(source)
    if actual != expected.lower():
        name = what or str(getattr(source, "name", source))
        raise ChecksumError(f"checksum mismatch for {name}: expected sha256 {expected.lower()}, got {actual}")


def download(
    url: str,
    cache_dir: str | os.PathLike | None = None,
    *,
    expected_sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60,
) -> Path:
    """Download ``url`` into ``cache_dir`` (see ``default_cache_dir``) and return the local path.

    A complete cached file is returned without any request. Otherwise the transfer resumes from ``<name>.part``.
    With ``expected_sha256`` the file is verified; a mismatching file is deleted and ``ChecksumError`` raised.
    Every failure is a ``DownloadError`` with a one-line message.
    """
    if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
        raise HfnewsError(f"download() needs an http(s):// URL, got {url!r}; open local files directly")
    if expected_sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", expected_sha256):
        raise HfnewsError(f"expected_sha256 must be 64 hex digits, got {expected_sha256!r}")
    target = cache_path(url, cache_dir)
    candidate = target if target.exists() else target.with_name(target.name + ".part")
    if candidate is not target:
        target.parent.mkdir(parents=True, exist_ok=True)
        _fetch(url, candidate, timeout=timeout, progress=progress)
    if expected_sha256 is not None:
        try:
            verify_sha256(candidate, expected_sha256, what=url)
        except ChecksumError as err:
            candidate.unlink()
            raise ChecksumError(f"{err}; the file was deleted") from None
    if candidate is not target:
        os.replace(candidate, target)
    return target


def _fetch(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    """Bring ``part`` to the complete file, continuing from its current size when the server honours Range."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT, **({"Range": f"bytes={offset}-"} if offset else {})}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 416 and offset:  # Range Not Satisfiable: the .part is already whole, or stale and too long
            if not _whole(err, offset):
                part.unlink()
                _fetch(url, part, timeout=timeout, progress=progress)
            return
        raise DownloadError(f"could not download {url}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
        raise DownloadError(f"could not download {url}: {getattr(err, 'reason', err)} {_HINT}") from err
    with response:
        if response.status != 206:  # 200: the server ignored Range and sends everything, so start over
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        _copy(response, part, url=url, offset=offset, total=total, progress=progress)


def _whole(err: urllib.error.HTTPError, offset: int) -> bool:
    """Whether a 416 answer's ``Content-Range: bytes */TOTAL`` says the file is exactly ``offset`` bytes long."""
    match = re.search(r"/(\d+)\s*$", err.headers.get("Content-Range", ""))
    return match is not None and int(match.group(1)) == offset


def _copy(response: BinaryIO, part: Path, *, url: str, offset: int, total: int | None, progress: bool) -> None:
    """Append the body to ``part`` (truncating it first when ``offset`` is 0), keeping what arrived on failure."""
    bar = tqdm(
        total=total,
        initial=offset,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=part.name.removesuffix(".part"),
        disable=not progress,
    )
    with open(part, "ab" if offset else "wb") as sink, bar:
        try:
            while chunk := response.read(_CHUNK):
                sink.write(chunk)
                bar.update(len(chunk))
            reason = None if total in (None, sink.tell()) else "connection closed early"
        except (OSError, http.client.HTTPException) as err:
            reason = err
        if reason is not None:
            of_total = "" if total is None else f" of {total}"
            raise DownloadError(
                f"download of {url} stopped at {sink.tell()}{of_total} bytes ({reason}); run again to resume"
            )
