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

from hfnews.models import NewsRNNConfig


def test_defaults_are_those_of_problem_81():
    config = NewsRNNConfig()
    assert (config.embedding_dim, config.hidden_size, config.num_labels) == (300, 50, 4)
    assert (config.cell, config.nonlinearity, config.num_layers, config.bidirectional) == ("rnn", "tanh", 1, False)
    assert (config.classifier_dropout, config.freeze_embeddings, config.model_type) == (0.0, False, "hfnews-rnn")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cell": "transformer"}, "cell must be one of .* got 'transformer'"),
        ({"nonlinearity": "sigmoid"}, "nonlinearity must be one of .* got 'sigmoid'"),
        ({"hidden_size": 0}, "hidden_size must be a positive int, got 0"),
        ({"num_layers": 1.5}, "num_layers must be a positive int, got 1.5"),
        ({"embedding_dim": True}, "embedding_dim must be a positive int, got True"),
        ({"bidirectional": "yes"}, "bidirectional must be True or False, got 'yes'"),
        ({"classifier_dropout": 1.0}, r"classifier_dropout must be in \[0, 1\), got 1.0"),
        ({"initializer_range": 0}, "initializer_range must be positive, got 0"),
        ({"vocab_size": 10, "pad_token_id": 10}, r"pad_token_id must be None or in \[0, vocab_size=10\), got 10"),
    ],
)
def test_invalid_values_are_rejected_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NewsRNNConfig(**kwargs)


def test_matches_the_recurrence_of_problem_81():
    """h_t = tanh(W_x x_t + b_x + W_h h_{t-1} + b_h); the logits are W_y h_T + b_y on the last real word's state."""
    model = randomize_biases(tiny_model("rnn"))
    input_ids, attention_mask = padded_batch([5, 2])
    rnn = model.rnn.recurrent
    state = torch.zeros(6)
    for word in input_ids[1, :2]:
        x = model.rnn.embedding.weight[word]
        state = torch.tanh(rnn.weight_ih_l0 @ x + rnn.bias_ih_l0 + rnn.weight_hh_l0 @ state + rnn.bias_hh_l0)
    expected = model.classifier.weight @ state + model.classifier.bias
    with torch.no_grad():
        logits = model(input_ids, attention_mask=attention_mask).logits
    torch.testing.assert_close(logits[1], expected.detach(), rtol=0, atol=1e-5)


def test_relu_nonlinearity_reaches_the_plain_rnn():
    assert tiny_model("rnn", nonlinearity="relu").rnn.recurrent.nonlinearity == "relu"


def test_bidirectional_state_is_forward_after_last_word_and_backward_after_first():
    model = tiny_model("rnn", cell="gru", bidirectional=True, num_layers=2)
    input_ids, attention_mask = padded_batch([3, 7])
    with torch.no_grad():
        features = model.rnn(input_ids, attention_mask)
        outputs, _ = model.rnn.recurrent(model.rnn.embedding(input_ids[:1, :3]))  # top layer, unpadded title
    assert features.shape == (2, 12)
    torch.testing.assert_close(features[0, :6], outputs[0, -1, :6])
    torch.testing.assert_close(features[0, 6:], outputs[0, 0, 6:])


def test_logits_and_loss():
    assert_logits_and_loss(tiny_model("rnn", cell="lstm"))


def test_gradients_reach_the_embedding():
    assert_gradients_reach_embedding(tiny_model("rnn"))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("num_layers", "bidirectional"), [(1, False), (2, True)])
def test_padding_does_not_change_predictions(cell, num_layers, bidirectional):
    assert_padding_invariant(tiny_model("rnn", cell=cell, num_layers=num_layers, bidirectional=bidirectional))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_empty_titles_get_a_defined_prediction(cell):
    assert_empty_titles_defined("rnn", cell=cell, bidirectional=True)


def test_initialisation_zero_pad_row_and_biases_orthogonal_recurrence():
    model = tiny_model("rnn", num_layers=2)
    assert model.get_input_embeddings().weight[PAD_ID].count_nonzero() == 0
    for name, param in model.named_parameters():
        if "bias" in name:
            assert param.count_nonzero() == 0, name
        if "weight_hh" in name:
            torch.testing.assert_close(param @ param.T, torch.eye(6), rtol=0, atol=1e-5)
