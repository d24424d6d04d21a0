"""Configuration of the convolutional headline classifier (NLP-100 problems 86-87).

This file is copied next to saved checkpoints and loaded with `trust_remote_code=True`, so it may import only torch
and transformers.
"""

from collections.abc import Sequence

from transformers import PreTrainedConfig
from transformers.activations import ACT2FN


# Copied from hfnews.models.configuration_news_rnn.check_common_arguments
def check_common_arguments(
    sizes: dict[str, int],
    flags: dict[str, bool],
    classifier_dropout: float,
    initializer_range: float,
    pad_token_id: int | None,
) -> None:
    """Raise `ValueError` naming the first bad argument among those every headline classifier takes.

    `sizes` must be positive ints (`sizes["vocab_size"]` bounds `pad_token_id`), `flags` real bools.
    """
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")
    if not 0.0 <= classifier_dropout < 1.0:
        raise ValueError(f"classifier_dropout must be in [0, 1), got {classifier_dropout!r}")
    if not initializer_range > 0:
        raise ValueError(f"initializer_range must be positive, got {initializer_range!r}")
    vocab_size = sizes["vocab_size"]
    if pad_token_id is not None and not 0 <= pad_token_id < vocab_size:
        raise ValueError(f"pad_token_id must be None or in [0, vocab_size={vocab_size}), got {pad_token_id!r}")


class NewsCNNConfig(PreTrainedConfig):
    """Embedding -> 1-D convolutions over word windows -> activation -> max-pool over time -> dropout -> linear.

    Args:
        vocab_size: rows of the embedding matrix (`len(tokenizer)`).
        embedding_dim: word vector size d_w.
        num_filters: output channels d_h of each convolution.
        kernel_sizes: window widths in words, each odd so every word is a window centre (padding `k // 2`); with
            several sizes the pooled outputs are concatenated.
        activation: a name from `transformers.activations.ACT2FN` (`"relu"`, `"tanh"`, `"gelu"`, ...).
        classifier_dropout: dropout probability applied to the pooled features before the linear layer.
        initializer_range: standard deviation of the random word vectors.
        freeze_embeddings: keep the embedding fixed during training (e.g. pretrained word vectors).
        pad_token_id: the tokenizer's `[PAD]` id; its embedding row is kept at zero. When `attention_mask` is not
            given, positions holding this id are treated as padding.
        **kwargs: `PreTrainedConfig` arguments such as `num_labels` (default 4), `id2label` and `label2id`.
    """

    model_type = "hfnews-cnn"

    def __init__(
        self,
        vocab_size: int = 10000,
        embedding_dim: int = 300,
        num_filters: int = 50,
        kernel_sizes: Sequence[int] = (3,),
        activation: str = "relu",
        classifier_dropout: float = 0.0,
        initializer_range: float = 0.02,
        freeze_embeddings: bool = False,
        pad_token_id: int | None = None,
        **kwargs,
    ):
        check_common_arguments(
            {"vocab_size": vocab_size, "embedding_dim": embedding_dim, "num_filters": num_filters},
            {"freeze_embeddings": freeze_embeddings},
            classifier_dropout,
            initializer_range,
            pad_token_id,
        )
        if isinstance(kernel_sizes, (str, bytes)) or not isinstance(kernel_sizes, Sequence) or not kernel_sizes:
            raise ValueError(f"kernel_sizes must be a non-empty list of odd positive ints, got {kernel_sizes!r}")
        for size in kernel_sizes:
            if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
                raise ValueError(f"kernel_sizes must hold odd positive ints (e.g. [3, 5]), got {size!r}")
        if activation not in ACT2FN:
            raise ValueError(f"activation must be an ACT2FN name such as 'relu', 'tanh' or 'gelu', got {activation!r}")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.num_filters = num_filters
        self.kernel_sizes = list(kernel_sizes)
        self.activation = activation
        self.classifier_dropout = classifier_dropout
        self.initializer_range = initializer_range
        self.freeze_embeddings = freeze_embeddings
        self.pad_token_id = pad_token_id
        if kwargs.get("id2label") is None:
            kwargs.setdefault("num_labels", 4)
        super().__init__(**kwargs)
