"""The model card (`README.md`) written next to every trained checkpoint and uploaded with it by `push_to_hub`."""

import json
from pathlib import Path


def _metrics_table(test: dict, label_names: list[str]) -> str:
    lines = ["| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label in label_names:
        lines.append(
            f"| {label} | {test[f'precision_{label}']:.4f} | {test[f'recall_{label}']:.4f} | "
            f"{test[f'f1_{label}']:.4f} | {int(test[f'support_{label}'])} |"
        )
    return "\n".join(lines)


def _history_table(history: list[dict]) -> str:
    lines = ["| epoch | train loss | train acc | valid loss | valid acc |", "|---:|---:|---:|---:|---:|"]
    for row in history:
        lines.append(
            f"| {row['epoch']:g} | {row['train_loss']:.4f} | {row['train_accuracy']:.4f} | "
            f"{row['eval_loss']:.4f} | {row['eval_accuracy']:.4f} |"
        )
    return "\n".join(lines)


def render_model_card(report: dict, model_config: dict, repo_id: str) -> str:
    """Markdown with Hub metadata, the data, the configuration, the metrics and a `pipeline()` snippet.

    `report` is what `metrics.json` holds; `model_config` the model's `config.to_diff_dict()`.
    """
    test, labels, data = report["test"], report["label_names"], report["data"]
    custom = model_config.get("model_type", "").startswith("hfnews-")
    remote = ", trust_remote_code=True" if custom else ""
    coverage = report.get("vectors_coverage")
    coverage_line = (
        f"- Pretrained word vectors: `{coverage['source']}`, covering {coverage['found']:,} of {coverage['total']:,} "
        f"vocabulary words ({coverage['ratio']:.1%}); the rest started random.\n"
        if coverage
        else ""
    )
    distillation = report.get("distillation")
    distillation_line = (
        f"- Distilled from the teacher `{distillation['teacher']}` (its logits as soft targets: alpha "
        f"{distillation['alpha']:g}, temperature {distillation['temperature']:g}); this checkpoint is the student.\n"
        if distillation
        else ""
    )
    config_json = json.dumps(
        {k: v for k, v in model_config.items() if k not in ("id2label", "label2id", "auto_map")}, indent=2
    )
    training_json = json.dumps(report["training"], indent=2)
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags:
- hfnews
- text-classification
- news
metrics:
- accuracy
- f1
model-index:
- name: {repo_id}
  results:
  - task:
      type: text-classification
    dataset:
      name: UCI News Aggregator (NLP 100, problem 50 split)
      type: news-aggregator
    metrics:
    - type: accuracy
      value: {test["accuracy"]:.4f}
    - type: f1
      name: macro F1
      value: {test["macro_f1"]:.4f}
---

# {repo_id}

A news-headline classifier ({report["architecture"]}, trained with [hfnews](https://pypi.org/project/hfnews/)) for
the four categories of the UCI News Aggregator corpus: {", ".join(f"`{name}`" for name in labels)}.

## Data
- Source: `{data["source"]}`; publishers Reuters, Huffington Post, Businessweek, Contactmusic.com and Daily Mail.
- Split: shuffled with seed {data["split_seed"]} (grouped by `{data["group_by"]}`), {data["train"]:,} train /
  {data["validation"]:,} validation / {data["test"]:,} test headlines.
{coverage_line}{distillation_line}
## Results (test split)
Accuracy **{test["accuracy"]:.4f}**, macro-F1 **{test["macro_f1"]:.4f}**, loss {test["loss"]:.4f}.

{_metrics_table(test, labels)}

Per epoch (the checkpoint is the epoch with the best validation accuracy):

{_history_table(report["history"])}

![learning curves](learning_curves.png)
![confusion matrix](confusion_matrix.png)

## Usage
```python
from transformers import pipeline

classifier = pipeline("text-classification", model="{repo_id}"{remote})
classifier("Fed raises interest rates for the first time in a decade", top_k=None)
```

## Configuration
Model:
```json
{config_json}
```
Training:
```json
{training_json}
```
"""


def write_model_card(output_dir: str | Path, report: dict, model_config: dict, repo_id: str) -> Path:
    path = Path(output_dir) / "README.md"
    path.write_text(render_model_card(report, model_config, repo_id), encoding="utf-8")
    return path
