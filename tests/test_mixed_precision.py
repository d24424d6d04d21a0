"""The GPU paths, exercised on the CPU: bf16 autocast for every model, the Trainer under `--bf16` (padding to a
multiple of 8), and `torch.compile` of the CNN. No GPU has run them (README, "GPUs"); these catch dtype and tracing
errors."""

import pytest
import torch
from model_helpers import padded_batch, tiny_model
from training_helpers import train_tiny, write_tiny_corpus
from transformers import BertConfig, BertForSequenceClassification

from hfnews.training.arguments import parse_train_args
from hfnews.training.run import prepare_experiment
from hfnews.training.trainer import build_trainer


# bf16 keeps 8 bits of mantissa: logits of these tiny models move by up to ~1e-2 from float32.
BF16_LOGIT_TOLERANCE = 0.05
# Losses of a two-epoch tiny run under bf16 against float32 (measured: within 1e-3).
BF16_LOSS_TOLERANCE = 5e-3


def tiny_bert() -> BertForSequenceClassification:
    config = BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32, num_labels=4, pad_token_id=29)  # fmt: skip
    torch.manual_seed(0)
    return BertForSequenceClassification(config).eval()


MODELS = {
    "cnn": lambda: tiny_model("cnn", kernel_sizes=[1, 3, 5], initializer_range=0.1),
    "rnn": lambda: tiny_model("rnn", initializer_range=0.1),
    "lstm-bidirectional-2-layers": lambda: tiny_model(
        "rnn", cell="lstm", bidirectional=True, num_layers=2, initializer_range=0.1
    ),
    "gru": lambda: tiny_model("rnn", cell="gru", initializer_range=0.1),
    "bert": tiny_bert,
}


@pytest.mark.parametrize("name", MODELS)
def test_every_model_trains_under_bf16_autocast(name):
    model = MODELS[name]()
    input_ids, attention_mask = padded_batch([4, 17, 1, 25])
    labels = torch.tensor([0, 1, 2, 3])
    with torch.no_grad():
        reference = model(input_ids, attention_mask=attention_mask).logits
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output = model(input_ids, attention_mask=attention_mask, labels=labels)
    output.loss.backward()
    assert output.logits.dtype == torch.bfloat16  # autocast did reach the output layer
    assert output.loss.dtype == torch.float32 and torch.isfinite(output.loss)  # cross-entropy runs in float32
    model.eval()  # dropout off again, to compare with the float32 reference
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(input_ids, attention_mask=attention_mask).logits
    torch.testing.assert_close(logits.float(), reference, rtol=0, atol=BF16_LOGIT_TOLERANCE)
    for param_name, param in model.named_parameters():  # float32 master weights get float32 gradients
        if param.grad is not None:
            assert param.grad.dtype == torch.float32 and torch.isfinite(param.grad).all(), param_name


@pytest.fixture
def corpus(tmp_path):
    return write_tiny_corpus(tmp_path / "news.csv")


@pytest.mark.parametrize("architecture", ["cnn", "rnn"])
def test_trainer_with_bf16_trains_as_float32_does(corpus, tmp_path, one_thread, architecture):
    args = ["--architecture", architecture, "--num_train_epochs", "2", "--disable_tqdm", "true"]
    full, _ = train_tiny(corpus, tmp_path / "fp32", *args)
    mixed, _ = train_tiny(corpus, tmp_path / "bf16", *args, "--bf16", "true")
    assert mixed.training["bf16"] is True
    for got, want in zip(mixed.history, full.history):
        assert got["train_loss"] == pytest.approx(want["train_loss"], abs=BF16_LOSS_TOLERANCE)
    assert mixed.test["loss"] == pytest.approx(full.test["loss"], abs=BF16_LOSS_TOLERANCE)


def test_mixed_precision_pads_batches_to_a_multiple_of_8(corpus, tmp_path):
    _, model_args, data_args, training_args = parse_train_args(
        ["--model", "tiny", "--source", str(corpus), "--output_dir", str(tmp_path), "--use_cpu", "--bf16", "true"]
    )
    trainer = build_trainer(prepare_experiment(model_args, data_args, training_args), training_args)
    assert trainer.accelerator.mixed_precision == "bf16"
    widths = [batch["input_ids"].shape[1] for batch in trainer.get_train_dataloader()]
    assert widths and all(width % 8 == 0 for width in widths)


def test_the_cnn_compiles_as_one_graph_and_scores_as_in_eager_mode():
    """`fullgraph=True` fails on any graph break; `aot_eager` traces forward and backward without a C++ compiler."""
    model = tiny_model("cnn", kernel_sizes=[1, 3])
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    for lengths in ([4, 17], [3, 9, 30]):  # a new padded width per batch, as the collator gives
        input_ids, attention_mask = padded_batch(lengths)
        with torch.no_grad():
            want = model(input_ids, attention_mask=attention_mask).logits
            got = compiled(input_ids, attention_mask=attention_mask).logits
        torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


@pytest.mark.slow
def test_trainer_with_torch_compile_trains_the_cnn_as_eager_mode_does(corpus, tmp_path, one_thread):
    args = ["--num_train_epochs", "2", "--disable_tqdm", "true"]
    eager, _ = train_tiny(corpus, tmp_path / "eager", *args)
    compiled, _ = train_tiny(
        corpus, tmp_path / "compiled", *args, "--torch_compile", "true", "--torch_compile_backend", "aot_eager"
    )
    for got, want in zip(compiled.history, eager.history):
        assert got["train_loss"] == pytest.approx(want["train_loss"], abs=1e-5)
    assert compiled.test["loss"] == pytest.approx(eager.test["loss"], abs=1e-5)
    assert (tmp_path / "compiled" / "model.safetensors").is_file()  # saved unwrapped, loadable by from_pretrained
