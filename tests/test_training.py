"""`scripts/train.py` end to end: real runs on slices of the development corpus, resume, several processes, errors.

Training runs are real `python scripts/train.py` (or `accelerate launch`) subprocesses, except the Hub upload, which
runs in-process so that the Hub client can be replaced by a fake. Small models train much faster on one thread,
above all on a busy machine, so every run here uses one.
"""

import hashlib
import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from fnmatch import fnmatch
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import transformers.trainer
from datasets import Dataset, DatasetDict
from helpers import DEV_CSV, requires_shared_data
from model_helpers import HEADLINES
from safetensors.torch import load_file
from test_auto_registration import REMOTE_CODE_CHILD, scores_by_label
from training_helpers import assert_predictions_are_the_checkpoints
from transformers import TrainingArguments, pipeline

from hfnews.data.corpus import LABEL_NAMES, load_news_corpus
from hfnews.training.arguments import parse_train_args
from hfnews.training.run import resolve_resume, run_training


REPO = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = REPO / "scripts" / "train.py"
TINY_CONFIG = REPO / "configs" / "tiny.yaml"
TRAIN_ROWS, EVAL_ROWS = 2000, 300
SLICE = ["--source", str(DEV_CSV), "--max_train_samples", str(TRAIN_ROWS), "--max_eval_samples", str(EVAL_ROWS)]
# Small enough to train in seconds, large enough to beat the majority class after two epochs.
QUICK = ["--embedding_dim", "32", "--hidden_size", "32", "--num_filters", "32", "--learning_rate", "0.01",
         "--num_train_epochs", "2", "--classifier_dropout", "0"]  # fmt: skip
HISTORY_KEYS = {"epoch", "train_loss", "train_accuracy", "eval_loss", "eval_accuracy"}
CHECKPOINT_FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
OUTPUT_FILES = CHECKPOINT_FILES | {"metrics.json", "test_predictions.jsonl", "learning_curves.png",
                                   "confusion_matrix.png", "README.md"}  # fmt: skip
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def script_env(cache: Path) -> dict[str, str]:
    """The environment of a training subprocess: offline, one thread, and the given corpus cache."""
    return {**os.environ, "HFNEWS_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
            "TOKENIZERS_PARALLELISM": "false"}  # fmt: skip


def train_command(*args: str) -> list[str]:
    return [sys.executable, str(TRAIN_SCRIPT), *map(str, args)]


def run(command: list[str], cache: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=REPO, env=script_env(cache), capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_succeeded(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-4000:]}"


def read_metrics(output_dir: Path) -> dict:
    return json.loads((output_dir / "metrics.json").read_text())


def checkpoint_kind(output_dir: Path) -> str:
    return json.loads((output_dir / "config.json").read_text())["model_type"].removeprefix("hfnews-")


# ---------------------------------------------------------------------------------------------------------------
# One real run per named model, checked by several tests.


@pytest.fixture(scope="module")
def corpus_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One corpus cache for the module's runs, so the development file is prepared once."""
    return tmp_path_factory.mktemp("train-cache")


@pytest.fixture(scope="module", params=["rnn", "birnn", "cnn"])
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, corpus_cache: Path):
    """`python scripts/train.py --model NAME` on 2,000 training rows for two epochs, with tiny layer sizes."""
    output_dir = tmp_path_factory.mktemp(f"run-{request.param}") / "out"
    done = run(train_command("--model", request.param, *SLICE, *QUICK, "--output_dir", output_dir), corpus_cache)
    assert_succeeded(done)
    return SimpleNamespace(name=request.param, output_dir=output_dir, stdout=done.stdout)


@pytest.fixture(scope="module")
def dev_test_rows(corpus_cache: Path) -> Dataset:
    """The test rows the runs score: the first EVAL_ROWS of the split, read through the runs' own cache."""
    return load_news_corpus(DEV_CSV, cache_dir=corpus_cache).dataset["test"].select(range(EVAL_ROWS))


