"""Search space files (problem 88): which argument fields a search varies, and over which distributions.

A search space file maps argument fields to distributions:

    learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}   # also `step`
    num_filters: {type: int, low: 32, high: 256, step: 32}               # also `log`
    kernel_sizes: {type: categorical, choices: [[3], [3, 5]]}           # lists too

Fields of `ModelArguments` shape the model, so a search builds a fresh one per trial; fields of `TrainingArguments`
are set on the Trainer's arguments by the Trainer itself. Data fields cannot be searched: the corpus is read and
tokenized once per search. Categorical lists go to Optuna as JSON strings (it stores only scalars) and come back
decoded.
"""

import difflib
import functools
import json
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path

import optuna
import yaml
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from transformers import TrainingArguments

from ..data.arguments import DataArguments
from ..errors import HfnewsError
from ..models.arguments import ModelArguments
from ..models.factory import CNN_FIELDS, RNN_FIELDS


# The model fields a search may vary per architecture; bert comes pretrained, so only training fields apply to it.
WORD_MODEL_FIELDS = ("embedding_dim", "vectors", "freeze_embeddings", "classifier_dropout")
SEARCHABLE_MODEL_FIELDS = {"rnn": RNN_FIELDS + WORD_MODEL_FIELDS, "cnn": CNN_FIELDS + WORD_MODEL_FIELDS, "bert": ()}
_DISTRIBUTIONS = {"float": FloatDistribution, "int": IntDistribution, "categorical": CategoricalDistribution}
_RANGE_KEYS = {"low", "high", "step", "log"}
_SPEC_KEYS = {"float": _RANGE_KEYS, "int": _RANGE_KEYS, "categorical": {"choices"}}


@dataclass(frozen=True)
class SearchParam:
    """One searched field; `choices` keeps categorical choices as written (lists go to Optuna as JSON strings)."""

    name: str
    distribution: BaseDistribution
    choices: tuple = ()

    def suggest(self, trial: optuna.Trial):
        dist = self.distribution
        if isinstance(dist, FloatDistribution):
            return trial.suggest_float(self.name, dist.low, dist.high, step=dist.step, log=dist.log)
        if isinstance(dist, IntDistribution):
            return trial.suggest_int(self.name, dist.low, dist.high, step=dist.step, log=dist.log)
        return self.decode(trial.suggest_categorical(self.name, dist.choices))

    def decode(self, value):
        """The value as the argument dataclasses take it, from what Optuna stored."""
        if not self.choices or value not in self.distribution.choices:
            return value
        return self.choices[self.distribution.choices.index(value)]


@dataclass(frozen=True)
class SearchSpace:
    """The searched fields of one architecture, in file order."""

    path: Path
    params: dict[str, SearchParam]

    @property
    def model_fields(self) -> list[str]:
        return [name for name in self.params if name in ModelArguments.__dataclass_fields__]

    @property
    def training_fields(self) -> list[str]:
        return [name for name in self.params if name not in ModelArguments.__dataclass_fields__]

    def without(self, names: set[str] | frozenset[str]) -> "SearchSpace":
        """The space less `names` (fields fixed elsewhere, e.g. on the command line)."""
        return SearchSpace(self.path, {name: param for name, param in self.params.items() if name not in names})

    def suggest(self, trial: optuna.Trial, names: list[str]) -> dict:
        """Draw `names` for `trial` as the argument dataclasses take them."""
        values = {}
        for name in sorted(names, key=lambda name: name != "vectors"):  # vectors decide whether embedding_dim applies
            if name == "embedding_dim" and values.get("vectors") is not None:
                continue
            values[name] = self.params[name].suggest(trial)
        return _with_derived(values)

    def decode(self, params: dict) -> dict:
        """A finished trial's parameters as argument values (fields no longer in the space are kept as stored)."""
        return _with_derived(
            {name: self.params[name].decode(value) if name in self.params else value for name, value in params.items()}
        )


def _with_derived(values: dict) -> dict:
    # Pretrained vectors set the embedding size (as `--vectors` does for train.py), whatever the base config says.
    if values.get("vectors") is not None:
        values["embedding_dim"] = None
    return values


