"""Configuration of the recurrent headline classifier (NLP-100 problems 81-85).

This file is copied next to saved checkpoints and loaded with `trust_remote_code=True`, so it may import only torch
and transformers.
"""

from transformers import PreTrainedConfig


CELLS = ("rnn", "lstm", "gru")
NONLINEARITIES = ("tanh", "relu")


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


class NewsRNNConfig(PreTrainedConfig):
    """Embedding -> (bi)directional RNN/LSTM/GRU -> final hidden state -> dropout -> linear.

    Args:
        vocab_size: rows of the embedding matrix (`len(tokenizer)`).
        embedding_dim: word vector size d_w.
        hidden_size: recurrent state size d_h (per direction).
        cell: `"rnn"` (Elman, as in problem 81), `"lstm"` or `"gru"`.
        nonlinearity: `"tanh"` or `"relu"`; only the plain `"rnn"` cell uses it.
        num_layers: stacked recurrent layers; the classifier reads the top one.
        bidirectional: also run right-to-left and concatenate both final states (problem 85).
        classifier_dropout: dropout probability applied to the final state before the linear layer.
        initializer_range: standard deviation of the random word vectors.
        freeze_embeddings: keep the embedding fixed during training (e.g. pretrained word vectors).
        pad_token_id: the tokenizer's `[PAD]` id; its embedding row is kept at zero. When `attention_mask` is not
            given, positions holding this id are treated as padding.
        **kwargs: `PreTrainedConfig` arguments such as `num_labels` (default 4), `id2label` and `label2id`.
    """

    model_type = "hfnews-rnn"

    def __init__(
        self,
        vocab_size: int = 10000,
        embedding_dim: int = 300,
        hidden_size: int = 50,
        cell: str = "rnn",
        nonlinearity: str = "tanh",
        num_layers: int = 1,
        bidirectional: bool = False,
        classifier_dropout: float = 0.0,
        initializer_range: float = 0.02,
        freeze_embeddings: bool = False,
        pad_token_id: int | None = None,
        **kwargs,
    ):
        check_common_arguments(
            {
                "vocab_size": vocab_size,
                "embedding_dim": embedding_dim,
                "hidden_size": hidden_size,
                "num_layers": num_layers,
            },
            {"bidirectional": bidirectional, "freeze_embeddings": freeze_embeddings},
            classifier_dropout,
            initializer_range,
            pad_token_id,
        )
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.cell = cell
        self.nonlinearity = nonlinearity
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.classifier_dropout = classifier_dropout
        self.initializer_range = initializer_range
        self.freeze_embeddings = freeze_embeddings
        self.pad_token_id = pad_token_id
        if kwargs.get("id2label") is None:
            kwargs.setdefault("num_labels", 4)
        super().__init__(**kwargs)
