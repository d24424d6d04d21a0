"""Every configs/*.yaml parses into the training dataclasses, and the command line overrides it."""

import re
from enum import Enum
from pathlib import Path

import pytest
import torch
import yaml
from transformers import HfArgumentParser, TrainingArguments

from hfnews.data.arguments import DataArguments
from hfnews.errors import HfnewsError
from hfnews.models.arguments import ModelArguments
from hfnews.training.arguments import CONFIG_DIR, TRAINING_DEFAULTS, RunArguments, parse_train_args


CONFIGS = sorted(CONFIG_DIR.glob("*.yaml"))
# Keys every training config sets, so each can be overridden with a value that differs from the file's.
OVERRIDES = {"learning_rate": 0.0123, "seed": 1234, "num_train_epochs": 17.0, "per_device_train_batch_size": 3}


def plain(value):
    """The YAML form of a parsed value: an enum (optim, schedulers) compares by its string."""
    return value.value if isinstance(value, Enum) else value


def parsed_values(parsed: tuple, keys) -> dict:
    """The value each key got in whichever dataclass defines it."""
    values = {}
    for key in keys:
        (owner,) = [args for args in parsed if key in type(args).__dataclass_fields__]
        values[key] = plain(getattr(owner, key))
    return values


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_named_models_have_configs():
    assert {"rnn", "birnn", "cnn", "bert", "tiny"} <= {path.stem for path in CONFIGS}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_config_starts_with_a_comment_saying_what_it_reproduces(path):
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# ")
    # A config reproduces NLP 100 problems (say which) or is for tests.
    assert re.search(r"\bproblems? \d\d|\btests\b", first_line, re.IGNORECASE), first_line


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_config_parses_with_hf_argument_parser_without_extra_keys(path):
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments, RunArguments))
    parsed = parser.parse_yaml_file(path, allow_extra_keys=False)
    values = read_yaml(path)
    assert parsed_values(parsed, values) == values


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_parse_train_args_reads_the_file_and_the_training_defaults(path, tmp_path):
    parsed = parse_train_args(["--config", str(path), "--output_dir", str(tmp_path)])
    values = read_yaml(path)
    assert parsed_values(parsed, values) == values
    defaults = {key: value for key, value in TRAINING_DEFAULTS.items() if key not in values}
    # Compared as TrainingArguments normalises them (report_to "none" becomes []).
    expected = TrainingArguments(output_dir=str(tmp_path), **defaults)
    assert parsed_values(parsed, defaults) == parsed_values((expected,), defaults)
    assert parsed[3].output_dir == str(tmp_path)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_command_line_values_override_the_file(path, tmp_path):
    values = read_yaml(path)
    assert OVERRIDES.keys() <= values.keys() and all(values[key] != OVERRIDES[key] for key in OVERRIDES)
    flags = [item for key, value in OVERRIDES.items() for item in (f"--{key}", str(value))]
    parsed = parse_train_args(["--config", str(path), "--output_dir", str(tmp_path), *flags])
    assert parsed_values(parsed, OVERRIDES) == OVERRIDES
    untouched = {key: value for key, value in values.items() if key not in OVERRIDES}
    assert parsed_values(parsed, untouched) == untouched


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_model_name_reads_the_config_of_that_name(path, tmp_path):
    by_name = parse_train_args(["--model", path.stem, "--output_dir", str(tmp_path)])
    by_file = parse_train_args(["--config", str(path), "--output_dir", str(tmp_path)])
    assert by_name[1:3] == by_file[1:3]
    assert by_name[3].to_dict() == by_file[3].to_dict()


def test_unknown_config_key_is_rejected_with_its_name(tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("# For tests: a misspelt key.\narchitecture: cnn\nlearning_rat: 0.1\n")
    with pytest.raises(ValueError, match="learning_rat"):
        parse_train_args(["--config", str(config), "--output_dir", str(tmp_path)])
    with pytest.raises(ValueError, match="learning_rat"):
        HfArgumentParser((ModelArguments, DataArguments, TrainingArguments, RunArguments)).parse_yaml_file(config)


def test_output_dir_defaults_to_runs_model(tmp_path):
    assert parse_train_args(["--model", "tiny"])[3].output_dir == str(Path("runs") / "tiny")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.stem)
def test_word_id_configs_compute_with_one_thread_unless_told(path, capsys):
    from hfnews.training.run import set_torch_threads  # imports torch and transformers' Trainer

    model_args = parse_train_args(["--config", str(path)])[1]
    assert model_args.torch_threads == (None if model_args.architecture == "bert" else 1)
    assert parse_train_args(["--config", str(path), "--torch_threads", "2"])[1].torch_threads == 2
    before = torch.get_num_threads()
    try:
        set_torch_threads(model_args.torch_threads)
        assert torch.get_num_threads() == (before if model_args.torch_threads is None else 1)
        assert capsys.readouterr().out.startswith(f"torch threads: {torch.get_num_threads()}")
    finally:
        torch.set_num_threads(before)


def test_torch_threads_must_be_positive():
    with pytest.raises(HfnewsError, match="torch_threads must be a positive number, got 0"):
        parse_train_args(["--model", "cnn", "--torch_threads", "0"])
