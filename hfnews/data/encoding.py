"""Titles to token IDs for training: every split encoded once, each title cut to the tokenizer's `model_max_length`
(`hfnews.data.tokenization.encode_truncated`), and how many were cut said."""

from datasets import DatasetDict
from transformers import BatchEncoding, PreTrainedTokenizerBase

from .tokenization import encode_truncated, max_input_length, report_cut


def encode_texts(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> tuple[BatchEncoding, int]:
    """The tokenizer's unpadded inputs for `texts` (lists of int IDs per text), each cut to the tokenizer's
    `model_max_length` (`build_tokenizer` sets it), and how many texts were cut."""
    return encode_truncated(tokenizer, texts, max_input_length(tokenizer))


def encode_corpus(dataset: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> DatasetDict:
    """Token IDs for every title; only the model inputs and `label` remain (the collator pads per batch). How many
    titles of each split were longer than the model reads is logged."""
    encoded = {}
    for split, rows in dataset.items():
        cut = 0

        def encode(batch: dict) -> BatchEncoding:
            nonlocal cut
            encoding, batch_cut = encode_texts(tokenizer, batch["text"])
            cut += batch_cut
            return encoding

        columns = [name for name in rows.column_names if name != "label"]
        encoded[split] = rows.map(
            encode, batched=True, remove_columns=columns, keep_in_memory=True, desc=f"tokenizing {split}"
        )
        report_cut(cut, len(rows), max_input_length(tokenizer))
    return DatasetDict(encoded)
