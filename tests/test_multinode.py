"""Training on several machines: two machine ranks of `accelerate launch` on 127.0.0.1 against two processes on one
machine, resuming with both ranks sharing one folder, and the launches that must stop before any training."""

import json
import os
import shutil
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.utils import DistributedType
from helpers import DEV_CSV, requires_shared_data

from hfnews.data.corpus import load_news_corpus
from hfnews.errors import HfnewsError
from hfnews.models.loading import load_tokenizer
from hfnews.models.model_files import check_checkpoint
from hfnews.training.checkpoints import last_complete_checkpoint, output_sharing_problem
from hfnews.training.launch import accelerate_launch_args, check_launch


REPO = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT, RECORDER = REPO / "scripts" / "train.py", REPO / "tests" / "record_batches.py"
TRAIN_ROWS, BATCH = 384, 32  # 6 steps of 2 x 32 rows per epoch: no batch is cut short or padded with repeats
TRAIN_ARGS = ["--config", REPO / "configs" / "tiny.yaml", "--source", DEV_CSV, "--max_train_samples", TRAIN_ROWS,
              "--max_eval_samples", "100", "--per_device_train_batch_size", BATCH, "--num_train_epochs", "2",
              "--disable_tqdm", "true"]  # fmt: skip
TIMEOUT_S = 300
MULTI_NODE_CONFIG = REPO / "configs" / "accelerate" / "multi_node.yaml"  # 2 machines, 2 processes in all


# ---------------------------------------------------------------------------------------------------------------
# Fast: reading the launcher's command line, and the rules of a shared output folder.


@pytest.mark.parametrize(
    "cmdline, expected",
    [
        (["/usr/bin/python", "/venv/bin/accelerate", "launch", "--num_machines", "2", "t.py"],
         ["--num_machines", "2", "t.py"]),
        (["python", "-m", "accelerate.commands.launch", "--cpu", "t.py"], ["--cpu", "t.py"]),
        (["python", "-m", "accelerate.commands.accelerate_cli", "launch", "t.py"], ["t.py"]),
        (["/venv/bin/accelerate", "env"], None),
        (["python", "-m", "pytest"], None),
        (["torchrun", "--nnodes", "2", "scripts/train.py"], None),
    ],
)  # fmt: skip
def test_accelerate_launch_args_are_read_from_its_command_line(cmdline, expected):
    assert accelerate_launch_args(cmdline) == expected


SIMPLE_LAUNCH = ["python", "-m", "accelerate.commands.launch", "--num_machines", "2", "--machine_rank", "1",
                 "--main_process_ip", "10.0.0.1", "--main_process_port", "29500"]  # fmt: skip


def test_several_machines_without_a_distributed_launch_stop_naming_the_missing_flag(tmp_path):
    with pytest.raises(HfnewsError, match=r"asked for 2 machines but started this process alone .* add --multi_gpu"):
        check_launch(1, [*SIMPLE_LAUNCH, "scripts/train.py", "--model", "cnn"])
    with pytest.raises(HfnewsError, match=r"asked for 2 machines .*: drop --cpu"):
        check_launch(1, [*SIMPLE_LAUNCH, "--multi_gpu", "--cpu", "scripts/train.py"])
    config = tmp_path / "multi_node.yaml"  # the machine count from the config file
    config.write_text("distributed_type: 'NO'\nmixed_precision: 'no'\nnum_machines: 3\n")
    with pytest.raises(HfnewsError, match="asked for 3 machines"):
        check_launch(1, ["accelerate", "launch", "--config_file", str(config), "scripts/train.py"])
    check_launch(2, [*SIMPLE_LAUNCH, "scripts/train.py"])  # distributed: each process has its share
    # One machine asked for 2 processes that the simple launcher started as one (issue 19): refused the same way.
    with pytest.raises(HfnewsError, match=r"asked for 2 processes but started this process alone .*: drop --cpu"):
        check_launch(1, ["accelerate", "launch", "--num_processes", "2", "--cpu", "scripts/train.py"])
    with pytest.raises(HfnewsError, match=r"asked for 2 processes .*: add --multi_gpu"):
        check_launch(1, ["accelerate", "launch", "--num_processes", "2", "scripts/train.py"])
    check_launch(1, ["accelerate", "launch", "--num_processes", "1", "scripts/train.py"])
    check_launch(1, ["python", "scripts/train.py"])


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "accelerate").glob("*.yaml")), ids=lambda path: path.stem)
def test_accelerate_configs_load_and_the_multi_node_one_names_what_each_machine_needs(path):
    config = load_config_from_file(str(path))
    assert config.distributed_type == DistributedType.MULTI_GPU  # several processes, on GPUs or, without, on CPUs
    if path == MULTI_NODE_CONFIG:
        assert config.num_machines == 2 and config.num_processes == 2 and config.rdzv_backend == "static"
        assert config.main_process_ip and config.main_process_port and config.machine_rank == 0


