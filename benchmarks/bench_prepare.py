"""Problem 50: how long preparing the complete corpus takes, cold and from the cache, and its peak memory.

The complete official `newsCorpora.csv` (102,297,000 bytes, 422,937 rows) cannot be fetched here, so this builds a
stand-in of the same shape in a temporary folder: the real rows of `newsCorpora-dev.csv` at their own IDs, and every
other ID filled with a real row of another publisher (recycled, so lengths and characters stay realistic), its title
stretched or cut so the file ends up one byte short of the official size. One byte short on purpose: a file of exactly
the official size is checked against the official SHA-256, which the stand-in cannot match. Everything written is
deleted afterwards (unless `--keep`).

    pip install -e .  # the measuring subprocesses import hfnews
    python benchmarks/bench_prepare.py --dev_csv ../shared/data/newsCorpora-dev.csv
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


OFFICIAL_ROWS = 422_937
OFFICIAL_SIZE = 102_297_000  # hfnews.data.download.OFFICIAL_CSV_SIZE; not imported so this process stays light
KEPT_PUBLISHERS = ("Reuters", "Huffington Post", "Businessweek", "Contactmusic.com", "Daily Mail")
DEFAULT_DEV_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "newsCorpora-dev.csv"
PREPARE_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "prepare_data.py"


def _fit(title: bytes, size: int) -> bytes:
    """`title` repeated or cut to exactly `size` bytes of valid UTF-8 (a cut character becomes spaces)."""
    repeated = b" ".join([title] * (size // (len(title) + 1) + 1))[:size]
    text = repeated.decode("utf-8", errors="ignore").encode("utf-8")
    return text + b" " * (size - len(text))


def stand_in_size(rows: int) -> int:
    """The official bytes per row times `rows`, one byte less where that would be exactly the official size."""
    size = round(rows * OFFICIAL_SIZE / OFFICIAL_ROWS)
    return size - 1 if size == OFFICIAL_SIZE else size


def write_stand_in(dev_csv: Path, path: Path, rows: int) -> dict:
    """Write `rows` rows, sorted by ID: the dev rows (the first `rows` of them), other-publisher rows at free IDs.

    The generated rows share out the bytes left after the dev rows evenly (each tracks the running total), so the
    file holds `stand_in_size(rows)` bytes (more only when the dev rows alone exceed that).
    """
    dev_lines = dev_csv.read_bytes().splitlines(keepends=True)
    by_id = {int(line.split(b"\t", 1)[0]): line for line in dev_lines}
    kept = [publisher.encode() for publisher in KEPT_PUBLISHERS]
    donors = [line.split(b"\t") for line in dev_lines if line.split(b"\t")[3] not in kept]
    dev_ids = sorted(by_id)[:rows]
    generated = rows - len(dev_ids)
    budget = stand_in_size(rows) - sum(len(by_id[row_id]) for row_id in dev_ids)
    written = made = 0
    dev_set = set(dev_ids)
    with path.open("wb") as out:
        row_id = 0
        while made < generated or dev_set:
            row_id += 1
            if row_id in dev_set:
                out.write(by_id[row_id])
                dev_set.discard(row_id)
                continue
            if made == generated:
                continue
            fields = list(donors[made % len(donors)])
            fields[0] = str(row_id).encode()
            made += 1
            size = round(made * budget / generated) - written  # this row's share, correcting earlier rounding
            rest = sum(len(field) for i, field in enumerate(fields) if i != 1) + len(fields) - 1
            fields[1] = _fit(fields[1], max(size - rest, 1))
            line = b"\t".join(fields)
            out.write(line)
            written += len(line)
    return {"rows": rows, "dev_rows": len(dev_ids), "generated_rows": generated, "bytes": path.stat().st_size}


def measure(path: str, cache: str, mode: str) -> None:
    """Run in a subprocess: `cold` prepares then reloads; `cached` only reloads. Prints one JSON line."""
    from hfnews.data.corpus import load_news_corpus
    from hfnews.data.sources import read_source

    result = {"rss_before_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if mode == "cold":
        start = time.perf_counter()
        corpus = load_news_corpus(path, cache_dir=cache)
        result["cold_s"] = time.perf_counter() - start
        result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert not corpus.from_cache, "the cache was not empty"
        result.update(rows_read=corpus.rows_read, splits={name: len(part) for name, part in corpus.dataset.items()})
    start = time.perf_counter()
    corpus = load_news_corpus(path, cache_dir=cache)
    result["cached_s"] = time.perf_counter() - start
    assert corpus.from_cache, "the second preparation did not use the cache"
    if mode == "cold":
        start = time.perf_counter()
        read_source(Path(path))
        result["read_s"] = time.perf_counter() - start
    print(json.dumps(result))


def run_python(args: list[str], env: dict | None = None) -> tuple[float, str]:
    """Wall time and stdout of a fresh interpreter running `args`."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def report_stand_in(stand_in: dict) -> None:
    print(
        f"stand-in newsCorpora.csv: {stand_in['rows']:,} rows ({stand_in['dev_rows']:,} real dev rows + "
        f"{stand_in['generated_rows']:,} generated rows of other publishers), {stand_in['bytes']:,} bytes"
    )
    print(
        f"  the official file: {OFFICIAL_ROWS:,} rows, {OFFICIAL_SIZE:,} bytes; the stand-in differs by "
        f"{stand_in['rows'] - OFFICIAL_ROWS:+,} rows and {stand_in['bytes'] - OFFICIAL_SIZE:+,} bytes "
        "(never exactly the official size, which would trigger the SHA-256 check)"
    )


