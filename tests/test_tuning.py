"""Hyperparameter search: search space files, fresh models per trial, pruning by epoch, resuming, best.yaml."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import DEV_CSV, requires_shared_data, requires_vectors
from transformers import TrainingArguments

from hfnews.cli import run_cli
from hfnews.data.arguments import DataArguments
from hfnews.models.arguments import ModelArguments
from hfnews.training.arguments import CONFIG_DIR, read_config
from hfnews.tuning.arguments import SEARCH_DIR, parse_tune_args


# The search needs the `tune` extra; without it the whole module skips, saying so.
optuna = pytest.importorskip("optuna", reason="needs optuna: pip install -e '.[tune]'")

from optuna.trial import FixedTrial, TrialState, create_trial  # noqa: E402

from hfnews.training.run import prepare_experiment  # noqa: E402
from hfnews.tuning import search as tuning  # noqa: E402
from hfnews.tuning.search import make_model_init, run_search  # noqa: E402
from hfnews.tuning.search_space import load_search_space  # noqa: E402


REPO = Path(__file__).resolve().parents[1]
TUNE, TRAIN = REPO / "scripts" / "tune.py", REPO / "scripts" / "train.py"
# A space small enough for seconds per trial that still covers lists, vectors, log floats and batch sizes.
TINY_SPACE = """\
kernel_sizes: {type: categorical, choices: [[3], [1, 3]]}
num_filters: {type: int, low: 4, high: 8, step: 4}
vectors: {type: categorical, choices: [null, glove-6b-50d]}
learning_rate: {type: float, low: 1e-3, high: 1e-1, log: true}
per_device_train_batch_size: {type: categorical, choices: [32, 64]}
"""
SMALL_RUN = [
    "--source", str(DEV_CSV), "--max_train_samples", "300", "--max_eval_samples", "100", "--embedding_dim", "8",
    "--train_eval_samples", "100", "--num_train_epochs", "1", "--disable_tqdm", "true",
]  # fmt: skip


def tune_args(tmp_path: Path, n_trials: int, *extra: str, space_text: str = TINY_SPACE) -> list[str]:
    space = tmp_path / "space.yaml"
    space.write_text(space_text)
    return [
        "--model", "cnn", "--n_trials", str(n_trials), "--output_dir", str(tmp_path / "out"),
        "--search_space", str(space), *SMALL_RUN, *extra,
    ]  # fmt: skip


def load_study(tmp_path: Path) -> optuna.Study:
    return optuna.load_study(study_name="hfnews-cnn", storage=f"sqlite:///{tmp_path / 'out' / 'study.db'}")


@pytest.mark.parametrize("path", sorted(SEARCH_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_search_space_fits_its_config(path):
    architecture = read_config(CONFIG_DIR / path.name)["architecture"]
    space = load_search_space(path, architecture)
    assert {"learning_rate", "per_device_train_batch_size", "num_train_epochs"} <= set(space.training_fields)
    assert bool(space.model_fields) == (architecture != "bert")


@pytest.mark.parametrize(
    "text, architecture, message",
    [
        ("learning_rat: {type: float, low: 0.1, high: 1}", "cnn", "'learning_rat' (did you mean learning_rate?)"),
        ("max_length: {type: int, low: 8, high: 64}", "cnn", "max_length is a data field"),
        ("cell: {type: categorical, choices: [gru, lstm]}", "cnn", "cell does not shape a cnn model"),
        ("classifier_dropout: {type: float, low: 0.0, high: 0.5}", "bert", "classifier_dropout does not shape a bert"),
        ("num_filters: {type: float, low: 8, high: 64}", "cnn", "num_filters: the field takes int values, not floats"),
        ("learning_rate: {type: float, low: 0.1, high: 0.01}", "cnn", "learning_rate: `low <= high` must hold"),
        ("learning_rate: {type: uniform, low: 0.1, high: 1}", "cnn", "learning_rate needs a mapping whose type is"),
        ("learning_rate: {type: float, low: 0.1, high: 1, scale: log}", "cnn", "learning_rate: unknown key(s) scale"),
        ("learning_rate: {type: float, low: small, high: 1}", "cnn", "low must be a number, got 'small'"),
        ("num_filters: {type: int, low: 8}", "cnn", "num_filters: type int needs low and high"),
        ("kernel_sizes: {type: categorical, choices: []}", "cnn", "kernel_sizes: categorical needs a non-empty list"),
        ("- learning_rate", "cnn", "must map field names to distributions"),
    ],
)  # fmt: skip
def test_bad_search_space_names_the_field(tmp_path, text, architecture, message):
    path = tmp_path / "space.yaml"
    path.write_text(text + "\n")
    with pytest.raises(ValueError) as error:
        load_search_space(path, architecture)
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_suggest_decodes_lists_and_vectors_fix_the_embedding_size(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(TINY_SPACE + "embedding_dim: {type: categorical, choices: [8, 16]}\n")
    space = load_search_space(path, "cnn")
    assert space.params["learning_rate"].distribution.low == 1e-3  # YAML reads 1e-3 as a string
    assert space.model_fields == ["kernel_sizes", "num_filters", "vectors", "embedding_dim"]
    # FixedTrial raises for a field it lacks: with vectors drawn, embedding_dim must not even be asked for.
    with_vectors = FixedTrial({"kernel_sizes": "[1, 3]", "num_filters": 8, "vectors": "glove-6b-50d"})
    assert space.suggest(with_vectors, space.model_fields) == {
        "vectors": "glove-6b-50d", "kernel_sizes": [1, 3], "num_filters": 8, "embedding_dim": None,
    }  # fmt: skip
    without = FixedTrial({"kernel_sizes": "[3]", "num_filters": 4, "vectors": None, "embedding_dim": 16})
    assert space.suggest(without, space.model_fields)["embedding_dim"] == 16
    training = FixedTrial({"learning_rate": 0.01, "per_device_train_batch_size": 64})
    assert space.suggest(training, space.training_fields) == {"learning_rate": 0.01, "per_device_train_batch_size": 64}
    assert space.decode({"kernel_sizes": "[1, 3]", "vectors": "glove-6b-50d", "gone": 1}) == {
        "kernel_sizes": [1, 3], "vectors": "glove-6b-50d", "gone": 1, "embedding_dim": None,
    }  # fmt: skip


@requires_vectors
def test_model_init_builds_fresh_models_and_reads_vectors_once(tiny_csv, tmp_path, monkeypatch):
    path = tmp_path / "space.yaml"
    path.write_text(TINY_SPACE)
    space = load_search_space(path, "cnn")
    model_args = ModelArguments(architecture="cnn", embedding_dim=8, num_filters=4)
    experiment = prepare_experiment(model_args, DataArguments(source=str(tiny_csv)), TrainingArguments(str(tmp_path)))
    reads, load = [], tuning.load_embedding_matrix

    def counted_load(*args, **kwargs):
        reads.append(args[0])
        return load(*args, **kwargs)

    monkeypatch.setattr(tuning, "load_embedding_matrix", counted_load)
    model_init = make_model_init(experiment, model_args, space, seed=0)
    assert model_init(None) is experiment.model
    trial = FixedTrial({"kernel_sizes": "[1, 3]", "num_filters": 8, "vectors": "glove-6b-50d"})
    first, second = model_init(trial), model_init(trial)
    assert first is not second and first.config.kernel_sizes == [1, 3] and first.config.num_filters == 8
    assert first.get_input_embeddings().weight.shape == (len(experiment.tokenizer), 50)
    assert torch.equal(first.get_input_embeddings().weight, second.get_input_embeddings().weight)
    assert len(reads) == 1
    plain = model_init(FixedTrial({"kernel_sizes": "[3]", "num_filters": 4, "vectors": None}))
    assert plain.get_input_embeddings().weight.shape[1] == 8 and len(reads) == 1


def test_bad_search_space_gives_one_error_line(tmp_path, capsys):
    args = tune_args(tmp_path, 2, space_text="num_filter: {type: int, low: 4, high: 8}\n")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: run_search(parse_tune_args(args)))
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {tmp_path / 'space.yaml'}: unknown field 'num_filter' (did you mean num_filters?): "
        "search ModelArguments or TrainingArguments fields"
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("damage", ["truncated", "not a database"])
def test_a_damaged_study_db_is_one_error_line_naming_it(tmp_path, capsys, damage):
    (tmp_path / "out").mkdir()
    study_db = tmp_path / "out" / "study.db"
    if damage == "truncated":  # the header of a real SQLite file, cut short as a kill or a full disk leaves it
        study_db.write_bytes(b"SQLite format 3\x00" + bytes(50))
    else:
        study_db.write_text("trial,value\n0,0.9\n")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: run_search(parse_tune_args(tune_args(tmp_path, 1))))
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {study_db} is not a readable study (") and "delete it" in line


@pytest.mark.slow
@requires_shared_data
@requires_vectors
def test_tune_script_writes_leaderboard_plot_and_a_best_config_that_trains(tmp_path):
    done = subprocess.run([sys.executable, str(TUNE), *tune_args(tmp_path, 2)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "out"
    study = load_study(tmp_path)
    assert [trial.state for trial in study.trials] == [TrialState.COMPLETE] * 2
    with open(out / "trials.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == [
        "number",
        "state",
        "value",
        "duration_s",
        *load_search_space(tmp_path / "space.yaml", "cnn").params,
    ]
    assert sorted(row["number"] for row in rows) == ["0", "1"] and float(rows[0]["value"]) == study.best_value
    assert (out / "trials.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    best = (out / "best.yaml").read_text()
    assert best.startswith(f"# Best trial ({study.best_trial.number}) of the search 'hfnews-cnn'")
    assert f"validation accuracy {study.best_value:.4f}\n" in best.splitlines(keepends=True)[0]
    assert best.splitlines()[1] == "architecture: cnn"  # a block mapping like configs/*.yaml
    config = read_config(out / "best.yaml")
    best_params = load_search_space(tmp_path / "space.yaml", "cnn").decode(study.best_params)
    assert {name: config[name] for name in best_params} == best_params
    assert config["embedding_dim"] == (None if config["vectors"] else 8)  # the command line's, unless vectors set it
    assert config["max_train_samples"] == 300 and config["activation"] == "relu"  # command line and base config
    assert "output_dir" not in config and "save_strategy" not in config

    trained = subprocess.run(
        [sys.executable, str(TRAIN), "--config", str(out / "best.yaml"), "--num_train_epochs", "1",
         "--output_dir", str(tmp_path / "best"), "--disable_tqdm", "true"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert (tmp_path / "best" / "metrics.json").exists()


@pytest.mark.slow
@requires_shared_data
@requires_vectors
def test_interrupted_search_resumes_with_the_interrupted_trial(tmp_path):
    run_search(parse_tune_args(tune_args(tmp_path, 1)))
    # What a search killed (SIGKILL) during its second trial leaves behind: a RUNNING trial with drawn parameters.
    killed = load_study(tmp_path).ask()
    space = load_search_space(tmp_path / "space.yaml", "cnn")
    space.suggest(killed, [*space.model_fields, *space.training_fields])

    run_search(parse_tune_args(tune_args(tmp_path, 2)))
    trials = load_study(tmp_path).trials
    assert [trial.state for trial in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert trials[2].params == killed.params  # the interrupted trial runs again, first
    run_search(parse_tune_args(tune_args(tmp_path, 2)))  # n_trials already reached: nothing more runs
    assert len(load_study(tmp_path).trials) == 3


@pytest.mark.slow
@requires_shared_data
@requires_vectors
def test_trial_below_the_median_is_pruned_after_its_first_epoch(tmp_path):
    (tmp_path / "out").mkdir()
    study = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'out' / 'study.db'}", study_name="hfnews-cnn", direction="maximize"
    )
    for _ in range(2):  # two finished trials that were perfect at every epoch
        study.add_trial(create_trial(value=1.0, intermediate_values={1: 1.0, 2: 1.0}))
    run_search(parse_tune_args(tune_args(tmp_path, 3, "--pruning_startup_trials", "2", "--num_train_epochs", "2")))
    pruned = load_study(tmp_path).trials[2]
    # Reported under the epoch (not the global step, which depends on the batch size), stopped after epoch 1 of 2.
    assert pruned.state == TrialState.PRUNED and list(pruned.intermediate_values) == [1]
    assert pruned.value == pruned.intermediate_values[1] < 1.0
    assert "1 pruned trials" in (tmp_path / "out" / "best.yaml").read_text().splitlines()[0]
    with open(tmp_path / "out" / "trials.csv", newline="") as stream:
        assert [row["state"] for row in csv.DictReader(stream)] == ["COMPLETE", "COMPLETE", "PRUNED"]


def test_a_field_given_on_the_command_line_wins_over_the_search_space(tmp_path, capsys):
    space_text = TINY_SPACE + "num_train_epochs: {type: int, low: 2, high: 9}\n"
    setup = parse_tune_args(tune_args(tmp_path, 1, space_text=space_text))  # SMALL_RUN says --num_train_epochs 1
    assert {"num_train_epochs", "embedding_dim", "source"} <= setup.command_line_fields
    assert "kernel_sizes" not in setup.command_line_fields  # from the base config, which the search does vary
    space = tuning.fix_command_line_fields(load_search_space(setup.search_space, "cnn"), setup.command_line_fields)
    assert "num_train_epochs" not in space.params and "learning_rate" in space.params
    assert capsys.readouterr().out.splitlines() == [
        f"not searched, as given on the command line: num_train_epochs (in {tmp_path / 'space.yaml'})"
    ]
    assert setup.base_config["num_train_epochs"] == 1  # and best.yaml keeps it

    only_epochs = parse_tune_args(tune_args(tmp_path, 1, space_text="num_train_epochs: {type: int, low: 2, high: 9}"))
    with pytest.raises(ValueError, match="every field of .* is given on the command line: nothing is left"):
        tuning.fix_command_line_fields(
            load_search_space(only_epochs.search_space, "cnn"), only_epochs.command_line_fields
        )


def test_storage_is_the_output_folders_study_db_a_journal_file_or_a_database_url(tmp_path):
    default = tuning.open_storage(None, tmp_path)
    assert default.storage == f"sqlite:///{tmp_path / 'study.db'}" and not default.shared
    journal = tuning.open_storage(str(tmp_path / "search.journal"), tmp_path / "out")
    assert isinstance(journal.storage, optuna.storages.JournalStorage) and journal.shared
    url = tuning.open_storage("postgresql://hfnews:secret@db.lab:5432/optuna", tmp_path)
    assert url.storage == "postgresql://hfnews:secret@db.lab:5432/optuna" and url.shared
    assert url.where == "postgresql://hfnews:***@db.lab:5432/optuna"  # printed, and in best.yaml: no password
    with pytest.raises(ValueError, match=f"--storage {tmp_path}/absent/s.journal: the folder .* does not exist"):
        tuning.open_storage(str(tmp_path / "absent" / "s.journal"), tmp_path)
    with pytest.raises(ValueError, match="--storage study.db: pass a database URL .* or a file ending in .journal"):
        tuning.open_storage("study.db", tmp_path)


def test_a_storage_that_cannot_be_opened_is_one_error_line(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'absent' / 'study.db'}"  # SQLite creates the file, never its folder
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: run_search(parse_tune_args(tune_args(tmp_path, 1, "--storage", storage))))
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: --storage {storage}: cannot open the study (unable to open database file")


def test_a_worker_counts_and_retries_only_its_own_trials_of_a_shared_study(tmp_path):
    journal = tuning.open_storage(str(tmp_path / "search.journal"), tmp_path)
    study = tuning.create_study(journal, "shared")
    me, other = tuning.worker_name(tmp_path / "a"), tuning.worker_name(tmp_path / "b")
    for worker in (me, other, other):
        study.add_trial(create_trial(value=0.5, user_attrs={tuning.WORKER_ATTR: worker}))
    for worker in (me, other):  # a trial this worker left when killed, and one another worker is running now
        trial = study.ask()
        trial.set_user_attr(tuning.WORKER_ATTR, worker)
        trial.suggest_float("learning_rate", 0.01, 0.1)
    assert tuning.retry_interrupted_trials(study, lambda trial: trial.user_attrs.get(tuning.WORKER_ATTR) == me) == 1
    assert [trial.state for trial in study.trials[3:]] == [TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING]


@pytest.mark.slow
@requires_shared_data
def test_two_workers_share_one_study_in_a_journal_file(tmp_path):
    journal = tmp_path / "search.journal"
    space = TINY_SPACE.replace("vectors: {type: categorical, choices: [null, glove-6b-50d]}\n", "")
    space += "num_train_epochs: {type: int, low: 2, high: 9}\n"  # the command line's --num_train_epochs 1 wins
    for worker in ("a", "b"):
        (tmp_path / worker).mkdir()
    commands = {
        worker: [sys.executable, str(TUNE), *tune_args(tmp_path / worker, 2, space_text=space),
                 "--storage", str(journal), "--study_name", "shared"]
        for worker in ("a", "b")
    }  # fmt: skip
    processes = {
        worker: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for worker, command in commands.items()
    }
    outputs, ended = {}, []
    try:
        for worker, process in processes.items():
            outputs[worker] = process.communicate(timeout=500)
            assert process.returncode == 0, outputs[worker][1][-3000:]
    finally:
        for process in processes.values():
            process.kill()
    for worker in commands:
        assert "not searched, as given on the command line: num_train_epochs" in outputs[worker][0]
        ended.append(((tmp_path / worker / "out" / "best.yaml").stat().st_mtime, worker))
    study = optuna.load_study(study_name="shared", storage=tuning.open_storage(str(journal), tmp_path).storage)
    trials = study.trials
    assert [trial.number for trial in trials] == [0, 1, 2, 3]  # numbered once, across the workers
    assert all(trial.state in tuning.FINISHED for trial in trials)
    workers = [trial.user_attrs[tuning.WORKER_ATTR] for trial in trials]
    assert sorted(workers) == sorted([tuning.worker_name(tmp_path / worker / "out") for worker in "aabb"])
    assert all("num_train_epochs" not in trial.params and list(trial.intermediate_values) == [1] for trial in trials)

    def leaderboard(worker: str) -> list[dict]:
        with open(tmp_path / worker / "out" / "trials.csv", newline="") as stream:
            return list(csv.DictReader(stream))

    (_, first), (_, last) = sorted(ended)
    assert sorted(int(row["number"]) for row in leaderboard(last)) == [0, 1, 2, 3]
    assert all(row["state"] in ("COMPLETE", "PRUNED") for row in leaderboard(last))
    header = f"# Best trial ({study.best_trial.number}) of the search 'shared' in {journal} "
    assert (tmp_path / last / "out" / "best.yaml").read_text().startswith(header)
    # The worker that ended first, started again, runs no trial (its n_trials are done) and describes the whole study.
    again = subprocess.run(commands[first], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "2 finished trial(s) of this worker" in again.stdout and "n_trials 2 reached" in again.stdout
    assert leaderboard(first) == leaderboard(last)
    assert len(study.get_trials(deepcopy=False)) == 4
