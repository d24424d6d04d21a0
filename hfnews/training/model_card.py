"""The model card (`README.md`) written next to every trained checkpoint and uploaded with it by `push_to_hub`.

Built the way setfit builds its cards (`setfit/model_card.py`): a dataclass holds what the card says, it turns into
`huggingface_hub.ModelCardData` with `EvalResult`s (the YAML metadata and `model-index` the Hub shows as results),
and `ModelCard.from_template` renders `model_card_template.md`, a Jinja template shipped next to this module.

The card never publishes a local path: the model is named by its Hub id or its folder's name, the data by its file
name and SHA-256 checksum, pretrained vectors by their file or folder name. It names the classes the data has,
whatever they are.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..data.sources import resolve_source
from ..models.transformer_vectors import is_transformer_source
from .report import TrainingReport


TEMPLATE_PATH = Path(__file__).parent / "model_card_template.md"
CARD_FILE = "README.md"
# Config keys the card leaves out: the labels are listed on their own, `auto_map` is plumbing.
_HIDDEN_CONFIG_KEYS = ("id2label", "label2id", "auto_map")


@dataclass
class DataSource:
    """The data as a card may name it: `name` (file or folder names, comma-separated), `sha256` (hex digest of the
    files, see `_sha256`) and `url` (only for a downloaded source)."""

    name: str
    sha256: str
    url: str | None = None


def _sha256(paths: list[Path]) -> str:
    """One digest over the files' bytes; a folder contributes its files in sorted order, each after its relative
    path, and several sources are hashed one after another in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if path.is_dir():
                digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            with file.open("rb") as stream:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


def describe_data_source(sources: list[str]) -> DataSource:
    """Name and checksum a run's data: each source is a file, a folder (NLP 100 files or a prepared corpus) or a URL
    (read from the download cache, where the run has just put it); `--train_file` runs pass their two or three files.
    Raises `HfnewsError` when one does not exist."""
    url = sources[0] if len(sources) == 1 and sources[0].startswith(("http://", "https://")) else None
    paths = [resolve_source(source) for source in sources]
    return DataSource(name=", ".join(path.name for path in paths), sha256=_sha256(paths), url=url)


@dataclass
class NewsCardData:
    """What the card says about one run (the template reads these fields as `card.<name>`).

    Args:
        model_id (`str`): the Hub repo id once pushed, else the output folder's name.
        model_location (`str`): what the usage snippet loads: the Hub repo id once pushed, else the output folder's
            path relative to the folder training ran in, so the snippet works where the user trained.
        report (`TrainingReport`): the run's `metrics.json`.
        data (`DataSource`): the training data's name and checksum.
        model_config (`dict`): the model's `config.to_diff_dict()`.
        mistakes (`dict[str, list[dict]]`): the most confident test mistakes per gold label, see `error_analysis`.
        has_learning_curves (`bool`): whether `learning_curves.png` was written (it needs at least one epoch).
        example (`str`): the text the usage snippet classifies (a test row's, so it fits the data).
    """

    model_id: str
    report: TrainingReport
    data: DataSource
    model_config: dict
    mistakes: dict[str, list[dict]] = field(default_factory=dict)
    has_learning_curves: bool = True
    example: str = "A headline to classify"
    model_location: str = ""

    @property
    def example_literal(self) -> str:
        """`example` as a Python string literal for the usage snippet (JSON strings are valid Python strings)."""
        return json.dumps(self.example, ensure_ascii=False)

    @property
    def location_literal(self) -> str:
        """`model_location` (else `model_id`) as a Python string literal for the usage snippet."""
        return json.dumps(self.model_location or self.model_id, ensure_ascii=False)

    @property
    def trust_remote_code(self) -> bool:
        """hfnews's own architectures load through the modeling files shipped with the checkpoint."""
        return self.model_config.get("model_type", "").startswith("hfnews-")

    @property
    def dataset_name(self) -> str:
        return self.data.name.split(".")[0]

    @property
    def vectors_name(self) -> str | None:
        coverage = self.report.vectors_coverage
        return None if coverage is None else Path(str(coverage["source"])).name

    @property
    def vectors_from_transformer(self) -> bool:
        """Whether the word vectors were a transformer's input embeddings (`hfnews.models.transformer_vectors`)."""
        coverage = self.report.vectors_coverage
        return coverage is not None and is_transformer_source(str(coverage["source"]))

    @property
    def teacher_name(self) -> str | None:
        """A distilled run's teacher as the card may name it: a Hub id as given, a local folder by its name only."""
        distillation = self.report.distillation
        if distillation is None:
            return None
        teacher = str(distillation["teacher"])
        return Path(teacher).name if Path(teacher).exists() else teacher

    @property
    def config_json(self) -> str:
        return json.dumps({k: v for k, v in self.model_config.items() if k not in _HIDDEN_CONFIG_KEYS}, indent=2)

    @property
    def training_json(self) -> str:
        return json.dumps(self.report.training, indent=2, default=str)

    def to_model_card_data(self) -> ModelCardData:
        """The YAML metadata: library, task, tags and the test scores as `model-index` results."""
        test = self.report.test

        def result(metric_type: str, value: float, name: str) -> EvalResult:
            return EvalResult(
                task_type="text-classification", task_name="Text Classification",
                dataset_type=self.dataset_name, dataset_name=self.data.name, dataset_split="test",
                metric_type=metric_type, metric_value=value, metric_name=name,
            )  # fmt: skip

        return ModelCardData(
            model_name=self.model_id,
            library_name="transformers",
            pipeline_tag="text-classification",
            tags=["hfnews", "text-classification", self.report.architecture],
            metrics=["accuracy", "f1"],
            eval_results=[
                result("accuracy", test["accuracy"], "Accuracy"),
                result("f1", test["macro_f1"], "Macro F1"),
            ],
        )


def render_model_card(card: NewsCardData) -> ModelCard:
    """The card: `model_card_template.md` rendered with `card`, under `card.to_model_card_data()`'s metadata."""
    return ModelCard.from_template(card.to_model_card_data(), template_path=str(TEMPLATE_PATH), card=card)


def write_model_card(output_dir: str | Path, card: NewsCardData) -> Path:
    """Render the card into `output_dir/README.md` (UTF-8) and return its path."""
    path = Path(output_dir) / CARD_FILE
    render_model_card(card).save(path)
    return path
