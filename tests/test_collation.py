"""`PaddingCollator` and `tensor_rows` give the batches `DataCollatorWithPadding` gives, tensor for tensor."""

import pytest
import torch
from datasets import Dataset
from model_helpers import HEADLINES, headline_tokenizer
from transformers import DataCollatorWithPadding

from hfnews.data.collation import PaddingCollator, tensor_rows


def encoded_rows(tokenizer, **options) -> Dataset:
    """HEADLINES encoded (unpadded) with a label and a float column, as `training.encode_corpus` leaves a split."""
    encoded = tokenizer(HEADLINES, **options)
    labels = [i % 4 for i in range(len(HEADLINES))]
    teacher = [[0.5 * i, -1.0, 2.0, float(i % 3)] for i in range(len(HEADLINES))]
    return Dataset.from_dict({**encoded, "label": labels, "teacher_logits": teacher})


def assert_same_batches(expected: dict, actual: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for key, tensor in expected.items():
        assert actual[key].dtype == tensor.dtype, key
        assert torch.equal(actual[key], tensor), key


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("pad_to_multiple_of", [None, 8])
def test_tensor_rows_pad_like_data_collator_with_padding(padding_side, pad_to_multiple_of):
    tokenizer = headline_tokenizer()
    tokenizer.padding_side = padding_side
    split = encoded_rows(tokenizer, return_token_type_ids=True, return_special_tokens_mask=True)
    lengths = [len(ids) for ids in split["input_ids"]]
    assert len(set(lengths)) > 1  # the batch needs padding
    reference = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_to_multiple_of)
    collator = PaddingCollator(tokenizer, pad_to_multiple_of=pad_to_multiple_of)
    rows = tensor_rows(split)
    batch = collator([rows[i] for i in range(len(rows))])
    assert_same_batches(reference([split[i] for i in range(len(split))]), batch)
    assert batch["input_ids"].shape == (len(HEADLINES), batch["input_ids"].shape[1])
    if pad_to_multiple_of:
        assert batch["input_ids"].shape[1] % pad_to_multiple_of == 0
    # datasets rows (Python lists), as `trainer.data_collator` gets them outside the Trainer, give the same batch.
    assert_same_batches(batch, collator([split[i] for i in range(len(split))]))


def test_rows_without_attention_mask_get_one_from_their_lengths():
    tokenizer = headline_tokenizer()
    split = encoded_rows(tokenizer, return_attention_mask=False)
    assert "attention_mask" not in split.column_names
    rows = [split[i] for i in range(3)]
    assert_same_batches(DataCollatorWithPadding(tokenizer)(rows), PaddingCollator(tokenizer)(rows))


def test_tensor_rows_read_every_column_as_tensors():
    split = encoded_rows(headline_tokenizer())
    rows = tensor_rows(split)
    assert len(rows) == len(split)
    row = rows[1]
    assert row["input_ids"].tolist() == split[1]["input_ids"] and row["input_ids"].dtype == torch.int64
    assert row["label"].ndim == 0 and row["label"].item() == 1
    assert row["teacher_logits"].dtype == torch.float32
    assert torch.allclose(row["teacher_logits"], torch.tensor(split[1]["teacher_logits"]))
