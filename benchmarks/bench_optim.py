"""How much faster a training step is with `optim: adamw_torch_fused` than with `adamw_torch`, config by config.

For each config: its model and word tokenizer (built as `scripts/train.py` builds them, on the dev corpus's training
split), then 40 steps of forward, backward and AdamW step on batches of 32 real titles, once with torch's default
AdamW (what `adamw_torch` runs: on CPU, one parameter at a time) and once with the fused one; the median step time of
each (the first 5 steps left out as warm-up) and their ratio. One torch thread, so a neighbour's load does not make
threads wait on each other.

    python benchmarks/bench_optim.py --source ../shared/data/newsCorpora-dev.csv cnn rnn birnn bert
"""

import argparse
import statistics
import time
from pathlib import Path

import torch
import yaml

from hfnews.data.arguments import DataArguments
from hfnews.data.corpus import load_news_corpus
from hfnews.models.arguments import ModelArguments
from hfnews.models.factory import build_model, build_tokenizer
from hfnews.training.arguments import CONFIG_DIR


DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "newsCorpora-dev.csv"
STEPS, WARM_UP, BATCH = 40, 5, 32


def step_seconds(model_args: ModelArguments, tokenizer, titles: list[str], labels: list[str], fused: bool) -> float:
    """Median seconds of one training step (forward, backward, AdamW step) of a fresh model."""
    model, _ = build_model(model_args, tokenizer, labels, seed=0)
    model.train()
    # fused=None leaves torch's default, as the Trainer's adamw_torch does (the one-tensor-at-a-time loop on CPU).
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=fused or None)
    times = []
    for step in range(STEPS):
        batch = tokenizer(titles[step * BATCH : (step + 1) * BATCH], padding=True, truncation=True, max_length=64,
                          return_tensors="pt")  # fmt: skip
        batch.pop("token_type_ids", None)
        targets = torch.randint(0, len(labels), (batch["input_ids"].shape[0],))
        started = time.perf_counter()
        model(**batch, labels=targets).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - started)
    return statistics.median(times[WARM_UP:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="+", help="config names in configs/")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="the corpus (newsCorpora-dev.csv)")
    cli = parser.parse_args()
    torch.set_num_threads(1)
    dataset = load_news_corpus(cli.source, seed=0).dataset
    titles, labels = dataset["train"]["text"][:], dataset["train"].features["label"].names
    print("| config | adamw_torch step (ms) | adamw_torch_fused step (ms) | speed-up |\n|---|---:|---:|---:|")
    for name in cli.configs:
        config = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
        model_args = ModelArguments(**{key: config[key] for key in config if key in ModelArguments.__dataclass_fields__
                                       and key != "teacher_name_or_path"})  # fmt: skip
        data_args = DataArguments(**{key: config[key] for key in config if key in DataArguments.__dataclass_fields__})
        tokenizer = build_tokenizer(model_args, data_args, titles)
        plain, fused = (step_seconds(model_args, tokenizer, titles, labels, fused) for fused in (False, True))
        print(f"| `{name}` | {plain * 1000:.1f} | {fused * 1000:.1f} | {plain / fused:.2f} |", flush=True)


if __name__ == "__main__":
    main()
