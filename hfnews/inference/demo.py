"""A gradio page on which a headline typed in is classified by every given model side by side.

One `gr.Label` per model, named by its folder, shows the four categories with their scores. Example headlines are the
models' most confident test mistakes (`test_predictions.jsonl`, the ones the model card lists), so a visitor sees
where the models disagree. The classify function is exposed as `api_name="classify"`: `gradio_client` gets one
label with confidences per model, in the order the models were given.
"""

import json
import os
from collections.abc import Sequence
from pathlib import Path

from ..evaluation.error_analysis import PREDICTIONS_FILE, confident_mistakes
from .backends import Classifier
from .onnx_backend import QUANTIZED_DIR


EXAMPLES_PER_MODEL = 4  # mistakes shown per model: one per category
# When no model folder holds test predictions (e.g. a checkpoint trained elsewhere), one headline per category.
FALLBACK_EXAMPLES = [
    (text, text)
    for text in (
        "Fed raises interest rates for the first time in a decade",
        "Apple unveils a new iPhone with a bigger screen",
        "Kim Kardashian and Kanye West share wedding photos",
        "Ebola outbreak spreads in West Africa, WHO says",
    )
]
TITLE = "hfnews: news headline categories"


def model_names(folders: Sequence[str | os.PathLike]) -> list[str]:
    """Each folder's name (`bert-onnx/int8` for an int8 copy), or its whole path where two folders share a name, so
    every label is told apart."""
    paths = [Path(folder) for folder in folders]
    names = [f"{path.parent.name}/{path.name}" if path.name == QUANTIZED_DIR else path.name for path in paths]
    return [name if names.count(name) == 1 else str(path) for name, path in zip(names, paths)]


def example_headlines(
    folders: Sequence[str | os.PathLike], per_model: int = EXAMPLES_PER_MODEL
) -> list[tuple[str, str]]:
    """Up to `per_model` of each folder's most confident test mistakes, one category after another, without repeats,
    as `(headline, caption)` with the caption `"<true label> read as <predicted>: <headline>"`; `FALLBACK_EXAMPLES`
    (caption = headline) when no folder holds `test_predictions.jsonl`."""
    examples: dict[str, str] = {}
    for folder in folders:
        path = Path(folder) / PREDICTIONS_FILE
        if not path.is_file():
            continue
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        labels = list(dict.fromkeys(record["gold"] for record in records))
        per_class = list(confident_mistakes(records, labels, per_class=per_model).values())
        # Round robin over the categories: each one's most confident mistake, then each one's second, ...
        by_rank = [wrong[rank] for rank in range(per_model) for wrong in per_class if rank < len(wrong)]
        for record in by_rank[:per_model]:
            examples.setdefault(record["text"], f"{record['gold']} read as {record['predicted']}: {record['text']}")
    return list(examples.items()) or FALLBACK_EXAMPLES


def build_demo(classifiers: Sequence[Classifier], names: Sequence[str], examples: Sequence[tuple[str, str]]):
    """The `gr.Blocks` page (not launched): a text box, a Classify button, one `gr.Label` per model (elem_id
    `label-<i>`), and `examples` (`(headline, caption)` pairs, see `example_headlines`)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline machines: no call home
    import gradio as gr

    def classify(text: str) -> list[dict[str, float]]:
        return [dict(classifier.top_labels([text], top_k=len(classifier.id2label))[0]) for classifier in classifiers]

    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nType a headline; every model below classifies it.")
        headline = gr.Textbox(label="Headline", placeholder="Fed raises interest rates", lines=1, elem_id="headline")
        button = gr.Button("Classify", variant="primary", elem_id="classify")
        with gr.Row(equal_height=True):
            outputs = [
                gr.Label(label=f"{name} ({classifier.backend})", num_top_classes=4, elem_id=f"label-{i}")
                for i, (name, classifier) in enumerate(zip(names, classifiers))
            ]
        examples_label = (
            "Examples" if list(examples) == FALLBACK_EXAMPLES else "The models' most confident test mistakes"
        )
        gr.Examples(
            examples=[[text] for text, _ in examples],
            example_labels=[caption for _, caption in examples],
            inputs=headline,
            label=examples_label,
        )
        button.click(classify, inputs=headline, outputs=outputs, api_name="classify")
        headline.submit(classify, inputs=headline, outputs=outputs, api_name=False)
    return demo
