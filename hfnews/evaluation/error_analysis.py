"""What a model gets wrong, without writing code: every test prediction in `test_predictions.jsonl`, and the most
confident mistakes of each class for the printed summary and the model card."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import HfnewsError
from ..integrity import atomic_write


if TYPE_CHECKING:
    from datasets import Dataset


PREDICTIONS_FILE = "test_predictions.jsonl"
MISTAKES_PER_CLASS = 3


def prediction_records(
    texts: Sequence[str], label_ids: Sequence[int], logits: np.ndarray | tuple, label_names: Sequence[str]
) -> list[dict]:
    """One dict per row: `text`, `gold` and `predicted` label names, and `probabilities` (label name -> softmax
    probability, float). `logits` is `(rows, num_labels)`, or a tuple whose first element is (extra model outputs)."""
    import torch  # here: the demo page reads the card's mistakes with confident_mistakes, also without torch

    if isinstance(logits, tuple):
        logits = logits[0]
    probabilities = torch.softmax(torch.as_tensor(np.asarray(logits), dtype=torch.float32), dim=-1).tolist()
    return [
        {
            "text": text,
            "gold": label_names[gold],
            "predicted": label_names[int(np.argmax(row))],
            "probabilities": dict(zip(label_names, row, strict=True)),
        }
        for text, gold, row in zip(texts, label_ids, probabilities, strict=True)
    ]


def write_predictions(output_dir: str | Path, records: list[dict]) -> Path:
    """Write `test_predictions.jsonl` (one JSON object per line, UTF-8, in test-split order) into `output_dir`."""
    path = Path(output_dir) / PREDICTIONS_FILE
    with atomic_write(path, "w", encoding="utf-8") as file:
        file.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    return path


def check_predictions_file(output_dir: str | Path, split: "Dataset", accuracy: float) -> None:
    """Read `test_predictions.jsonl` back and check it against what it describes: one record per row of `split`
    (its `text` and `ClassLabel` `label` columns), texts and gold labels in the split's order, and the accuracy of
    its `predicted` labels equal to `accuracy` (the metrics', a fraction in [0, 1]) within 1e-9.

    Raises:
        HfnewsError: naming the first disagreement; the file is removed first, so that no wrong file is left.
    """
    path = Path(output_dir) / PREDICTIONS_FILE
    # json.dumps escapes line breaks, so each record is one "\n"-ended line (str.splitlines would also split a
    # title at U+2028 and similar characters, which json.dumps leaves as they are with ensure_ascii=False).
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]
    names = split.features["label"].names
    texts, gold = split["text"][:], [names[label] for label in split["label"][:]]
    problem = None
    if len(records) != len(texts):
        problem = f"{len(records)} records for {len(texts)} rows"
    elif [record["text"] for record in records] != texts or [record["gold"] for record in records] != gold:
        problem = "its texts or gold labels are not the split's, in order"
    else:
        recomputed = sum(record["predicted"] == record["gold"] for record in records) / max(len(records), 1)
        if abs(recomputed - accuracy) > 1e-9:
            problem = f"its predictions score {recomputed:.4f} where the metrics say {accuracy:.4f}"
    if problem is not None:
        path.unlink()
        raise HfnewsError(f"{path} disagrees with the run's metrics: {problem}; it was removed")


def confident_mistakes(
    records: list[dict], label_names: Sequence[str], per_class: int = MISTAKES_PER_CLASS
) -> dict[str, list[dict]]:
    """For each gold label (every name in `label_names`, in order), its wrong predictions with the highest predicted
    probability first, at most `per_class` of them."""
    mistakes: dict[str, list[dict]] = {name: [] for name in label_names}
    for record in records:
        if record["predicted"] != record["gold"]:
            mistakes[record["gold"]].append(record)
    return {
        name: sorted(wrong, key=lambda record: -record["probabilities"][record["predicted"]])[:per_class]
        for name, wrong in mistakes.items()
    }


def format_mistakes(mistakes: dict[str, list[dict]]) -> str:
    """Plain-text lines for the run's printed summary: per gold label, `p=0.97 predicted X: text`."""
    lines = ["most confident test mistakes per class:"]
    for gold, wrong in mistakes.items():
        lines.append(f"  {gold}:" + ("" if wrong else " none"))
        for record in wrong:
            predicted = record["predicted"]
            lines.append(f"    p={record['probabilities'][predicted]:.2f} predicted {predicted}: {record['text']}")
    return "\n".join(lines)
