"""Damaged files never pass silently: every file hfnews writes and reads back is damaged here the way a kill or a
full disk leaves it (cut short, empty, missing), and must be rebuilt with a warning, skipped for the last good one,
or refused in one `error:` line that names it.
"""

import json
import logging
import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import transformers
from helpers import DAMAGES, KEPT_PUBLISHERS, TINY_TITLES, corpus_line, requires_shared_data
from test_training import (
    REPO,
    RESUME_ARGS,
    STEPS_PER_EPOCH,
    TINY_CONFIG,
    TRAIN_SCRIPT,
    assert_same_results,
    assert_succeeded,
    read_metrics,
    run,
    script_env,
    train_command,
)
from transformers import TrainingArguments

from hfnews.data.corpus import load_news_corpus
from hfnews.data.tokenization import train_word_tokenizer
from hfnews.errors import HfnewsError
from hfnews.integrity import DamagedFileError, atomic_write, staged_folder, verify_manifest, write_manifest
from hfnews.models import NewsCNNConfig, NewsCNNForSequenceClassification
from hfnews.models.model_files import check_checkpoint
from hfnews.training.arguments import parse_train_args
from hfnews.training.run import resolve_resume, run_training


PREDICT_SCRIPT = REPO / "scripts" / "predict.py"
CHECKPOINT_FILES = ["model.safetensors", "optimizer.pt", "scheduler.pt", "trainer_state.json", "config.json"]
TINY_STEPS_PER_EPOCH = 4  # 32 training rows, batches of 8