@pytest.mark.slow
@requires_shared_data
def test_output_folder_holds_checkpoint_metrics_plots_and_card(trained):
    names = {path.name for path in trained.output_dir.iterdir()}
    kind = checkpoint_kind(trained.output_dir)
    assert OUTPUT_FILES | {f"configuration_news_{kind}.py", f"modeling_news_{kind}.py"} <= names
    for plot in ("learning_curves.png", "confusion_matrix.png"):
        assert (trained.output_dir / plot).read_bytes().startswith(PNG_MAGIC)
    assert kind == ("cnn" if trained.name == "cnn" else "rnn")
    config = json.loads((trained.output_dir / "config.json").read_text())
    assert config["embedding_dim"] == 32
    if kind == "rnn":
        assert config["bidirectional"] == (trained.name == "birnn")


@pytest.mark.slow
@requires_shared_data
def test_metrics_json_has_history_and_test_scores_above_the_majority_class(trained):
    metrics = read_metrics(trained.output_dir)
    history = metrics["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    for row in history:
        assert HISTORY_KEYS <= row.keys()
        assert 0 <= row["train_accuracy"] <= 1 and 0 <= row["eval_accuracy"] <= 1
        assert row["train_loss"] > 0 and row["eval_loss"] > 0
    test = metrics["test"]
    assert {"accuracy", "macro_f1", "loss"} <= test.keys()
    matrix = metrics["confusion_matrix"]  # rows: true labels
    assert sum(map(sum, matrix)) == metrics["data"]["test"] == EVAL_ROWS
    assert metrics["data"]["train"] == TRAIN_ROWS
    majority = max(map(sum, matrix)) / EVAL_ROWS
    assert test["accuracy"] > majority + 0.15, (test["accuracy"], majority)
    assert test["accuracy"] == pytest.approx(sum(matrix[i][i] for i in range(len(matrix))) / EVAL_ROWS)


@pytest.mark.slow
@requires_shared_data
def test_each_epoch_prints_one_report_line_and_the_test_scores(trained):
    assert "epoch 1/2  train loss" in trained.stdout and "epoch 2/2  train loss" in trained.stdout
    assert "test accuracy" in trained.stdout


@pytest.mark.slow
@requires_shared_data
def test_output_is_the_epoch_with_the_best_validation_accuracy(trained):
    metrics = read_metrics(trained.output_dir)
    best = max(metrics["history"], key=lambda row: row["eval_accuracy"])
    state = json.loads((trained.output_dir / "trainer_state.json").read_text())
    assert state["best_metric"] == pytest.approx(best["eval_accuracy"])
    best_checkpoint = trained.output_dir / Path(metrics["best_checkpoint"]).name
    assert json.loads((best_checkpoint / "trainer_state.json").read_text())["epoch"] == best["epoch"]
    saved, kept = load_file(trained.output_dir / "model.safetensors"), load_file(best_checkpoint / "model.safetensors")
    assert saved.keys() == kept.keys()
    assert all(torch.equal(saved[name], kept[name]) for name in saved)


@pytest.mark.slow
@requires_shared_data
def test_pipeline_on_the_output_reproduces_the_test_accuracy_with_label_names(trained, dev_test_rows):
    classifier = pipeline("text-classification", model=str(trained.output_dir))
    predictions = classifier(list(dev_test_rows["text"]), batch_size=64)
    assert {prediction["label"] for prediction in predictions} <= set(LABEL_NAMES)
    correct = sum(
        LABEL_NAMES.index(prediction["label"]) == label
        for prediction, label in zip(predictions, dev_test_rows["label"])
    )
    assert correct / EVAL_ROWS == pytest.approx(read_metrics(trained.output_dir)["test"]["accuracy"], abs=1e-9)


@pytest.mark.slow
@requires_shared_data
def test_model_card_describes_data_configuration_metrics_and_usage(trained):
    card = (trained.output_dir / "README.md").read_text(encoding="utf-8")
    metrics = read_metrics(trained.output_dir)
    assert card.startswith("---\n") and "pipeline_tag: text-classification" in card
    checksum = hashlib.sha256(DEV_CSV.read_bytes()).hexdigest()
    assert "## Data" in card and f"`{DEV_CSV.name}`, SHA-256 `{checksum}`" in card and f"{TRAIN_ROWS:,} train" in card
    # No absolute path: the data by name, the snippet's folder relative to where training ran (so it works there).
    location = os.path.relpath(trained.output_dir)
    assert str(DEV_CSV.parent) not in card and card.replace(location, "").count(str(trained.output_dir)) == 0
    assert "## Configuration" in card and '"embedding_dim": 32' in card and '"learning_rate": 0.01' in card
    assert "| class | precision | recall | F1 | support |" in card
    assert f"Accuracy **{metrics['test']['accuracy']:.4f}**" in card
    assert all(f"| {label} |" in card for label in LABEL_NAMES)
    assert f'pipeline("text-classification", model="{location}", trust_remote_code=True)' in card


# ---------------------------------------------------------------------------------------------------------------
# The Hub upload: the usual TrainingArguments/Trainer path, with the Hub client replaced by a folder copy.


class FakeHub:
    """Stands in for `huggingface_hub.HfApi`: `whoami` accepts any token; `upload_folder` copies the folder, skipping
    `ignore_patterns` as the Hub does (fnmatch on paths relative to the folder), into `root/upload-N`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.created: list[str] = []
        self.uploads: list[tuple[str, Path]] = []

    def whoami(self, token=None) -> dict:
        return {"name": "someone"}

    def create_repo(self, repo_id: str, **kwargs) -> SimpleNamespace:
        self.created.append(repo_id)
        return SimpleNamespace(repo_id=repo_id)

    def upload_folder(self, *, repo_id: str, folder_path, ignore_patterns=None, run_as_future=False, **kwargs):
        target = self.root / f"upload-{len(self.uploads)}"
        for file in sorted(Path(folder_path).rglob("*")):
            relative = file.relative_to(folder_path).as_posix()
            if file.is_file() and not any(fnmatch(relative, pattern) for pattern in ignore_patterns or ()):
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, target / relative)
        self.uploads.append((repo_id, target))
        if not run_as_future:
            return SimpleNamespace(commit_url=f"https://huggingface.co/{repo_id}/commit/fake")
        future = Future()
        future.set_result(None)
        return future


def files_under(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.slow
@requires_shared_data
def test_push_to_hub_uploads_the_output_folder_which_loads_without_hfnews(tmp_path, monkeypatch, one_thread):
    hub = FakeHub(tmp_path / "hub")
    monkeypatch.setattr(transformers.trainer, "hf_api", lambda: hub)
    output_dir = tmp_path / "out"
    args = ["--config", str(TINY_CONFIG), "--source", str(DEV_CSV), "--max_train_samples", "500",
            "--max_eval_samples", "100", "--output_dir", str(output_dir), "--push_to_hub",
            "--hub_model_id", "someone/news-cnn"]  # fmt: skip
    _, model_args, data_args, training_args = parse_train_args(args)
    run_training(model_args, data_args, training_args)

    assert hub.created == ["someone/news-cnn"]
    repo_id, uploaded = hub.uploads[-1]
    assert repo_id == "someone/news-cnn"
    local = {name: data for name, data in files_under(output_dir).items() if not name.startswith("checkpoint-")}
    assert files_under(uploaded) == local  # exactly the folder, byte for byte, without the Trainer's checkpoints
    assert OUTPUT_FILES | {"configuration_news_cnn.py", "modeling_news_cnn.py"} <= local.keys()
    assert 'model="someone/news-cnn", trust_remote_code=True' in local["README.md"].decode()

    headlines = [*HEADLINES, "a title made of words it never saw", ""]
    expected = scores_by_label(pipeline("text-classification", model=str(output_dir))(headlines, top_k=None))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), OMP_NUM_THREADS="1")
    child = subprocess.run(
        [sys.executable, "-c", REMOTE_CODE_CHILD, str(uploaded), json.dumps(headlines)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["module"].startswith("transformers_modules.")
    for got, want in zip(scores_by_label(result["predictions"]), expected, strict=True):
        assert got.keys() == want.keys() == set(LABEL_NAMES)
        assert all(got[label] == pytest.approx(want[label], abs=1e-6) for label in want)


# ---------------------------------------------------------------------------------------------------------------
# Resuming a killed run, and several processes.

RESUME_ARGS = ["--config", TINY_CONFIG, "--source", DEV_CSV, "--max_train_samples", "3000", "--max_eval_samples",
               "300", "--num_train_epochs", "3", "--classifier_dropout", "0.3", "--seed", "7"]  # fmt: skip
STEPS_PER_EPOCH = -(-3000 // 32)


def wait_for_first_checkpoint(process: subprocess.Popen, output_dir: Path, timeout: float = 240) -> Path:
    """Poll until a checkpoint's trainer_state.json (written last) is complete; return that checkpoint."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for state in output_dir.glob("checkpoint-*/trainer_state.json"):
            try:
                json.loads(state.read_text())
            except (OSError, ValueError):  # still being written
                continue
            return state.parent
        if process.poll() is not None:
            pytest.fail(f"training ended (exit {process.returncode}) before its first checkpoint")
        time.sleep(0.01)
    pytest.fail(f"no checkpoint in {output_dir} after {timeout}s")


@requires_shared_data
@pytest.mark.slow
def test_resume_after_kill_gives_the_same_result_as_an_uninterrupted_run(tmp_path, corpus_cache):
    assert_succeeded(run(train_command(*RESUME_ARGS, "--output_dir", tmp_path / "whole"), corpus_cache))

    killed = tmp_path / "killed"
    process = subprocess.Popen(
        train_command(*RESUME_ARGS, "--output_dir", killed), cwd=REPO, env=script_env(corpus_cache),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        checkpoint = wait_for_first_checkpoint(process, killed)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert checkpoint.name == f"checkpoint-{STEPS_PER_EPOCH}"  # killed during the second epoch
    assert checkpoint.is_dir() and not (killed / "metrics.json").exists()
    last = TrainingArguments(output_dir=str(killed), resume_from_checkpoint="last")
    assert resolve_resume(last) == str(checkpoint)

    resumed = run(train_command(*RESUME_ARGS, "--output_dir", killed, "--resume_from_checkpoint", checkpoint),
                  corpus_cache)  # fmt: skip
    assert_succeeded(resumed)
    # It went on from the checkpoint: the first epoch was not trained again.
    assert "epoch 1/3 " not in resumed.stdout and "epoch 2/3 " in resumed.stdout and "epoch 3/3 " in resumed.stdout
    assert_same_results(read_metrics(killed), read_metrics(tmp_path / "whole"))


def assert_same_results(again: dict, whole: dict) -> None:
    """A resumed run's metrics.json against an uninterrupted run's: the same scores, epoch by epoch."""
    assert again["test"]["accuracy"] == whole["test"]["accuracy"]
    assert again["test"]["loss"] == pytest.approx(whole["test"]["loss"], abs=1e-5)
    assert len(again["history"]) == len(whole["history"]) == 3
    for got, want in zip(again["history"], whole["history"]):
        assert got.keys() == want.keys()
        assert all(got[key] == pytest.approx(want[key], abs=1e-5) for key in want)
    assert Path(again["best_checkpoint"]).name == Path(whole["best_checkpoint"]).name


@requires_shared_data
@pytest.mark.slow
@pytest.mark.parametrize(
    ("launcher", "steps"),
    [
        # accelerate's `--multi_gpu` launcher starts two processes with torchrun; on a machine without a GPU hfnews
        # sets `use_cpu`, so they share the work over gloo: each step takes a batch of 32 in each process.
        (["--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--main_process_port", "0"], -(-400 // 64)),
    ],
    ids=["multi_gpu-launcher-on-cpu"],
)
def test_accelerate_launch_with_two_processes_completes(tmp_path, corpus_cache, launcher, steps):
    output_dir = tmp_path / "out"
    launch = [sys.executable, "-m", "accelerate.commands.launch", *launcher, "--mixed_precision", "no",
              "--dynamo_backend", "no"]  # fmt: skip
    # Grouped by length, evaluation batches come back out of order from each process: the predictions file must
    # still pair each title with its own prediction (issue 19).
    args = ["--config", TINY_CONFIG, "--architecture", "cnn", "--source", DEV_CSV, "--max_train_samples", "400",
            "--max_eval_samples", "100", "--output_dir", output_dir, "--train_sampling_strategy", "group_by_length",
            "--per_device_eval_batch_size", "16"]  # fmt: skip
    assert_succeeded(run([*launch, str(TRAIN_SCRIPT), *map(str, args)], corpus_cache, timeout=400))
    test_texts = load_news_corpus(DEV_CSV).dataset["test"]["text"][:100]
    assert_predictions_are_the_checkpoints(output_dir, test_texts)

    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == steps
    metrics = read_metrics(output_dir)
    assert sum(map(sum, metrics["confusion_matrix"])) == 100  # every test row scored once, none twice
    classifier = pipeline("text-classification", model=str(output_dir))
    assert classifier(HEADLINES[0])[0]["label"] in LABEL_NAMES


@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher", [["--cpu", "--num_processes", "2"], ["--num_processes", "2"]], ids=["cpu", "plain"]
)
def test_accelerate_launch_of_two_processes_that_starts_one_is_refused(tmp_path, tiny_csv, launcher):
    """accelerate's simple launcher runs `--num_processes 2` without `--multi_gpu` as one process (issue 19)."""
    launch = [sys.executable, "-m", "accelerate.commands.launch", *launcher, "--mixed_precision", "no",
              "--dynamo_backend", "no"]  # fmt: skip
    args = ["--config", TINY_CONFIG, "--source", tiny_csv, "--output_dir", tmp_path / "out"]
    done = run([*launch, str(TRAIN_SCRIPT), *map(str, args)], tmp_path / "cache", timeout=200)
    assert done.returncode != 0  # the script's 2, which accelerate's launcher reports as its own failure
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert "asked for 2 processes but started this process alone" in line
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------------------------
# Bad arguments end with one line on stderr and exit status 2, without a traceback.


def no_columns_dataset(folder: Path) -> Path:
    """A saved DatasetDict whose splits have `title`/`category` instead of `text`/`label`."""
    split = Dataset.from_dict({"title": ["Stocks rally"], "category": ["b"]})
    DatasetDict({"train": split, "validation": split, "test": split}).save_to_disk(str(folder))
    return folder


def not_a_checkpoint(folder: Path) -> Path:
    folder.mkdir()
    (folder / "notes.txt").write_text("not a checkpoint")
    return folder


# name -> (tmp_path, source) -> (arguments after --output_dir, text the error line must hold)
BAD_ARGUMENTS = {
    "missing config": lambda tmp, source: (["--config", tmp / "absent.yaml"], f"not found: {tmp / 'absent.yaml'}"),
    "dataset without columns": lambda tmp, source: (
        ["--model", "tiny", "--dataset", no_columns_dataset(tmp / "data")],
        "lacks the column(s) text, label",
    ),
    "resume from a folder that is no checkpoint": lambda tmp, source: (
        ["--model", "tiny", "--resume_from_checkpoint", not_a_checkpoint(tmp / "x")],
        f"{tmp / 'x'} is not a Trainer",
    ),
    "resume last without checkpoints": lambda tmp, source: (
        ["--model", "tiny", "--resume_from_checkpoint", "last"],
        "no checkpoint to resume from",
    ),
    "model_name_or_path that is no checkpoint": lambda tmp, source: (
        ["--model", "tiny", "--source", source, "--model_name_or_path", not_a_checkpoint(tmp / "x")],
        f"{tmp / 'x'} is not a model checkpoint",
    ),
}


@pytest.mark.slow
def test_unknown_model_ends_the_process_with_one_error_line_and_status_2(tmp_path):
    done = run(train_command("--model", "no_such_model", "--output_dir", tmp_path / "out"), tmp_path / "cache")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("error: unknown model 'no_such_model': no configs/no_such_model.yaml (known: ")
    assert "tiny" in done.stderr


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments_end_with_one_error_line_and_status_2(case, tmp_path, tiny_csv, monkeypatch, capsys):
    """Through the script itself, run in-process (`runpy`) to spare a Python start per case."""
    args, expected = BAD_ARGUMENTS[case](tmp_path, tiny_csv)
    monkeypatch.setattr(sys, "argv", [str(TRAIN_SCRIPT), "--output_dir", str(tmp_path / "out"), *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:  # any other exception would end in a traceback
        runpy.run_path(str(TRAIN_SCRIPT), run_name="__main__")
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: ") and expected in error, error
    assert not (tmp_path / "out").exists()