def load_search_space(path: str | Path, architecture: str) -> SearchSpace:
    """Read and check a search space file: every field must be one the architecture's training can vary."""
    path = Path(path)
    if not path.is_file():
        raise HfnewsError(f"search space not found: {path} (pass --search_space FILE)")
    spec = yaml.safe_load(path.read_text())
    if not isinstance(spec, dict) or not spec:
        raise HfnewsError(f"{path} must map field names to distributions, e.g. learning_rate: {{type: float, ...}}")
    params = {}
    for name, param_spec in spec.items():
        _check_field(path, str(name), architecture)
        params[name] = _parse_param(path, name, param_spec)
    return SearchSpace(path, params)


def _check_field(path: Path, name: str, architecture: str) -> None:
    model_fields = SEARCHABLE_MODEL_FIELDS[architecture]
    if name in DataArguments.__dataclass_fields__:
        raise HfnewsError(
            f"{path}: {name} is a data field: the corpus is tokenized once per search, so it cannot vary between "
            "trials (set it in the base config or on the command line)"
        )
    if name in ModelArguments.__dataclass_fields__ and name not in model_fields:
        searchable = ", ".join(model_fields) or "none (search TrainingArguments fields such as learning_rate)"
        raise HfnewsError(f"{path}: {name} does not shape a {architecture} model; its searchable fields: {searchable}")
    if name not in ModelArguments.__dataclass_fields__ and name not in _training_field_types():
        known = [*model_fields, *_training_field_types()]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise HfnewsError(f"{path}: unknown field {name!r}{hint}: search ModelArguments or TrainingArguments fields")


def _parse_param(path: Path, name: str, spec) -> SearchParam:
    where = f"{path}: {name}"
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind not in _DISTRIBUTIONS:
        raise HfnewsError(f"{where} needs a mapping whose type is one of {', '.join(_DISTRIBUTIONS)}, got {spec!r}")
    unknown = sorted(set(spec) - {"type"} - _SPEC_KEYS[kind])
    if unknown:
        raise HfnewsError(
            f"{where}: unknown key(s) {', '.join(unknown)} for type {kind} ({', '.join(_SPEC_KEYS[kind])})"
        )
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise HfnewsError(f"{where}: categorical needs a non-empty list of choices")
        encoded = [json.dumps(choice) if isinstance(choice, list | dict) else choice for choice in choices]
        return SearchParam(name, CategoricalDistribution(encoded), tuple(choices))
    if not {"low", "high"} <= spec.keys():
        raise HfnewsError(f"{where}: type {kind} needs low and high")
    if kind == "float" and float not in _base_types(name):
        raise HfnewsError(
            f"{where}: the field takes {_type_names(name)} values, not floats: use type int or categorical"
        )
    if kind == "int" and not _base_types(name) & {int, float}:
        raise HfnewsError(f"{where}: the field takes {_type_names(name)} values: use type categorical")
    if not isinstance(spec.get("log", False), bool):
        raise HfnewsError(f"{where}: log must be true or false, got {spec['log']!r}")
    bounds = {
        key: _number(where, key, spec[key], kind) for key in ("low", "high", "step") if spec.get(key) is not None
    }
    try:
        return SearchParam(name, _DISTRIBUTIONS[kind](**bounds, log=spec.get("log", False)))
    except ValueError as error:
        raise HfnewsError(f"{where}: {error}") from None


def _number(where: str, key: str, value, kind: str) -> int | float:
    """A bound as a number; PyYAML reads `1e-4` (no dot) as a string, so strings that parse as floats are accepted."""
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise HfnewsError(f"{where}: {key} must be an integer, got {value!r}")
    try:
        if isinstance(value, bool):
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise HfnewsError(f"{where}: {key} must be a number, got {value!r}") from None


@functools.cache
def _training_field_types() -> dict[str, object]:
    hints = typing.get_type_hints(TrainingArguments)
    return {item.name: hints[item.name] for item in fields(TrainingArguments) if item.init}


def _base_types(name: str) -> set[type]:
    annotation = typing.get_type_hints(ModelArguments).get(name) or _training_field_types()[name]
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return {item for item in (typing.get_args(annotation) if is_union else (annotation,)) if item is not type(None)}


def _type_names(name: str) -> str:
    return " or ".join(getattr(item, "__name__", str(item)) for item in _base_types(name))
