"""The recurrent headline classifier of NLP-100 problems 81-85 as a transformers `PreTrainedModel`.

This file is copied next to saved checkpoints and loaded with `trust_remote_code=True`, so it may import only torch,
transformers and its sibling configuration file.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_news_rnn import NewsRNNConfig


RECURRENT_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class NewsRNNEncoder(nn.Module):
    """Token ids -> the final hidden state of the top recurrent layer, read from the real (unmasked) words only.

    For a bidirectional net the result is the forward state after the last word concatenated with the backward state
    after the first word (problem 85). An empty title (no real word) is read as a single zero-vector step, so it gets a
    defined prediction instead of an error.
    """

    def __init__(self, config: NewsRNNConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id)
        cell_kwargs = {"nonlinearity": config.nonlinearity} if config.cell == "rnn" else {}
        self.recurrent = RECURRENT_LAYERS[config.cell](
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            batch_first=True,
            **cell_kwargs,
        )
        self.num_directions = 2 if config.bidirectional else 1
        self.output_size = self.num_directions * config.hidden_size

    def forward(self, input_ids: torch.LongTensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """`(batch, seq_len)` int64 ids and their int64/bool mask -> `(batch, output_size)` float32 final states."""
        mask = attention_mask.bool()  # (batch, seq_len)
        # Move each row's real words to the front, in order, so left- and right-padded batches read the same words.
        order = torch.sort(mask.int(), dim=1, descending=True, stable=True).indices
        input_ids, mask = input_ids.gather(1, order), mask.gather(1, order)
        embeds = self.embedding(input_ids).masked_fill(~mask.unsqueeze(-1), 0.0)  # (batch, seq_len, embedding_dim)
        if embeds.size(1) == 0:
            embeds = embeds.new_zeros(embeds.size(0), 1, embeds.size(2))
        lengths = mask.sum(dim=1).clamp(min=1).cpu()  # (batch,); length 0 -> one (zero-vector) step
        _, state = self.recurrent(pack_padded_sequence(embeds, lengths, batch_first=True, enforce_sorted=False))
        if isinstance(state, tuple):  # LSTM: (h_n, c_n)
            state = state[0]
        # h_n is (layers * directions, batch, hidden); keep the top layer's directions side by side.
        top = state.view(-1, self.num_directions, state.size(1), state.size(2))[-1]  # (directions, batch, hidden)
        return top.transpose(0, 1).reshape(state.size(1), self.output_size)


class NewsRNNPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading rules shared by the NewsRNN models."""

    config_class = NewsRNNConfig
    base_model_prefix = "rnn"
    main_input_name = "input_ids"
    _no_split_modules = ["NewsRNNEncoder"]

    def _init_weights(self, module: nn.Module) -> None:
        """Orthogonal recurrences and Xavier projections over transformers' defaults (which give the random word
        vectors, std `config.initializer_range`, and the zero padding row).

        The base covers nn.LSTM (Xavier everywhere) but not nn.RNN/nn.GRU, and draws nn.Linear from the same normal
        as the word vectors; orthogonal `weight_hh` keeps the recurrence from exploding or vanishing at the start.
        The `transformers.initialization` functions skip tensors that `from_pretrained` already loaded, so loaded
        weights are never overwritten.
        """
        if isinstance(module, nn.RNNBase):
            for name, param in module.named_parameters(recurse=False):
                if name.startswith("weight_hh"):
                    init.orthogonal_(param)
                elif name.startswith("weight_ih"):
                    init.xavier_uniform_(param)
                else:
                    init.zeros_(param)
        elif isinstance(module, nn.Linear):
            init.xavier_uniform_(module.weight)
            init.zeros_(module.bias)
        else:
            super()._init_weights(module)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        """Load as usual, then re-apply `config.freeze_embeddings`: loading swaps in new, trainable parameters."""
        loaded = super().from_pretrained(*args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded  # tuple with output_loading_info=True
        model.apply_embedding_freeze()
        return loaded

    def apply_embedding_freeze(self) -> None:
        """Make the word vectors trainable or not, as `config.freeze_embeddings` says."""
        self.get_input_embeddings().weight.requires_grad_(not self.config.freeze_embeddings)


class NewsRNNForSequenceClassification(NewsRNNPreTrainedModel):
    """NewsRNN with dropout and a linear layer on its encoder's features: class scores for a batch of headlines."""

    def __init__(self, config: NewsRNNConfig):
        super().__init__(config)
        self.rnn = NewsRNNEncoder(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(self.rnn.output_size, config.num_labels)
        self.post_init()
        self.apply_embedding_freeze()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.rnn.embedding

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.rnn.embedding = value

    def forward(
        self,
        input_ids: torch.LongTensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        return_dict: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> SequenceClassifierOutput | tuple:
        """Class scores, and the mean cross-entropy loss when `labels` are given, for a batch of token-id rows.

        Args:
            input_ids: `(batch, seq_len)` int64 token ids, padded on either side; `seq_len` may be 0.
            attention_mask: `(batch, seq_len)` int64 or bool, 1 for real words and 0 for padding. `None` treats the
                positions holding `config.pad_token_id` as padding (every position is real without a pad token).
            labels: `(batch,)` int64 class ids in `[0, config.num_labels)`.
            return_dict: a `SequenceClassifierOutput` when true (default: `config.return_dict`), else the tuple
                `(loss, logits)`, or `(logits,)` without labels (then `hidden_states` after them when asked).
            output_hidden_states: also return the encoder's sentence vectors (default:
                `config.output_hidden_states`): what the classifier reads, e.g. to plot headlines (NLP 100's t-SNE).
            output_attentions: accepted as transformers models take it; these models have no attention, so
                `attentions` is always `None`.

        Returns:
            `logits`: `(batch, num_labels)` float32 (the weights' dtype); `loss`: a float32 scalar, or `None`;
            `hidden_states`: when asked, a 1-tuple of `(batch, output_size)` float32 encoder features (a recurrent
            encoder's top-layer final states, both directions side by side; a convolutional one's max-pooled
            filters), else `None`; `attentions`: `None`.
        """
        if attention_mask is None:
            pad_id = self.config.pad_token_id
            attention_mask = torch.ones_like(input_ids, dtype=torch.bool) if pad_id is None else input_ids != pad_id
        features = self.rnn(input_ids, attention_mask)  # (batch, output_size)
        logits = self.classifier(self.dropout(features))  # (batch, num_labels)
        loss = None if labels is None else self.loss_function(labels=labels, pooled_logits=logits, config=self.config)
        if self.config.output_hidden_states if output_hidden_states is None else output_hidden_states:
            output = SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=(features,))
        else:
            output = SequenceClassifierOutput(loss=loss, logits=logits)
        return_dict = self.config.return_dict if return_dict is None else return_dict
        return output if return_dict else output.to_tuple()
