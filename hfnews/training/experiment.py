"""What one run trains on, gathered before the Trainer is built: `Experiment`."""

from dataclasses import dataclass

from datasets import Dataset, DatasetDict
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from ..models.vectors import VectorCoverage
from .distillation import Distillation


@dataclass
class Experiment:
    """Everything a Trainer needs besides its arguments: the data, encoded, and the tokenizer and first model."""

    dataset: DatasetDict
    source: str
    encoded: DatasetDict
    train_eval: Dataset
    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    coverage: VectorCoverage | None
    distillation: Distillation | None = None  # set when a teacher's logits are in encoded["train"]

    @property
    def label_names(self) -> list[str]:
        return self.dataset["train"].features["label"].names