def write_tiny_source(folder: Path) -> Path:
    """The 32 hand-written headlines as a newsCorpora.csv of the five kept publishers."""
    path = folder / "newsCorpora.csv"
    lines = [corpus_line(i + 1, cat, title, KEPT_PUBLISHERS[i % 5]) for i, (cat, title) in enumerate(TINY_TITLES)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def tiny_training_args(source: Path, output_dir: Path, *extra: str) -> list:
    return ["--config", TINY_CONFIG, "--source", source, "--output_dir", output_dir, "--num_train_epochs", "3",
            "--per_device_train_batch_size", "8", "--save_total_limit", "2", *extra]  # fmt: skip


def train_in_process(args: list) -> dict:
    _, model_args, data_args, training_args = parse_train_args([str(arg) for arg in args])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models train faster on one thread (see test_training)
    try:
        return run_training(model_args, data_args, training_args)
    finally:
        torch.set_num_threads(threads)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


# ---------------------------------------------------------------------------------------------------------------
# The corpus cache: a damaged entry is rebuilt, with one warning, into the same corpus.


def cached_entry() -> Path:
    (entry,) = (Path(os.environ["HFNEWS_CACHE"]) / "corpus").iterdir()
    return entry


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("target", ["dataset/train/data-*.arrow", "report.json", "manifest.json"])
def test_damaged_corpus_cache_is_rebuilt_with_one_warning(tiny_csv, caplog, damage, target):
    first = load_news_corpus(tiny_csv)
    (path,) = cached_entry().glob(target)
    DAMAGES[damage](path)

    with caplog.at_level(logging.WARNING):
        again = load_news_corpus(tiny_csv)
    assert not again.from_cache
    (warning,) = warnings_of(caplog)
    assert warning.startswith(f"corpus cache damaged, rebuilding it from {tiny_csv}: {path}")
    assert "\n" not in warning
    for split in first.dataset:
        assert again.dataset[split].to_list() == first.dataset[split].to_list()
    caplog.clear()
    assert load_news_corpus(tiny_csv).from_cache and not warnings_of(caplog)  # the rebuilt entry is whole again


def test_corpus_cache_records_rows_per_split_and_every_files_checksum(tiny_csv):
    corpus = load_news_corpus(tiny_csv)
    records = verify_manifest(cached_entry())
    assert records["rows"] == {name: len(split) for name, split in corpus.dataset.items()} == {
        "train": 32, "validation": 4, "test": 4,
    }  # fmt: skip
    manifest = json.loads((cached_entry() / "manifest.json").read_text())
    assert {"report.json", "dataset/dataset_dict.json", "dataset/train/state.json"} <= manifest["files"].keys()
    assert any(name.endswith(".arrow") for name in manifest["files"])


# ---------------------------------------------------------------------------------------------------------------
# Writes: a temporary name, renamed when complete.


def test_atomic_write_interrupted_keeps_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text('{"old": 1}')
    with pytest.raises(RuntimeError), atomic_write(path) as stream:
        stream.write('{"new": ')
        raise RuntimeError("killed mid-write")
    assert path.read_text() == '{"old": 1}'
    assert [child.name for child in tmp_path.iterdir()] == ["metrics.json"]
    with atomic_write(path) as stream:
        stream.write('{"new": 2}')
    assert json.loads(path.read_text()) == {"new": 2}


def test_staged_folder_interrupted_leaves_nothing_under_the_final_name(tmp_path):
    with pytest.raises(RuntimeError), staged_folder(tmp_path / "entry") as staging:
        (staging / "half.arrow").write_bytes(b"\0" * 10)
        raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []
    with staged_folder(tmp_path / "entry") as staging:
        (staging / "whole.arrow").write_bytes(b"\1")
    assert [path.name for path in tmp_path.iterdir()] == ["entry"]
    assert (tmp_path / "entry" / "whole.arrow").read_bytes() == b"\1"


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints: written under tmp-checkpoint-N and renamed; resuming picks the newest complete one.


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 3-epoch run on the tiny corpus, keeping 2 checkpoints: the output folder."""
    root = tmp_path_factory.mktemp("tiny-run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HFNEWS_CACHE", str(root / "cache"))
        train_in_process(tiny_training_args(write_tiny_source(root), root / "out"))
    return root / "out"


@pytest.fixture
def run_copy(tiny_run: Path, tmp_path: Path) -> Path:
    """A copy of the tiny run's output folder, to damage."""
    return Path(shutil.copytree(tiny_run, tmp_path / "out"))


def checkpoints_in(output_dir: Path) -> list[Path]:
    return sorted(output_dir.glob("checkpoint-*"), key=lambda path: int(path.name.split("-")[1]))


def test_staged_checkpoints_are_complete_rotated_and_track_the_best(tiny_run):
    assert not list(tiny_run.glob("tmp-*"))
    checkpoints = checkpoints_in(tiny_run)
    metrics = read_metrics(tiny_run)
    best = Path(metrics["best_checkpoint"])
    assert best.parent == tiny_run and best in checkpoints  # the final name, never the staging folder
    assert checkpoints[-1].name == f"checkpoint-{3 * TINY_STEPS_PER_EPOCH}"
    assert len(checkpoints) == 2  # save_total_limit, with the best one kept
    for checkpoint in checkpoints:
        check_checkpoint(checkpoint)
        state = json.loads((checkpoint / "trainer_state.json").read_text())
        assert state["global_step"] == int(checkpoint.name.split("-")[1])
        assert state["best_model_checkpoint"] is None or Path(state["best_model_checkpoint"]).parent == tiny_run


def test_crash_while_writing_a_checkpoint_leaves_no_checkpoint_under_its_name(tmp_path, monkeypatch, caplog):
    original = transformers.Trainer._save_optimizer_and_scheduler

    def crash_at_second_checkpoint(self, output_dir):
        if self.state.global_step == 2 * TINY_STEPS_PER_EPOCH:
            raise RuntimeError("killed while writing the optimizer")
        original(self, output_dir)

    monkeypatch.setattr(transformers.Trainer, "_save_optimizer_and_scheduler", crash_at_second_checkpoint)
    output_dir = tmp_path / "out"
    with pytest.raises(RuntimeError, match="killed while writing"):
        train_in_process(tiny_training_args(write_tiny_source(tmp_path), output_dir, "--num_train_epochs", "2"))
    first = output_dir / f"checkpoint-{TINY_STEPS_PER_EPOCH}"
    assert checkpoints_in(output_dir) == [first]
    assert (output_dir / f"tmp-checkpoint-{2 * TINY_STEPS_PER_EPOCH}").is_dir()  # the half-written one
    with caplog.at_level(logging.WARNING):
        assert resolve_resume(TrainingArguments(str(output_dir), resume_from_checkpoint="last")) == str(first)
    assert not warnings_of(caplog)

    monkeypatch.undo()
    (output_dir / "tmp-checkpoint-999").mkdir()  # left by an older kill at another step
    resume = ["--num_train_epochs", "2", "--resume_from_checkpoint", "last"]
    train_in_process(tiny_training_args(tmp_path / "newsCorpora.csv", output_dir, *resume))
    assert not list(output_dir.glob("tmp-*"))  # the first write of the resumed run cleared what kills left
    assert checkpoints_in(output_dir)[-1].name == f"checkpoint-{2 * TINY_STEPS_PER_EPOCH}"


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", CHECKPOINT_FILES)
def test_resume_last_skips_an_incomplete_newer_checkpoint_with_a_warning(run_copy, caplog, name, damage):
    older, newer = checkpoints_in(run_copy)
    DAMAGES[damage](newer / name)
    with caplog.at_level(logging.WARNING):
        assert resolve_resume(TrainingArguments(str(run_copy), resume_from_checkpoint="last")) == str(older)
    (warning,) = warnings_of(caplog)
    assert warning.startswith(f"skipping incomplete checkpoint {newer}: {newer / name} ")
    assert newer.is_dir()  # left in place


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("name", CHECKPOINT_FILES)
def test_resume_from_an_incomplete_checkpoint_names_the_file(run_copy, name, damage):
    newer = checkpoints_in(run_copy)[-1]
    DAMAGES[damage](newer / name)
    with pytest.raises(HfnewsError) as error:
        resolve_resume(TrainingArguments(str(run_copy), resume_from_checkpoint=str(newer)))
    message = str(error.value)
    if name == "trainer_state.json" and damage == "missing":  # then it is no Trainer checkpoint at all
        assert message == f"{newer} is not a Trainer checkpoint (no trainer_state.json); pass checkpoint-N"
    else:
        assert message.startswith(f"checkpoint {newer} is incomplete: {newer / name} ")
        assert message.endswith("resume from an earlier one or pass last")


def test_resume_last_without_a_complete_checkpoint_is_an_error(run_copy, caplog):
    for checkpoint in checkpoints_in(run_copy):
        DAMAGES["truncated"](checkpoint / "model.safetensors")
    with caplog.at_level(logging.WARNING), pytest.raises(HfnewsError, match="no checkpoint to resume from"):
        resolve_resume(TrainingArguments(str(run_copy), resume_from_checkpoint="last"))
    assert len(warnings_of(caplog)) == 2


def run_script(script: Path, args: list, monkeypatch, capsys) -> str:
    """Run a script in-process (`runpy`) expecting exit status 2; return its stderr."""
    monkeypatch.setattr(sys, "argv", [str(script), *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:  # any other exception would end in a traceback
        runpy.run_path(str(script), run_name="__main__")
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_train_script_resuming_a_truncated_checkpoint_is_one_error_line(run_copy, monkeypatch, capsys):
    newer = checkpoints_in(run_copy)[-1]
    DAMAGES["truncated"](newer / "model.safetensors")
    args = ["--output_dir", run_copy, "--model", "tiny", "--resume_from_checkpoint", newer]
    error = run_script(TRAIN_SCRIPT, args, monkeypatch, capsys).strip().splitlines()[-1]
    assert error.startswith(f"error: checkpoint {newer} is incomplete: {newer / 'model.safetensors'} is damaged")


# ---------------------------------------------------------------------------------------------------------------
# Model folders (predict --model, --model_name_or_path, a teacher): one error line naming the file.


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    """A tiny CNN checkpoint with its word tokenizer, as scripts/train.py leaves it."""
    tokenizer = train_word_tokenizer([title for _, title in TINY_TITLES])
    labels = {"id2label": {0: "business", 1: "health"}, "label2id": {"business": 0, "health": 1}}
    config = NewsCNNConfig(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, embedding_dim=8, num_filters=4, **labels
    )
    folder = tmp_path / "model"
    NewsCNNForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


MODEL_DAMAGES = [
    *[("model.safetensors", damage, "") for damage in DAMAGES],
    ("config.json", "truncated", "is not JSON"),
    ("config.json", "empty", "is empty"),
    ("tokenizer.json", "missing", "is missing (the folder has no tokenizer)"),
    ("tokenizer.json", "truncated", "is not JSON"),
    ("tokenizer_config.json", "empty", "is empty"),
]


@pytest.mark.parametrize(("name", "damage", "problem"), MODEL_DAMAGES)
def test_predict_on_a_damaged_model_folder_is_one_error_line(model_folder, monkeypatch, capsys, name, damage, problem):
    DAMAGES[damage](model_folder / name)
    stderr = run_script(PREDICT_SCRIPT, ["--model", model_folder, "--texts", "Fed raises rates"], monkeypatch, capsys)
    assert "Traceback" not in stderr
    line = stderr.strip().splitlines()[-1]  # after the progress bar of loading the weights, when they are whole
    assert line.startswith(f"error: model folder {model_folder} is damaged: {model_folder / name} {problem}")
    assert line.endswith("save or copy it again, or pass another checkpoint")


def test_starting_from_a_truncated_checkpoint_is_one_error_line(model_folder, tiny_csv, tmp_path, monkeypatch, capsys):
    DAMAGES["truncated"](model_folder / "model.safetensors")
    args = ["--output_dir", tmp_path / "out", "--model", "tiny", "--source", tiny_csv,
            "--model_name_or_path", model_folder]  # fmt: skip
    error = run_script(TRAIN_SCRIPT, args, monkeypatch, capsys).strip().splitlines()[-1]
    assert error.startswith(f"error: model folder {model_folder} is damaged: {model_folder / 'model.safetensors'}")


def test_damaged_file_error_names_the_file(tmp_path):
    path = tmp_path / "logits.safetensors"
    path.write_bytes(b"\x08")
    error = DamagedFileError(path, "is empty")
    assert isinstance(error, HfnewsError) and error.path == path and str(error) == f"{path} is empty"


# ---------------------------------------------------------------------------------------------------------------
# A real run SIGKILLed while it writes a checkpoint resumes from the previous one, to the uninterrupted result.

# Loaded by the training child through PYTHONPATH (never by hfnews): holds the write of the second checkpoint after
# its weights, so that the kill lands inside the write every time.
PAUSE_SHIM = """
import os, time
import transformers

_save = transformers.Trainer._save_optimizer_and_scheduler

def _paused(self, output_dir):
    if self.state.global_step == int(os.environ["PAUSE_AT_STEP"]):
        open(os.environ["PAUSE_MARKER"], "w").close()
        time.sleep(600)
    _save(self, output_dir)

transformers.Trainer._save_optimizer_and_scheduler = _paused
"""


@pytest.mark.slow
@requires_shared_data
def test_sigkill_during_a_checkpoint_write_resumes_from_the_previous_one(tmp_path):
    cache = tmp_path / "cache"
    assert_succeeded(run(train_command(*RESUME_ARGS, "--output_dir", tmp_path / "whole"), cache))

    shim, marker, killed = tmp_path / "shim", tmp_path / "paused", tmp_path / "killed"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(PAUSE_SHIM)
    env = script_env(cache)
    env.update(PYTHONPATH=os.pathsep.join([str(shim), env.get("PYTHONPATH", "")]), PAUSE_MARKER=str(marker),
               PAUSE_AT_STEP=str(2 * STEPS_PER_EPOCH))  # fmt: skip
    process = subprocess.Popen(train_command(*RESUME_ARGS, "--output_dir", killed), cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"the run never reached its second checkpoint (exit {process.poll()})"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    second = f"checkpoint-{2 * STEPS_PER_EPOCH}"
    assert [path.name for path in checkpoints_in(killed)] == [f"checkpoint-{STEPS_PER_EPOCH}"]
    assert (killed / f"tmp-{second}" / second / "model.safetensors").is_file()  # killed mid-write, out of sight

    resumed = run(train_command(*RESUME_ARGS, "--output_dir", killed, "--resume_from_checkpoint", "last"), cache)
    assert_succeeded(resumed)
    assert "epoch 1/3 " not in resumed.stdout and "epoch 2/3 " in resumed.stdout and "epoch 3/3 " in resumed.stdout
    assert not list(killed.glob("tmp-*"))  # the next write of that step cleared the half-written one
    assert_same_results(read_metrics(killed), read_metrics(tmp_path / "whole"))


def test_a_file_written_empty_verifies_and_one_emptied_since_is_named(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "full.txt").write_text("headline\n")
    write_manifest(tmp_path, rows=1)
    assert verify_manifest(tmp_path) == {"rows": 1}
    (tmp_path / "full.txt").write_text("")
    with pytest.raises(DamagedFileError, match=r"full\.txt is empty"):
        verify_manifest(tmp_path)
