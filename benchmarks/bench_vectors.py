"""Problem 84: peak memory of `load_embedding_matrix` against gensim's full `load_word2vec_format`.

Writes a random word2vec binary file (default 300k x 300 float32, about 360 MB) to a temporary folder, then loads it in
fresh subprocesses, once per loader, so each peak RSS (`ru_maxrss`) belongs to that loader alone. The file is deleted
afterwards.

    pip install -e .  # the measuring subprocesses import hfnews
    python benchmarks/bench_vectors.py --vectors 300000 --dim 300 --vocab 10000
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


ROWS_PER_WRITE = 10_000


def write_word2vec_binary(path: Path, count: int, dim: int, seed: int) -> list[str]:
    """Write `count` random vectors in word2vec.c layout (`word vector-bytes\\n`) and return the words."""
    rng = np.random.default_rng(seed)
    words = [f"word{i}" for i in range(count)]
    with path.open("wb") as fout:
        fout.write(f"{count} {dim}\n".encode())
        for start in range(0, count, ROWS_PER_WRITE):
            block = rng.standard_normal((min(ROWS_PER_WRITE, count - start), dim), dtype=np.float32)
            names = words[start : start + len(block)]
            records = (f"{word} ".encode() + row.tobytes() + b"\n" for word, row in zip(names, block, strict=True))
            fout.write(b"".join(records))
    return words


def measure(loader: str, path: str, vocab_path: str) -> None:
    """Run in a subprocess: load with one loader and print its time and peak RSS growth (KiB) as JSON."""
    from gensim.models import KeyedVectors

    from hfnews.models.vectors import load_embedding_matrix

    vocab = json.loads(Path(vocab_path).read_text())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if loader == "hfnews":
        _, coverage = load_embedding_matrix(path, vocab)
        detail = f"{coverage.found}/{coverage.total} words found"
    else:
        keyed = KeyedVectors.load_word2vec_format(path, binary=True)
        detail = f"{len(keyed)} vectors loaded"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_delta_kib": peak - before, "peak_kib": peak, "detail": detail}))


def run_loader(loader: str, path: Path, vocab_path: Path) -> dict:
    command = [sys.executable, __file__, "--measure", loader, str(path), str(vocab_path)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"the {loader} measurement failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=300_000, help="vectors in the generated file")
    parser.add_argument("--dim", type=int, default=300, help="vector dimension")
    parser.add_argument("--vocab", type=int, default=10_000, help="vocabulary size; 90%% of it is in the file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--measure", nargs=3, metavar=("LOADER", "FILE", "VOCAB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return

    with tempfile.TemporaryDirectory(prefix="bench_vectors_") as tmp:
        path, vocab_path = Path(tmp) / "vectors.bin", Path(tmp) / "vocab.json"
        words = write_word2vec_binary(path, args.vectors, args.dim, args.seed)
        rng = np.random.default_rng(args.seed)
        present = rng.choice(words, size=args.vocab * 9 // 10, replace=False).tolist()
        absent = [f"absent{i}" for i in range(args.vocab - len(present))]
        vocab = {word: i for i, word in enumerate(["[UNK]", *present, *absent, "[PAD]"])}
        vocab_path.write_text(json.dumps(vocab))

        print(f"file: {args.vectors:,} x {args.dim} float32 word2vec binary, {path.stat().st_size / 2**20:,.0f} MiB")
        print(f"vocabulary: {len(vocab):,} entries ({len(present):,} in the file)")
        print(f"{'loader':<38} {'time':>8} {'peak RSS delta':>15}  result")
        for loader, label in (("hfnews", "hfnews load_embedding_matrix"), ("gensim", "gensim load_word2vec_format")):
            stats = run_loader(loader, path, vocab_path)
            delta_mib = stats["peak_delta_kib"] / 1024
            print(f"{label:<38} {stats['seconds']:>7.1f}s {delta_mib:>11,.0f} MiB  {stats['detail']}")


if __name__ == "__main__":
    main()
