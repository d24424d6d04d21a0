"""The text-classification pipeline of hfnews: transformers' own, truncating texts longer than the model takes.

transformers' `TextClassificationPipeline` passes texts to the tokenizer untruncated, so a BERT checkpoint fails on a
text of more than 512 tokens unless every call says `truncation=True`. This subclass truncates by default when the
tokenizer has a finite `model_max_length` (BERT's 512; a word-ID model's `--max_length`, 256 by default; 256 for a
word-ID checkpoint saved before hfnews recorded its limit). A long text is clipped first (`hfnews.data.tokenization.
clip_text`), so that only the part read is tokenized. An explicit `truncation=...` (at `pipeline()` or per call)
still wins.

`import hfnews` makes `pipeline("text-classification")` (and its alias "sentiment-analysis") build this class, via
`register_text_classification_pipeline`, once transformers has loaded `transformers.pipelines`.
"""

from transformers.pipelines import PIPELINE_REGISTRY
from transformers.pipelines.text_classification import TextClassificationPipeline

from ..data.tokenization import clip_text, input_length_limit


TASK = "text-classification"


class TruncatingTextClassificationPipeline(TextClassificationPipeline):
    """`TextClassificationPipeline` with `truncation=True` by default when the model has a maximum length."""

    def preprocess(self, inputs, **tokenizer_kwargs):
        max_length = input_length_limit(self.tokenizer, self.model.config.model_type)
        if "truncation" not in tokenizer_kwargs and max_length is not None:
            tokenizer_kwargs["truncation"] = True
        if tokenizer_kwargs.get("truncation") and max_length is not None:
            tokenizer_kwargs.setdefault("max_length", max_length)
            if isinstance(inputs, str):  # a line of megabytes is tokenized only as far as it is read
                inputs = clip_text(self.tokenizer, inputs, tokenizer_kwargs["max_length"])
        return super().preprocess(inputs, **tokenizer_kwargs)


def register_text_classification_pipeline() -> None:
    """Make `pipeline("text-classification")` build `TruncatingTextClassificationPipeline`.

    The task's entry keeps its default model, model classes and type; only `impl` changes. Not
    `PIPELINE_REGISTRY.register_pipeline`: it marks the class as a custom pipeline, so `Pipeline.save_pretrained`
    would copy this file next to the model and saved folders would then need `trust_remote_code=True`.
    """
    entry = PIPELINE_REGISTRY.supported_tasks[TASK]
    PIPELINE_REGISTRY.supported_tasks[TASK] = {**entry, "impl": TruncatingTextClassificationPipeline}