@pytest.mark.parametrize(
    "views, problem",
    [
        ([(0, True, [0]), (1, False, [0]), (2, False, [0]), (3, False, [0])], None),  # one disk, 2 machines
        ([(0, True, [0]), (1, False, [0]), (2, False, []), (3, False, [])], "process(es) 2, 3 do not see"),
        ([(0, True, [0]), (1, False, [0]), (2, True, [2]), (3, False, [2])], None),  # save_on_each_node
        ([(0, True, [0, 1]), (1, True, [0, 1])], "with an output folder out that every machine sees: processes 0, 1"),
    ],
)  # fmt: skip
def test_each_process_must_see_the_folder_of_exactly_one_saving_process(views, problem):
    found = output_sharing_problem(views, "out")
    assert found == problem if problem is None else problem in found


# ---------------------------------------------------------------------------------------------------------------
# Slow: real launches, two "machines" on 127.0.0.1.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_env(cache: Path, batch_log: Path | None = None) -> dict[str, str]:
    """One thread per process, offline, gloo on the loopback interface only; batches recorded into `batch_log`."""
    env = {**os.environ, "HFNEWS_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false", "GLOO_SOCKET_IFNAME": "lo"}  # fmt: skip
    if batch_log is not None:
        batch_log.mkdir(parents=True)
        env["HFNEWS_BATCH_LOG"] = str(batch_log)
    return env


def accelerate_launch(launcher: list, script: Path, *args) -> list[str]:
    return [sys.executable, "-m", "accelerate.commands.launch", *map(str, launcher), "--mixed_precision", "no",
            "--dynamo_backend", "no", str(script), *map(str, args)]  # fmt: skip


def machine(rank: int, port: int) -> list:
    """The launcher flags of machine `rank` of two, one process each, as the README gives them."""
    return ["--config_file", MULTI_NODE_CONFIG, "--machine_rank", rank, "--main_process_ip", "127.0.0.1",
            "--main_process_port", port]  # fmt: skip


