"""What the Trainer path costs over a hand-written PyTorch loop, and how fast `pipeline()` classifies headlines.

Part 1 trains the CNN of `configs/cnn.yaml` for one epoch twice through `hfnews.training.trainer.build_trainer`
and twice through a minimal loop, interleaved, and prints the ratio of the best times (target: at most 1.25). Both
sides get the same initial weights (same seed), the same encoded training split and `DataCollatorWithPadding`
batches, the same batch size, the same AdamW (`optim`, learning rate, betas, epsilon and weight decay of the
config; the Trainer puts biases in
a second parameter group without weight decay, which at the configs' weight decay 0 changes nothing), the same
learning-rate schedule and the same gradient clipping (`max_grad_norm`, 1.0 unless overridden: the loop clips only
when the Trainer does). The Trainer neither evaluates, saves nor logs (`eval_strategy`, `save_strategy` and
`logging_strategy` "no", `disable_tqdm`); only `trainer.train()` is timed, and the loop is timed from building its
data loader, optimizer and schedule, which `train()` also builds.

Part 2 saves an untrained CNN and RNN (the shapes of `configs/cnn.yaml` and `configs/rnn.yaml`) with the word
tokenizer and times `pipeline("text-classification", model=folder)` over the validation headlines.

    python benchmarks/bench_overhead.py --source ../shared/data/newsCorpora-dev.csv

On a machine busy with other work, `--threads 1` keeps torch's threads from waiting on each other (with two threads on
two busy cores a step can take ten times longer, on either side, which drowns the comparison).
"""

import argparse
import dataclasses
import logging
import tempfile
import time
from pathlib import Path

import datasets
import torch
import transformers
from torch.utils.data import DataLoader
from transformers import (
    DataCollatorWithPadding,
    HfArgumentParser,
    TrainingArguments,
    get_scheduler,
    pipeline,
    set_seed,
)

from hfnews.cli import run_cli
from hfnews.data.arguments import DataArguments
from hfnews.models.arguments import ModelArguments
from hfnews.models.factory import build_model
from hfnews.training.arguments import CONFIG_DIR, NewsTrainingArguments, read_config
from hfnews.training.run import Experiment, prepare_experiment
from hfnews.training.trainer import build_trainer


DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "newsCorpora-dev.csv"
TARGET_RATIO = 1.25
OPTIMIZERS = ("adamw_torch", "adamw_torch_fused")  # the Trainer optimizers the hand loop can reproduce
# Only the training epoch is timed: no evaluation, checkpoints, logs or progress bar.
TIMING_OVERRIDES = {
    "eval_strategy": "no",
    "save_strategy": "no",
    "logging_strategy": "no",
    "load_best_model_at_end": False,
    "disable_tqdm": True,
    "report_to": "none",
}


def parse_config(name: str, overrides: dict) -> tuple[ModelArguments, DataArguments, TrainingArguments]:
    """The three argument dataclasses from `configs/NAME.yaml` with `overrides` on top."""
    values = {**read_config(CONFIG_DIR / f"{name}.yaml"), **overrides}
    parser = HfArgumentParser((ModelArguments, DataArguments, NewsTrainingArguments))
    return parser.parse_dict(values)


def fresh_model(experiment: Experiment, model_args: ModelArguments, seed: int) -> torch.nn.Module:
    """The same initial weights every time: the seed is set right before the model is built."""
    set_seed(seed)
    model, _ = build_model(model_args, experiment.tokenizer, experiment.label_names, seed)
    return model


def time_trainer(experiment: Experiment, model_args: ModelArguments, args: TrainingArguments) -> tuple[float, float]:
    """Seconds of `trainer.train()` and its mean training loss."""
    trainer = build_trainer(
        dataclasses.replace(experiment, model=fresh_model(experiment, model_args, args.seed)), args
    )
    start = time.perf_counter()
    result = trainer.train()
    return time.perf_counter() - start, result.training_loss


def time_loop(experiment: Experiment, model_args: ModelArguments, args: TrainingArguments) -> tuple[float, float]:
    """Seconds of a minimal loop doing what the Trainer does per step, and its mean training loss."""
    model = fresh_model(experiment, model_args, args.seed).to(args.device)
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(
        experiment.encoded["train"],
        batch_size=args.per_device_train_batch_size,
        shuffle=True,
        generator=generator,
        collate_fn=DataCollatorWithPadding(experiment.tokenizer),
    )
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=args.learning_rate,
        betas=(args.adam_beta1, args.adam_beta2),
        eps=args.adam_epsilon,
        weight_decay=args.weight_decay,
        fused=args.optim == "adamw_torch_fused" or None,
    )
    steps = len(loader) * int(args.num_train_epochs)
    scheduler = get_scheduler(
        args.lr_scheduler_type, optimizer, num_warmup_steps=args.get_warmup_steps(steps), num_training_steps=steps
    )
    model.train()
    total = torch.zeros((), device=args.device)
    for _ in range(int(args.num_train_epochs)):
        for batch in loader:
            loss = model(**{key: value.to(args.device) for key, value in batch.items()}).loss
            loss.backward()
            if args.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            total += loss.detach()
    mean_loss = total.item() / steps
    return time.perf_counter() - start, mean_loss


