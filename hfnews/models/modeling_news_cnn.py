"""The convolutional headline classifier of NLP-100 problems 86-87 as a transformers `PreTrainedModel`.

This file is copied next to saved checkpoints and loaded with `trust_remote_code=True`, so it may import only torch,
transformers and its sibling configuration file.
"""

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_news_cnn import NewsCNNConfig


class NewsCNNEncoder(nn.Module):
    """Token ids -> max-pooled convolution features, computed as if the padding were not there.

    Padded positions get zero vectors before the convolution, so a window at a title's border sees zeros exactly as
    the convolution's own zero padding gives an unpadded title, and they are excluded from the max-pool. An empty title
    (no real word) is pooled over its first position, i.e. read as a single zero vector, so it gets a defined
    prediction instead of an error.
    """

    def __init__(self, config: NewsCNNConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=config.pad_token_id)
        self.convs = nn.ModuleList(
            nn.Conv1d(config.embedding_dim, config.num_filters, kernel_size=size, padding=size // 2)
            for size in config.kernel_sizes
        )
        self.activation = ACT2FN[config.activation]
        self.output_size = config.num_filters * len(config.kernel_sizes)

    def forward(self, input_ids: torch.LongTensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """`(batch, seq_len)` int64 ids and their int64/bool mask -> `(batch, output_size)` float32 pooled features."""
        mask = attention_mask.bool()  # (batch, seq_len)
        embeds = self.embedding(input_ids).masked_fill(~mask.unsqueeze(-1), 0.0)  # (batch, seq_len, embedding_dim)
        if embeds.size(1) == 0:
            embeds = embeds.new_zeros(embeds.size(0), 1, embeds.size(2))
            mask = mask.new_zeros(mask.size(0), 1)
        pool_mask = mask.clone()
        pool_mask[:, 0] |= ~mask.any(dim=1)
        windows = embeds.transpose(1, 2)  # (batch, embedding_dim, seq_len), the layout nn.Conv1d expects
        pooled = [  # each (batch, num_filters): odd kernels with padding k // 2 keep seq_len
            self.activation(conv(windows)).masked_fill(~pool_mask.unsqueeze(1), float("-inf")).amax(dim=2)
            for conv in self.convs
        ]
        return torch.cat(pooled, dim=1)


class NewsCNNPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading rules shared by the NewsCNN models."""

    config_class = NewsCNNConfig
    base_model_prefix = "cnn"
    main_input_name = "input_ids"
    _no_split_modules = ["NewsCNNEncoder"]

    def _init_weights(self, module: nn.Module) -> None:
        """Xavier convolutions and projections over transformers' defaults (which give the random word vectors, std
        `config.initializer_range`, and the zero padding row).

        The base draws nn.Conv1d and nn.Linear from the same normal as the word vectors; Xavier scales them to their
        fan-in and fan-out instead. The `transformers.initialization` functions skip tensors that `from_pretrained`
        already loaded, so loaded weights are never overwritten.
        """
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            init.xavier_uniform_(module.weight)
            init.zeros_(module.bias)
        else:
            super()._init_weights(module)

    # Copied from hfnews.models.modeling_news_rnn.NewsRNNPreTrainedModel.from_pretrained
    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        """Load as usual, then re-apply `config.freeze_embeddings`: loading swaps in new, trainable parameters."""
        loaded = super().from_pretrained(*args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded  # tuple with output_loading_info=True
        model.apply_embedding_freeze()
        return loaded

    # Copied from hfnews.models.modeling_news_rnn.NewsRNNPreTrainedModel.apply_embedding_freeze
    def apply_embedding_freeze(self) -> None:
        """Make the word vectors trainable or not, as `config.freeze_embeddings` says."""
        self.get_input_embeddings().weight.requires_grad_(not self.config.freeze_embeddings)


# Copied from hfnews.models.modeling_news_rnn.NewsRNNForSequenceClassification with RNN->CNN,rnn->cnn
class NewsCNNForSequenceClassification(NewsCNNPreTrainedModel):
    """NewsCNN with dropout and a linear layer on its encoder's features: class scores for a batch of headlines."""

    def __init__(self, config: NewsCNNConfig):
        super().__init__(config)
        self.cnn = NewsCNNEncoder(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(self.cnn.output_size, config.num_labels)
        self.post_init()
        self.apply_embedding_freeze()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.cnn.embedding

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.cnn.embedding = value

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
        features = self.cnn(input_ids, attention_mask)  # (batch, output_size)
        logits = self.classifier(self.dropout(features))  # (batch, num_labels)
        loss = None if labels is None else self.loss_function(labels=labels, pooled_logits=logits, config=self.config)
        if self.config.output_hidden_states if output_hidden_states is None else output_hidden_states:
            output = SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=(features,))
        else:
            output = SequenceClassifierOutput(loss=loss, logits=logits)
        return_dict = self.config.return_dict if return_dict is None else return_dict
        return output if return_dict else output.to_tuple()
