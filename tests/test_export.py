"""ONNX export: the RNN's export-friendly forward equals the packed one, and every exported graph gives torch's
logits (within 1e-5) with left and right padding, empty titles and long texts."""

import numpy as np
import pytest
import torch
from helpers import requires_extra
from inference_helpers import TEXTS, save_tiny_bert
from model_helpers import PAD_ID, padded_batch, randomize_biases, save_word_model, tiny_model

from hfnews.errors import HfnewsError
from hfnews.inference.exportable_rnn import ExportableNewsRNN
from hfnews.inference.prediction import predict_logits
from hfnews.models.loading import load_model, load_tokenizer


pytestmark = requires_extra("onnxscript", "onnx")
RNN_SHAPES = [
    {"cell": cell, "bidirectional": bidirectional, "num_layers": layers}
    for cell in ("rnn", "lstm", "gru")
    for bidirectional in (False, True)
    for layers in (1, 2)
]


def left_padded(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The same rows with their padding moved to the left."""
    shifts = (attention_mask == 0).sum(dim=1).tolist()
    ids = torch.stack([torch.roll(row, shift) for row, shift in zip(input_ids, shifts)])
    return ids, torch.stack([torch.roll(row, shift) for row, shift in zip(attention_mask, shifts)])


@pytest.mark.parametrize("shape", RNN_SHAPES, ids=lambda shape: "-".join(map(str, shape.values())))
def test_exportable_rnn_equals_packed_forward(shape):
    model = randomize_biases(tiny_model("rnn", **shape))
    with torch.no_grad():
        model.get_input_embeddings().weight[PAD_ID].normal_()  # padding must be masked, not merely looked up
        right = padded_batch([4, 17, 0, 1, 25])
        for input_ids, attention_mask in (right, left_padded(*right)):
            expected = model(input_ids, attention_mask=attention_mask).logits
            actual = ExportableNewsRNN(model)(input_ids, attention_mask)
            torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)


def assert_onnx_matches_torch(checkpoint, onnx_dir) -> None:
    """Logits of the ONNX folder equal the checkpoint's on `TEXTS` (both paddings for word-ID models), on an
    all-empty batch, and batch by batch."""
    from hfnews.inference.onnx_backend import OnnxClassifier

    model, tokenizer = load_model(str(checkpoint)).eval(), load_tokenizer(str(checkpoint))
    onnx = OnnxClassifier(onnx_dir, threads=1)
    for batch_size in (1, 3, len(TEXTS)):
        expected = predict_logits(model, tokenizer, TEXTS, batch_size=batch_size, progress=False).numpy()
        np.testing.assert_allclose(onnx.logits(TEXTS, batch_size=batch_size), expected, rtol=0, atol=1e-5)
    empty = predict_logits(model, tokenizer, ["", ""], progress=False).numpy()
    np.testing.assert_allclose(onnx.logits(["", ""]), empty, rtol=0, atol=1e-5)
    for side in ("left", "right"):
        onnx.tokenizer.enable_padding(direction=side, pad_id=tokenizer.pad_token_id, pad_token=tokenizer.pad_token)
        ids, mask = onnx.encode(TEXTS)
        (logits,) = onnx.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        with torch.no_grad():
            expected = model(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
        np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "kind, shape",
    [("cnn", {}), ("rnn", {"cell": "lstm", "bidirectional": True, "num_layers": 2}), ("rnn", {"cell": "gru"})],
)
def test_exported_word_models_give_torch_logits(tmp_path, one_thread, kind, shape):
    from hfnews.inference.export import export_onnx

    checkpoint = save_word_model(tmp_path / "model", kind, **shape)
    result = export_onnx(str(checkpoint), tmp_path / "onnx")
    assert result.max_difference < 1e-5
    assert_onnx_matches_torch(checkpoint, tmp_path / "onnx")


@pytest.mark.slow
@pytest.mark.parametrize("shape", RNN_SHAPES, ids=lambda shape: "-".join(map(str, shape.values())))
def test_exported_rnn_gives_torch_logits_for_every_cell(tmp_path, one_thread, shape):
    from hfnews.inference.export import export_onnx

    checkpoint = save_word_model(tmp_path / "model", "rnn", **shape)
    export_onnx(str(checkpoint), tmp_path / "onnx")
    assert_onnx_matches_torch(checkpoint, tmp_path / "onnx")


@pytest.mark.slow
def test_exported_bert_gives_torch_logits_and_truncates(tmp_path, one_thread):
    from hfnews.inference.export import export_onnx
    from hfnews.inference.onnx_backend import OnnxClassifier

    checkpoint = save_tiny_bert(tmp_path / "bert")
    export_onnx(str(checkpoint), tmp_path / "onnx", quantize="int8")
    assert_onnx_matches_torch(checkpoint, tmp_path / "onnx")
    ids, _ = OnnxClassifier(tmp_path / "onnx").encode([TEXTS[-1]])
    assert ids.shape == (1, 512)
    int8 = OnnxClassifier(tmp_path / "onnx" / "int8").logits(TEXTS)
    np.testing.assert_allclose(int8, OnnxClassifier(tmp_path / "onnx").logits(TEXTS), atol=0.1)


def test_int8_copy_is_smaller_and_close(tmp_path, one_thread):
    from hfnews.inference.export import export_onnx
    from hfnews.inference.onnx_backend import OnnxClassifier

    checkpoint = save_word_model(tmp_path / "model", "rnn", cell="lstm", embedding_dim=64, hidden_size=64)
    result = export_onnx(str(checkpoint), tmp_path / "onnx", quantize="int8")
    sizes = [(folder / "model.onnx").stat().st_size for folder in (result.output_dir, result.quantized_dir)]
    assert sizes[1] < sizes[0] / 2
    float_scores = OnnxClassifier(result.output_dir).scores(TEXTS)
    np.testing.assert_allclose(OnnxClassifier(result.quantized_dir).scores(TEXTS), float_scores, atol=0.05)


def test_export_rejects_unknown_quantization_and_missing_model(tmp_path):
    from hfnews.inference.export import export_onnx

    with pytest.raises(HfnewsError, match="int8"):
        export_onnx(str(tmp_path), tmp_path / "onnx", quantize="int4")
    with pytest.raises(HfnewsError, match="model folder not found"):
        export_onnx(str(tmp_path / "absent"), tmp_path / "onnx")
    with pytest.raises(HfnewsError, match="the checkpoint itself"):
        export_onnx(str(tmp_path), tmp_path)