def run_machines(commands: list[list[str]], env: dict[str, str]) -> list[subprocess.CompletedProcess]:
    """Start every machine's command at once and wait for all (each killed, by its own pid, after TIMEOUT_S)."""
    processes = [
        subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    try:
        outputs = [process.communicate(timeout=TIMEOUT_S) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [subprocess.CompletedProcess(p.args, p.returncode, out, err) for p, (out, err) in zip(processes, outputs)]


def assert_all_succeeded(done: list[subprocess.CompletedProcess]) -> None:
    for rank, result in enumerate(done):
        assert result.returncode == 0, f"machine {rank}: exit {result.returncode}\n{result.stderr[-4000:]}"


def read_batches(batch_log: Path, rank: int) -> list[list[list[int]]]:
    return [json.loads(line) for line in (batch_log / f"rank{rank}.jsonl").read_text().splitlines()]


def assert_complete_checkpoints_only(output_dir: Path) -> None:
    """At least one checkpoint, every one complete, no staging folder (`tmp-...`) anywhere."""
    checkpoints = sorted(output_dir.glob("checkpoint-*"))
    assert checkpoints and last_complete_checkpoint(output_dir) == str(checkpoints[-1])
    for checkpoint in checkpoints:
        check_checkpoint(checkpoint)
        assert {path.name for path in checkpoint.glob("rng_state_*.pth")} == {"rng_state_0.pth", "rng_state_1.pth"}
    assert not [path for path in output_dir.rglob("*") if path.name.startswith(("tmp-", ".hfnews-shared-"))]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two processes on one machine, then two machines of one process each, with the same seed and data."""
    root = tmp_path_factory.mktemp("multinode")
    one = run_machines(
        [accelerate_launch(["--multi_gpu", "--num_processes", 2, "--num_machines", 1, "--main_process_port", 0],
                           RECORDER, *TRAIN_ARGS, "--output_dir", root / "one")],
        launch_env(root / "cache", root / "one-batches"),
    )  # fmt: skip
    assert_all_succeeded(one)
    port = free_port()
    two = run_machines(
        [accelerate_launch(machine(rank, port), RECORDER, *TRAIN_ARGS, "--output_dir", root / "two")
         for rank in (0, 1)],
        launch_env(root / "cache", root / "two-batches"),
    )  # fmt: skip
    assert_all_succeeded(two)
    return root


@pytest.mark.slow
@requires_shared_data
def test_two_machines_train_as_two_processes_on_one_machine(runs):
    one, two = (json.loads((runs / name / "metrics.json").read_text()) for name in ("one", "two"))
    assert len(two["history"]) == 2
    for got, want in zip(two["history"], one["history"]):
        assert got.keys() == want.keys() and all(got[key] == pytest.approx(want[key], abs=1e-5) for key in want)
    assert two["test"]["accuracy"] == pytest.approx(one["test"]["accuracy"], abs=1e-6)
    assert two["test"]["loss"] == pytest.approx(one["test"]["loss"], abs=1e-5)
    assert_complete_checkpoints_only(runs / "two")


@pytest.mark.slow
@requires_shared_data
def test_torchrun_on_two_nodes_trains_as_accelerate_does(runs, tmp_path):
    port = free_port()
    done = run_machines(
        [[sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1", "--node_rank",
          str(rank), "--master_addr", "127.0.0.1", "--master_port", str(port), str(TRAIN_SCRIPT),
          *map(str, TRAIN_ARGS), "--output_dir", str(tmp_path / "out")] for rank in (0, 1)],
        launch_env(runs / "cache"),
    )  # fmt: skip
    assert_all_succeeded(done)
    torchrun, accelerate = (
        json.loads((folder / "metrics.json").read_text()) for folder in (tmp_path / "out", runs / "two")
    )
    assert torchrun["test"]["loss"] == pytest.approx(accelerate["test"]["loss"], abs=1e-5)
    assert_complete_checkpoints_only(tmp_path / "out")


@pytest.mark.slow
@requires_shared_data
def test_each_machine_reads_its_own_half_of_every_batch(runs):
    machines = [read_batches(runs / "two-batches", rank) for rank in (0, 1)]
    assert machines == [read_batches(runs / "one-batches", rank) for rank in (0, 1)]  # the same rows, rank by rank
    steps = TRAIN_ROWS // (2 * BATCH)
    assert [len(batches) for batches in machines] == [2 * steps, 2 * steps]  # two epochs
    assert all(len(rows) == BATCH for batches in machines for rows in batches)
    # In each epoch the two halves together are the training rows, each once: no machine trained on all the data.
    tokenizer = load_tokenizer(str(runs / "two"))
    texts = load_news_corpus(DEV_CSV, cache_dir=runs / "cache").dataset["train"].select(range(TRAIN_ROWS))["text"][:]
    expected = Counter(map(tuple, tokenizer(texts)["input_ids"]))
    for epoch in range(2):
        read = Counter(tuple(row) for batches in machines for rows in batches[epoch * steps : (epoch + 1) * steps]
                       for row in rows)  # fmt: skip
        assert read == expected


@pytest.mark.slow
@requires_shared_data
def test_two_machines_resume_from_the_last_checkpoint_in_their_shared_folder(runs, tmp_path):
    output_dir = shutil.copytree(runs / "two", tmp_path / "two")  # the other tests read the first run's folder
    before = last_complete_checkpoint(output_dir)
    port = free_port()
    resumed = run_machines(
        [accelerate_launch(machine(rank, port), TRAIN_SCRIPT, *TRAIN_ARGS, "--num_train_epochs", 3, "--output_dir",
                           output_dir, "--resume_from_checkpoint", "last") for rank in (0, 1)],
        launch_env(runs / "cache"),
    )  # fmt: skip
    assert_all_succeeded(resumed)
    assert "epoch 1/3 " not in resumed[0].stdout and "epoch 3/3 " in resumed[0].stdout  # went on from epoch 2
    assert Path(before).name == f"checkpoint-{2 * TRAIN_ROWS // (2 * BATCH)}"
    assert last_complete_checkpoint(output_dir).endswith(f"checkpoint-{3 * TRAIN_ROWS // (2 * BATCH)}")
    assert_complete_checkpoints_only(output_dir)


@pytest.mark.slow
@requires_shared_data
def test_several_machines_without_multi_gpu_stop_before_training(tmp_path):
    """accelerate's simple launcher would run one process per machine, each on all the data: rank 0 alone shows it."""
    launcher = ["--num_machines", 2, "--machine_rank", 0, "--main_process_ip", "127.0.0.1", "--main_process_port",
                free_port()]  # fmt: skip
    (done,) = run_machines(
        [accelerate_launch(launcher, TRAIN_SCRIPT, *TRAIN_ARGS, "--output_dir", tmp_path / "out")],
        launch_env(tmp_path / "cache"),
    )
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: accelerate launch was asked for 2 machines but started this process alone (world size 1), so each "
        "machine would train on all the data by itself: add --multi_gpu (CPU-only machines too)"
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@requires_shared_data
@pytest.mark.parametrize(
    "folders, message",
    [
        (("a", "b"), "process(es) 1 do not see the output folder"),  # what two machines without a shared disk see
        (("a", "a"), "--save_on_each_node with an output folder"),
    ],
    ids=["separate-folders", "save_on_each_node-on-a-shared-folder"],
)
def test_machines_that_do_not_share_the_output_folder_as_needed_stop_before_training(tmp_path, folders, message):
    port = free_port()
    extra = ["--save_on_each_node", "true"] if folders[0] == folders[1] else []
    done = run_machines(
        [accelerate_launch(machine(rank, port), TRAIN_SCRIPT, *TRAIN_ARGS, *extra, "--output_dir", tmp_path / folder)
         for rank, folder in enumerate(folders)],
        launch_env(tmp_path / "cache"),
    )  # fmt: skip
    for result in done:  # every machine stops, with the same one line
        assert result.returncode != 0
        (error,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert message in error, error
    for folder in set(folders):
        assert (
            not list((tmp_path / folder).glob("*checkpoint-*")) and not (tmp_path / folder / "metrics.json").exists()
        )
