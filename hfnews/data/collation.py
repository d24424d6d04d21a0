"""Training batches from encoded splits: the rows held as tensors once, padded per batch by `torch`.

`DataCollatorWithPadding` pads in Python: per batch the Trainer gathers the rows out of Arrow, `tokenizer.pad` turns
them into lists, pads each row and converts the lists back into tensors. `tensor_rows` reads a split out of Arrow
once, as one tensor per row and column (a `torch.utils.data.StackDataset`), and `PaddingCollator` pads a batch of them
with `torch.nn.utils.rnn.pad_sequence`, into the tensors `DataCollatorWithPadding` returns. Measured on the dev corpus
(CPU, one thread, the Trainer's own data loaders), a 32-row training batch took 0.67 ms before and 0.37 ms after, a
256-row evaluation batch 4.1 ms and 1.9 ms; over `scripts/train.py --model cnn`'s 5 epochs, data loading fell from
about 3.3 to 1.4 CPU seconds (the hand-written loop of `benchmarks/speed.py` spends about 0.7).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from datasets import Dataset
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import StackDataset
from transformers import PreTrainedTokenizerBase


# The label columns `DataCollatorWithPadding` renames to the `labels` argument of a model's forward.
LABEL_COLUMNS = ("label", "label_ids")
# A row's position in its split, batched like any column and taken out before the model sees the batch, so that
# predictions can be put back in the split's order (`hfnews.training.run.in_split_order`).
ROW_INDEX = "row_index"


def tensor_rows(split: Dataset) -> StackDataset:
    """`split`'s rows as dicts of tensors, read out of Arrow in one call (`Dataset.with_format("torch")`): integer
    columns as int64, float columns as float32, a list column as one 1-D tensor per row, a scalar column as 0-d
    tensors. For the Trainer's `train_dataset`/`eval_dataset`, batched by `PaddingCollator`."""
    return StackDataset(**split.with_format("torch")[:])


def as_tensor(value) -> torch.Tensor:
    """`torch.as_tensor`, skipped for a tensor (a tenth of its cost, paid for every value of every batch)."""
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value)


@dataclass
class PaddingCollator:
    """The batches of `DataCollatorWithPadding(tokenizer, pad_to_multiple_of=...)`, padded by `pad_sequence`.

    Rows are dicts of tensors (`tensor_rows`) or of lists (a `datasets` row). As `tokenizer.pad` does, the main input
    (`tokenizer.model_input_names[0]`, e.g. `input_ids`) is padded with `pad_token_id`, `attention_mask` with 0 (and
    made from the row lengths when the rows lack it and the tokenizer's model takes one), `token_type_ids` with
    `pad_token_type_id`, `special_tokens_mask` with 1, all on `tokenizer.padding_side`, to the batch's longest row
    (rounded up to a multiple of `pad_to_multiple_of`); any other column is stacked (its rows must be the same shape)
    and `label`/`label_ids` become `labels`. Returns a dict of `(batch, seq_len)` int64 inputs, `(batch,)` labels and
    the other columns stacked.
    """

    tokenizer: PreTrainedTokenizerBase
    pad_to_multiple_of: int | None = None

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        tokenizer = self.tokenizer
        main_input = tokenizer.model_input_names[0]
        padding = {
            main_input: tokenizer.pad_token_id, "attention_mask": 0, "token_type_ids": tokenizer.pad_token_type_id,
            "special_tokens_mask": 1,
        }  # fmt: skip
        columns = {key: [as_tensor(row[key]) for row in rows] for key in rows[0]}
        if "attention_mask" in tokenizer.model_input_names and "attention_mask" not in columns:
            columns["attention_mask"] = [torch.ones(len(ids), dtype=torch.int64) for ids in columns[main_input]]
        batch = {}
        for key, values in columns.items():
            if key in padding:
                batch[key] = self._pad(values, padding[key])
            else:
                batch["labels" if key in LABEL_COLUMNS else key] = torch.stack(values)
        return batch

    def _pad(self, values: list[torch.Tensor], value: int) -> torch.Tensor:
        side = self.tokenizer.padding_side
        padded = pad_sequence(values, batch_first=True, padding_value=value, padding_side=side)
        extra = -padded.size(1) % self.pad_to_multiple_of if self.pad_to_multiple_of else 0
        return F.pad(padded, (extra, 0) if side == "left" else (0, extra), value=value) if extra else padded
