"""Train every shipped config on the real data (or reuse finished runs) and write BENCHMARKS.md plus a chart.

    python benchmarks/bench.py --source ../shared/data/newsCorpora-dev.csv
    python benchmarks/bench.py --models cnn rnn --runs_dir runs/bench   # a subset; finished runs are reused
    python benchmarks/bench.py --models cnn rnn --seeds 0 1 2            # mean ± standard deviation over seeds

Each model trains in its own process (`scripts/train.py`), so wall time and peak memory are that run's alone. The
reference point of chapter 6 of the same exercises, TF-IDF with logistic regression, runs on the same split.
"""

from dataclasses import dataclass, field

from report import BENCHMARK_MODELS, run_benchmark
from transformers import HfArgumentParser

from hfnews.cli import run_cli


@dataclass
class BenchArguments:
    source: str | None = field(default=None, metadata={"help": "Corpus source (default $HFNEWS_SOURCE)."})
    models: list[str] = field(
        default_factory=lambda: list(BENCHMARK_MODELS), metadata={"help": "Config names in configs/ to benchmark."}
    )
    runs_dir: str = field(default="runs/bench", metadata={"help": "Where each model's run goes (reused if done)."})
    report: str = field(default="BENCHMARKS.md", metadata={"help": "The Markdown report to write."})
    seeds: list[int] = field(
        default_factory=lambda: [0], metadata={"help": "Trainer seeds; several give mean ± standard deviation."}
    )
    retrain: bool = field(default=False, metadata={"help": "Train again even where a finished run exists."})
    pipeline_batch_size: int = field(default=64, metadata={"help": "Batch size of the pipeline throughput test."})


def main() -> None:
    (args,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses()
    run_benchmark(
        args.models,
        source=args.source,
        runs_dir=args.runs_dir,
        report=args.report,
        seeds=args.seeds,
        retrain=args.retrain,
        pipeline_batch_size=args.pipeline_batch_size,
    )


if __name__ == "__main__":
    run_cli(main)
