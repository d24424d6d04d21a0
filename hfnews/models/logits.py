"""A model's logits for many texts: batches of similar length, each text cut to what the model reads, rows back in
input order. The loop under `hfnews.inference.prediction` (classifying files) and a distilled run's teacher labels
(`hfnews.training.distillation`)."""

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from ..data.tokenization import encode_truncated, input_length_limit, report_cut


@torch.inference_mode()
def predict_logits(
    model, tokenizer, texts: Sequence[str], batch_size: int = 256, progress: bool = True, desc: str = "classifying"
) -> torch.Tensor:
    """The model's logits for every text: float32 (len(texts), num_labels) on the CPU, rows in the order of `texts`.

    Batches of `batch_size` texts of similar length in characters, so short headlines are not padded to the longest
    of the file; each text is cut to `input_length_limit` tokens (how many were cut is logged). `progress` shows a
    tqdm bar (on stderr, titled `desc`) counting headlines.
    """
    model.eval()
    max_length = input_length_limit(tokenizer, model.config.model_type)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    logits = torch.empty(len(texts), model.config.num_labels)
    cut = 0
    with tqdm(total=len(texts), unit="headlines", disable=not progress, desc=desc) as bar:
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch, batch_cut = encode_truncated(
                tokenizer, [texts[i] for i in rows], max_length, padding=True, return_tensors="pt"
            )
            logits[rows] = model(**batch.to(model.device)).logits.float().cpu()
            cut += batch_cut
            bar.update(len(rows))
    report_cut(cut, len(texts), max_length)
    return logits
