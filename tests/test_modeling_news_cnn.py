import pytest
import torch
from model_helpers import (
    PAD_ID,
    assert_empty_titles_defined,
    assert_gradients_reach_embedding,
    assert_logits_and_loss,
    assert_padding_invariant,
    padded_batch,
    randomize_biases,
    tiny_model,
)

from hfnews.models import NewsCNNConfig


def test_defaults_are_those_of_problem_86():
    config = NewsCNNConfig()
    assert (config.embedding_dim, config.num_filters, config.kernel_sizes, config.num_labels) == (300, 50, [3], 4)
    assert (config.activation, config.classifier_dropout, config.freeze_embeddings) == ("relu", 0.0, False)
    assert config.model_type == "hfnews-cnn"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_sizes": [3, 4]}, r"kernel_sizes must hold odd positive ints \(e.g. \[3, 5\]\), got 4"),
        ({"kernel_sizes": [-1]}, "kernel_sizes must hold odd positive ints .* got -1"),
        ({"kernel_sizes": [True]}, "kernel_sizes must hold odd positive ints .* got True"),
        ({"kernel_sizes": []}, r"kernel_sizes must be a non-empty list of odd positive ints, got \[\]"),
        ({"kernel_sizes": "3"}, "kernel_sizes must be a non-empty list of odd positive ints, got '3'"),
        ({"kernel_sizes": 3}, "kernel_sizes must be a non-empty list of odd positive ints, got 3"),
        ({"activation": "wiggle"}, "activation must be an ACT2FN name such as 'relu', 'tanh' or 'gelu', got 'wiggle'"),
        ({"num_filters": 0}, "num_filters must be a positive int, got 0"),
        ({"freeze_embeddings": 1}, "freeze_embeddings must be True or False, got 1"),
        ({"classifier_dropout": -0.1}, r"classifier_dropout must be in \[0, 1\), got -0.1"),
        ({"vocab_size": 10, "pad_token_id": -1}, r"pad_token_id must be None or in \[0, vocab_size=10\), got -1"),
    ],
)
def test_invalid_values_are_rejected_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NewsCNNConfig(**kwargs)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_matches_the_convolution_of_problem_86(activation):
    """p_t = g(W [e_{t-k//2}; ...; e_{t+k//2}] + b), zero vectors beyond the title; c = max_t p_t; y = W_y c + b_y."""
    model = randomize_biases(tiny_model("cnn", kernel_sizes=[3, 5], activation=activation))
    input_ids, attention_mask = padded_batch([4, 9])
    functions = {"relu": torch.relu, "tanh": torch.tanh, "gelu": torch.nn.functional.gelu}
    with torch.no_grad():
        logits = model(input_ids, attention_mask=attention_mask).logits
        words = model.cnn.embedding.weight[input_ids[0, :4]]  # (4, embedding_dim)
        pooled = []
        for conv in model.cnn.convs:
            half = conv.kernel_size[0] // 2
            padded = torch.cat([torch.zeros(half, 8), words, torch.zeros(half, 8)])
            windows = torch.stack([padded[t : t + 2 * half + 1].T.reshape(-1) for t in range(4)])
            scores = windows @ conv.weight.reshape(6, -1).T + conv.bias
            pooled.append(functions[activation](scores).amax(dim=0))
        expected = model.classifier(torch.cat(pooled))
    torch.testing.assert_close(logits[0], expected, rtol=0, atol=1e-5)


def test_logits_and_loss():
    assert_logits_and_loss(tiny_model("cnn"))


def test_gradients_reach_the_embedding():
    assert_gradients_reach_embedding(tiny_model("cnn"))


@pytest.mark.parametrize("kernel_sizes", [[3], [3, 5], [1, 7]])
def test_padding_does_not_change_predictions(kernel_sizes):
    assert_padding_invariant(tiny_model("cnn", kernel_sizes=kernel_sizes))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_empty_titles_get_a_defined_prediction(activation):
    assert_empty_titles_defined("cnn", kernel_sizes=[3, 5], activation=activation)


def test_initialisation_zero_pad_row_and_biases():
    model = tiny_model("cnn", kernel_sizes=[3, 5])
    assert model.get_input_embeddings().weight[PAD_ID].count_nonzero() == 0
    for name, param in model.named_parameters():
        if "bias" in name:
            assert param.count_nonzero() == 0, name
