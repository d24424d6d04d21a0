"""The text-classification pipeline of hfnews: transformers' own, truncating texts longer than the model takes.

transformers' `TextClassificationPipeline` passes texts to the tokenizer untruncated, so a BERT checkpoint fails on a
text of more than 512 tokens unless every call says `truncation=True`. This subclass truncates by default when the
tokenizer has a finite `model_max_length`; word-ID tokenizers have none, and their RNN/CNN read any length as before.
An explicit `truncation=...` (at `pipeline()` or per call) still wins.

`import hfnews` makes `pipeline("text-classification")` (and its alias "sentiment-analysis") build this class, via
`register_text_classification_pipeline`, once transformers has loaded `transformers.pipelines`.
"""

from transformers.pipelines import PIPELINE_REGISTRY
from transformers.pipelines.text_classification import TextClassificationPipeline

from .prediction import max_input_length


TASK = "text-classification"


class TruncatingTextClassificationPipeline(TextClassificationPipeline):
    """`TextClassificationPipeline` with `truncation=True` by default when the model has a maximum length."""

    def preprocess(self, inputs, **tokenizer_kwargs):
        if "truncation" not in tokenizer_kwargs and max_input_length(self.tokenizer) is not None:
            tokenizer_kwargs["truncation"] = True
        return super().preprocess(inputs, **tokenizer_kwargs)


def register_text_classification_pipeline() -> None:
    """Make `pipeline("text-classification")` build `TruncatingTextClassificationPipeline`.

    The task's entry keeps its default model, model classes and type; only `impl` changes. Not
    `PIPELINE_REGISTRY.register_pipeline`: it marks the class as a custom pipeline, so `Pipeline.save_pretrained`
    would copy this file next to the model and saved folders would then need `trust_remote_code=True`.
    """
    entry = PIPELINE_REGISTRY.supported_tasks[TASK]
    PIPELINE_REGISTRY.supported_tasks[TASK] = {**entry, "impl": TruncatingTextClassificationPipeline}
