"""A NewsRNN classifier with the same logits as the packed forward, written so `torch.export` can trace it.

`NewsRNNEncoder.forward` sorts each row's real words to the front with `torch.sort(stable=True)` and packs the batch
with `pack_padded_sequence`; both give data-dependent shapes, so `torch.export` (and `torch.onnx.export(dynamo=True)`)
fail on it. This module runs every layer and direction as its own one-layer recurrence over the whole padded batch:
real words are moved to the front by a scatter (the stable sort as a permutation of fixed shape), the backward
direction reads each row's real words reversed by a gather, and each row's final state is gathered at its last real
word. Positions after a row's last word are computed and ignored, so the logits equal the packed path's
(`tests/test_export.py` checks every cell, bidirectional and stacked, left- and right-padded, and empty titles).
"""

import torch
from torch import nn
from transformers import PreTrainedModel


def _one_layer(recurrent: nn.RNNBase, layer: int, suffix: str) -> nn.RNNBase:
    """A one-layer, one-direction copy of `recurrent`'s layer `layer` (`suffix` "" forward, "_reverse" backward)."""
    kwargs = {"nonlinearity": recurrent.nonlinearity} if isinstance(recurrent, nn.RNN) else {}
    input_size = recurrent.input_size if layer == 0 else recurrent.hidden_size * (2 if recurrent.bidirectional else 1)
    single = type(recurrent)(input_size, recurrent.hidden_size, num_layers=1, batch_first=True, **kwargs)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(single, f"{name}_l0").copy_(getattr(recurrent, f"{name}_l{layer}{suffix}"))
    return single


def _reverse_real(values: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """`(batch, seq_len, features)` with each row's first `lengths[row]` positions reversed, the rest unchanged."""
    positions = torch.arange(values.size(1), device=values.device).unsqueeze(0)  # (1, seq_len)
    last = lengths.unsqueeze(1) - 1  # (batch, 1)
    source = torch.where(positions <= last, last - positions, positions)  # (batch, seq_len)
    return values.gather(1, source.unsqueeze(-1).expand_as(values))


class ExportableNewsRNN(nn.Module):
    """`(input_ids, attention_mask)` -> `(batch, num_labels)` float32 logits of a `NewsRNNForSequenceClassification`
    in eval mode, without packing; `seq_len` must be at least 1 (pad an all-empty batch to one masked position)."""

    def __init__(self, model: PreTrainedModel):
        super().__init__()
        encoder = model.rnn
        self.embedding = encoder.embedding
        self.classifier = model.classifier
        directions = [""] + (["_reverse"] if encoder.recurrent.bidirectional else [])
        self.layers = nn.ModuleList(
            nn.ModuleList(_one_layer(encoder.recurrent, layer, suffix) for suffix in directions)
            for layer in range(encoder.recurrent.num_layers)
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.bool()  # (batch, seq_len)
        # The stable sort of the packed path as a scatter: real word k goes to position k, padding after them.
        real_rank = mask.long().cumsum(1) - 1
        lengths = mask.long().sum(1)  # (batch,)
        pad_rank = (~mask).long().cumsum(1) - 1 + lengths.unsqueeze(1)
        target = torch.where(mask, real_rank, pad_rank)
        input_ids = torch.zeros_like(input_ids).scatter(1, target, input_ids)
        mask = torch.zeros_like(mask).scatter(1, target, mask)
        values = self.embedding(input_ids).masked_fill(~mask.unsqueeze(-1), 0.0)  # (batch, seq_len, embedding_dim)
        lengths = lengths.clamp(min=1)  # an empty title is one zero-vector step, as in the packed path
        for directions in self.layers:
            outputs = [directions[0](values)[0]]  # (batch, seq_len, hidden)
            if len(directions) == 2:
                outputs.append(_reverse_real(directions[1](_reverse_real(values, lengths))[0], lengths))
            values = torch.cat(outputs, dim=2)
        hidden = self.layers[0][0].hidden_size
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, hidden)
        features = [values[:, :, :hidden].gather(1, last).squeeze(1)]  # forward state after the last real word
        if values.size(2) > hidden:
            features.append(values[:, 0, hidden:])  # backward state after reading back to the first word
        return self.classifier(torch.cat(features, dim=1))
