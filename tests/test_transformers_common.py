"""The RNN and CNN against transformers' own common model tests (issue 20): `ModelTesterMixin` and `ConfigTester`
from the installed transformers' source distribution (`transformers_common.py`), run with tiny configurations as
transformers' model tests run (batch 13, sequence 7, vocabulary 99).

Each test of the mixin that cannot apply to these models is skipped with its reason (`NOT_APPLICABLE`); every other
one must pass. The mixin's suite runs inside one pytest test per model, through `unittest`, and the run prints how
many of its tests passed and were skipped.
"""

import io
import unittest

import pytest
import torch

from hfnews.models import (
    NewsCNNConfig,
    NewsCNNForSequenceClassification,
    NewsRNNConfig,
    NewsRNNForSequenceClassification,
)


pytestmark = pytest.mark.slow

NOT_APPLICABLE = {
    "test_attention_outputs": "no attention: `attentions` is always None",
    "test_retain_grad_hidden_states_attentions": "no attention whose gradient could be retained",
    "test_hidden_states_output": "`hidden_states` is one sentence vector per headline, (batch, features), not one "
    "(batch, seq_len, hidden) tensor per layer as the test expects of a transformer",
    "test_correct_missing_keys": "no base model class: the encoder is a plain nn.Module inside the classifier, "
    "without a save_pretrained of its own",
}


class NewsModelTester:
    """Tiny configurations and inputs in the shape `ModelTesterMixin` asks of a model tester."""

    def __init__(self, parent, config_class: type, **shape):
        self.parent, self.config_class, self.shape = parent, config_class, shape
        self.batch_size, self.seq_length, self.vocab_size, self.hidden_size = 13, 7, 99, 32
        self.num_hidden_layers, self.num_attention_heads, self.num_labels = 1, 1, 4
        self.is_training = True

    def get_config(self):
        extra = {"hidden_size": self.hidden_size} if self.config_class is NewsRNNConfig else {}
        return self.config_class(vocab_size=self.vocab_size, pad_token_id=0, embedding_dim=16,
                                 num_labels=self.num_labels, **extra, **self.shape)  # fmt: skip

    def prepare_config_and_inputs_for_common(self) -> tuple:
        generator = torch.Generator().manual_seed(0)
        input_ids = torch.randint(1, self.vocab_size, (self.batch_size, self.seq_length), generator=generator)
        attention_mask = torch.ones_like(input_ids)
        input_ids[1, 4:], attention_mask[1, 4:] = 0, 0  # one padded row
        return self.get_config(), {"input_ids": input_ids, "attention_mask": attention_mask}


def common_test_case(mixin, config_tester, config_class: type, model_class: type, **shape) -> type:
    """A `unittest.TestCase` of `mixin` for one model class, its inapplicable tests skipped with their reasons."""

    def setUp(self):  # noqa: N802 - unittest's name
        self.model_tester = NewsModelTester(self, config_class, **shape)
        properties = ["hidden_size"] if config_class is NewsRNNConfig else []
        self.config_tester = config_tester(
            self, config_class=config_class, common_properties=properties, vocab_size=99
        )

    def test_config(self):
        self.config_tester.run_common_tests()

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        inputs = mixin._prepare_for_class(self, inputs_dict, model_class, return_labels=False)
        if return_labels:  # the mixin adds labels only for the model classes it knows by name
            inputs["labels"] = torch.zeros(self.model_tester.batch_size, dtype=torch.long)
        return inputs

    skipped = {name: unittest.skip(reason)(lambda self: None) for name, reason in NOT_APPLICABLE.items()}
    namespace = {"all_model_classes": (model_class,), "pipeline_model_mapping": {}, "setUp": setUp,
                 "test_config": test_config, "_prepare_for_class": _prepare_for_class, **skipped}  # fmt: skip
    return type(f"{model_class.__name__}CommonTest", (mixin, unittest.TestCase), namespace)


@pytest.mark.parametrize(
    ("config_class", "model_class", "shape"),
    [
        (NewsRNNConfig, NewsRNNForSequenceClassification, {"cell": "gru", "bidirectional": True, "num_layers": 2}),
        (NewsRNNConfig, NewsRNNForSequenceClassification, {"cell": "lstm"}),
        (NewsCNNConfig, NewsCNNForSequenceClassification, {"kernel_sizes": [3, 5], "num_filters": 8}),
    ],
    ids=["gru-bidirectional-2-layers", "lstm", "cnn"],
)
def test_transformers_common_model_tests_pass(config_class, model_class, shape, capsys):
    from transformers_common import load_common_tests

    mixin, config_tester = load_common_tests()
    case = common_test_case(mixin, config_tester, config_class, model_class, **shape)
    runner = unittest.TextTestRunner(verbosity=0, stream=io.StringIO())
    result = runner.run(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    problems = [f"{test.id().rsplit('.', 1)[-1]}: {trace.strip().splitlines()[-1]}"
                for test, trace in result.failures + result.errors]  # fmt: skip
    assert not problems, "\n".join(problems)
    ours = {test.id().rsplit(".", 1)[-1] for test, _ in result.skipped} & set(NOT_APPLICABLE)
    assert ours == set(NOT_APPLICABLE)  # each inapplicable test exists in this transformers and was skipped
    with capsys.disabled():
        print(f"\n{model_class.__name__}: {result.testsRun - len(result.skipped)} of transformers' common tests "
              f"passed, {len(result.skipped)} skipped ({len(NOT_APPLICABLE)} as not applicable, the rest by "
              "transformers' own conditions: GPU, flash attention, generation, ...)")  # fmt: skip