def bench_training(cli: argparse.Namespace, output_dir: str) -> None:
    overrides = {
        **TIMING_OVERRIDES,
        "output_dir": output_dir,
        "source": str(cli.source),
        "max_train_samples": cli.max_train_samples,
        "num_train_epochs": cli.epochs,
        **{name: value for name in ("optim", "max_grad_norm") if (value := getattr(cli, name)) is not None},
    }
    model_args, data_args, args = parse_config("cnn", overrides)
    if args.optim not in OPTIMIZERS:
        raise ValueError(f"the hand loop reproduces only {', '.join(OPTIMIZERS)}, not optim {args.optim.value!r}")
    experiment = prepare_experiment(model_args, data_args, args)
    train_rows = len(experiment.encoded["train"])
    print(
        f"CNN {model_args.kernel_sizes}x{model_args.num_filters} d_w {experiment.model.config.embedding_dim}, "
        f"vocabulary {len(experiment.tokenizer):,}; {train_rows:,} training headlines, batch size "
        f"{args.per_device_train_batch_size}, {args.num_train_epochs:g} epoch(s), {args.optim.value}, "
        f"lr {args.learning_rate}, max_grad_norm {args.max_grad_norm}, device {args.device}, "
        f"{torch.get_num_threads()} torch threads"
    )
    timings: dict[str, list[float]] = {"Trainer": [], "hand loop": []}
    for run in range(1, cli.repeats + 1):
        for name, timer in (("Trainer", time_trainer), ("hand loop", time_loop)):
            seconds, loss = timer(experiment, model_args, args)
            timings[name].append(seconds)
            print(f"  run {run} {name:<10} {seconds:7.2f} s  ({train_rows / seconds:8,.0f} headlines/s, "
                  f"mean loss {loss:.4f})")  # fmt: skip
    best = {name: min(values) for name, values in timings.items()}
    ratio = best["Trainer"] / best["hand loop"]
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(
        f"best of {cli.repeats}: Trainer {best['Trainer']:.2f} s, hand loop {best['hand loop']:.2f} s; "
        f"ratio {ratio:.3f} ({verdict} the target {TARGET_RATIO})"
    )


def bench_pipeline(cli: argparse.Namespace, output_dir: str) -> None:
    overrides = {
        "output_dir": output_dir,
        "source": str(cli.source),
        "max_eval_samples": cli.max_eval_samples,
        "report_to": "none",
    }
    model_args, data_args, args = parse_config("cnn", overrides)
    experiment = prepare_experiment(model_args, data_args, args)  # the corpus and tokenizer both models share
    texts = list(experiment.dataset["validation"]["text"])
    batch_size = cli.pipeline_batch_size
    for name in ("cnn", "rnn"):
        model_args = parse_config(name, overrides)[0]
        folder = Path(output_dir) / name
        model = fresh_model(experiment, model_args, args.seed)
        model.save_pretrained(folder)
        experiment.tokenizer.save_pretrained(folder)
        classifier = pipeline("text-classification", model=str(folder), device=args.device)
        classifier(texts[:batch_size], batch_size=batch_size)  # warm-up
        best = float("inf")
        for _ in range(cli.repeats):
            start = time.perf_counter()
            predictions = classifier(texts, batch_size=batch_size)
            best = min(best, time.perf_counter() - start)
        assert len(predictions) == len(texts)
        shape = (
            f"{model_args.cell} d_h {model_args.hidden_size}" if name == "rnn" else f"{model_args.num_filters} filters"
        )
        print(
            f"pipeline {name.upper()} ({shape}, d_w {model.config.embedding_dim}): {len(texts):,} validation "
            f"headlines, batch_size {batch_size}, best of {cli.repeats}: {best:.2f} s = "
            f"{len(texts) / best:,.0f} headlines/s (device {args.device})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the corpus (a newsCorpora.csv or zip)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per timed run")
    parser.add_argument("--max_train_samples", type=int, default=None, help="train on the first N headlines only")
    parser.add_argument("--max_eval_samples", type=int, default=None, help="classify the first N validation headlines")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each side (the best counts)")
    parser.add_argument("--optim", choices=OPTIMIZERS, help="override the config's optimizer on both sides")
    parser.add_argument("--max_grad_norm", type=float, default=None, help="override the clipping on both sides")
    parser.add_argument("--pipeline_batch_size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--skip", choices=("training", "pipeline"), help="leave out one of the two benchmarks")
    cli = parser.parse_args()
    # Only the measurements: no progress bars or model-size lines between them.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("hfnews").setLevel(logging.WARNING)
    if cli.threads is not None:
        torch.set_num_threads(cli.threads)  # on a busy machine, fewer threads than cores avoids stalls
    if not cli.source.exists():
        raise FileNotFoundError(f"{cli.source} not found; pass --source path/to/newsCorpora-dev.csv")
    with tempfile.TemporaryDirectory(prefix="bench_overhead_") as tmp:
        if cli.skip != "training":
            bench_training(cli, tmp)
        if cli.skip != "pipeline":
            bench_pipeline(cli, tmp)


if __name__ == "__main__":
    run_cli(main)
