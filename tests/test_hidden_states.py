"""`output_hidden_states` and `output_attentions` as transformers models take them (issue 20): the sentence vectors
a user plots (NLP 100 chapter 7's t-SNE), by argument or by config; no attention, so `attentions` is None."""

import pytest
import torch
from model_helpers import padded_batch, tiny_model


@pytest.mark.parametrize("kind", ["rnn", "cnn"])
def test_hidden_states_are_the_features_the_classifier_reads(kind):
    model = tiny_model(kind)
    input_ids, attention_mask = padded_batch([5, 3, 1, 4])
    plain = model(input_ids, attention_mask)
    assert plain.hidden_states is None and plain.attentions is None
    asked = model(input_ids, attention_mask, output_hidden_states=True, output_attentions=True)
    (features,) = asked.hidden_states
    encoder = getattr(model, model.base_model_prefix)
    assert features.shape == (input_ids.size(0), encoder.output_size) and features.dtype == torch.float32
    torch.testing.assert_close(features, encoder(input_ids, attention_mask))
    torch.testing.assert_close(model.classifier(features), asked.logits)  # eval mode: dropout is the identity
    torch.testing.assert_close(asked.logits, plain.logits)
    assert asked.attentions is None
    logits, hidden = model(input_ids, attention_mask, output_hidden_states=True, return_dict=False)
    torch.testing.assert_close(hidden[0], features)


@pytest.mark.parametrize("kind", ["rnn", "cnn"])
def test_config_output_hidden_states_is_honoured_and_an_argument_overrides_it(kind):
    model = tiny_model(kind, output_hidden_states=True)
    input_ids, attention_mask = padded_batch([5, 3, 1, 4])
    assert model(input_ids, attention_mask).hidden_states is not None
    assert model(input_ids, attention_mask, output_hidden_states=False).hidden_states is None