def report_load(path: Path, tmp: Path) -> None:
    """`load_news_corpus` cold and cached, each measured in a new process so peak RSS is the preparation's own."""
    script = str(Path(__file__).resolve())
    cold, fresh = (
        json.loads(run_python([script, "--measure", str(path), str(tmp / "cache"), mode])[1].splitlines()[-1])
        for mode in ("cold", "cached")
    )
    splits = cold["splits"]
    print(f"rows read: {cold['rows_read']:,}; kept (five publishers): {sum(splits.values()):,}")
    print("split sizes: " + ", ".join(f"{name} {size:,}" for name, size in splits.items()))
    print("load_news_corpus(path, cache_dir=tmp):")
    print(f"  cold (first preparation):             {cold['cold_s']:7.2f} s")
    print(f"    of which read_source (read+check):  {cold['read_s']:7.2f} s (timed separately)")
    print(f"  cached, second call, same process:    {cold['cached_s']:7.3f} s")
    print(f"  cached, first call of a new process:  {fresh['cached_s']:7.3f} s")
    peak, base = cold["peak_rss_kib"] / 1024, cold["rss_before_kib"] / 1024
    print(f"  peak RSS of the cold preparation:     {peak:7.0f} MiB ({peak - base:,.0f} MiB above the "
          f"{base:,.0f} MiB after imports)")  # fmt: skip


def report_script(path: Path, tmp: Path) -> None:
    """`scripts/prepare_data.py` end to end, cold then cached, and what starting Python and importing costs."""
    env = {**os.environ, "HFNEWS_CACHE": str(tmp / "script-cache")}
    # What a cold run imports (a cached run imports neither hfnews.data.corpus nor datasets, only
    # hfnews.data.corpus_cache).
    imports, _ = run_python(["-c", "import hfnews.cli, hfnews.data.corpus"])
    cold, cached = (
        run_python([str(PREPARE_SCRIPT), "--source", str(path), "--output_dir", str(tmp / f"out-{run}")], env)[0]
        for run in ("cold", "cached")
    )
    print("scripts/prepare_data.py wall time (a new interpreter each; targets: cold 3.5 s, cached 2 s):")
    print(f"  cold:                                 {cold:7.2f} s (includes save_corpus and the leakage count)")
    print(f"  cached:                               {cached:7.2f} s (checks and copies the cache entry)")
    print(
        f"  a cold run's interpreter + imports:   {imports:7.2f} s (python -c 'import hfnews.cli, hfnews.data.corpus')"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=OFFICIAL_ROWS, help="rows in the stand-in file")
    parser.add_argument("--dev_csv", type=Path, default=DEFAULT_DEV_CSV, help="the real rows to start from")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and say where it is")
    parser.add_argument(
        "--skip_script", action="store_true", help="leave out the scripts/prepare_data.py timings (3 more processes)"
    )
    parser.add_argument("--measure", nargs=3, metavar=("FILE", "CACHE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    if not args.dev_csv.is_file():
        raise SystemExit(f"error: {args.dev_csv} not found; pass --dev_csv path/to/newsCorpora-dev.csv")
    if args.rows < 1:
        raise SystemExit(f"error: --rows must be positive, got {args.rows}")

    tmp = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    try:
        path = tmp / "newsCorpora.csv"
        report_stand_in(write_stand_in(args.dev_csv, path, args.rows))
        report_load(path, tmp)
        if not args.skip_script:
            report_script(path, tmp)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
