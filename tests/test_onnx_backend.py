"""The ONNX path of predict.py: no torch imported, the same output rows as the torch path, clear errors."""

import json
import subprocess
import sys

import pytest
from helpers import requires_extra
from inference_helpers import ROOT, TEXTS, child_env, export_word_model

from hfnews.errors import HfnewsError


pytestmark = requires_extra("onnxruntime", "onnx")
PREDICT = ROOT / "scripts" / "predict.py"
# A child process that behaves as if torch were not installed: `import torch` fails and `find_spec("torch")` is None
# (the check transformers makes), so any import of torch on the ONNX path is an error.
BLOCK_TORCH = """
import runpy, sys

sys.modules["torch"] = None
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A tiny CNN checkpoint and its ONNX export."""
    return export_word_model(tmp_path_factory.mktemp("onnx-backend"), "cnn")


def run_predict(*args: str, block_torch: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", BLOCK_TORCH, str(PREDICT)] if block_torch else [sys.executable, str(PREDICT)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=child_env())


def test_backends_give_the_same_labels_and_scores(folders):
    from hfnews.inference.backends import OnnxClassifier, TorchClassifier, load_classifier

    torch_side, onnx_side = load_classifier(str(folders[0])), load_classifier(str(folders[1]))
    assert isinstance(torch_side, TorchClassifier) and isinstance(onnx_side, OnnxClassifier)
    for expected, actual in zip(torch_side.top_labels(TEXTS, top_k=4), onnx_side.top_labels(TEXTS, top_k=4)):
        assert [label for label, _ in actual] == [label for label, _ in expected]
        assert [score for _, score in actual] == pytest.approx([score for _, score in expected], abs=1e-6)


def test_predict_script_runs_onnx_without_torch(folders, tmp_path):
    input_file = tmp_path / "in.jsonl"
    input_file.write_text("".join(json.dumps({"text": text}) + "\n" for text in TEXTS), encoding="utf-8")
    done = run_predict("--model", str(folders[1]), "--input_file", str(input_file), "--output_file",
                       str(tmp_path / "onnx.jsonl"), block_torch=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"backend: onnxruntime ({folders[1]})" in done.stderr
    assert done.stdout.strip() == f"{len(TEXTS)} predictions written to {tmp_path / 'onnx.jsonl'}"
    # The check is real: the torch checkpoint cannot be read in this process.
    blocked = run_predict("--model", str(folders[0]), "--texts", "x", block_torch=True)
    assert blocked.returncode != 0 and "torch" in blocked.stderr


@pytest.mark.slow
def test_predict_script_rows_match_the_torch_path(folders, tmp_path):
    input_file = tmp_path / "in.txt"
    input_file.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    rows = {}
    for name, folder in zip(("torch", "onnx"), folders):
        output = tmp_path / f"{name}.jsonl"
        done = run_predict("--model", str(folder), "--input_file", str(input_file), "--output_file", str(output))
        assert done.returncode == 0, done.stderr
        assert f"backend: {'onnxruntime' if name == 'onnx' else 'torch'}" in done.stderr
        rows[name] = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [row["text"] for row in rows["onnx"]] == TEXTS
    for expected, actual in zip(rows["torch"], rows["onnx"]):
        assert actual["label"] == expected["label"]
        assert actual["score"] == pytest.approx(expected["score"], abs=1e-6)
    texts = run_predict("--model", str(folders[1]), "--texts", "Fed raises rates", "", "--top_k", "2")
    assert texts.returncode == 0, texts.stderr
    assert [line.split("\t")[1] for line in texts.stdout.splitlines()] == ["Fed raises rates", ""]


def test_incomplete_onnx_folder_is_one_error(folders, tmp_path):
    from hfnews.inference.onnx_backend import OnnxClassifier

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.onnx").write_bytes((folders[1] / "model.onnx").read_bytes())
    with pytest.raises(HfnewsError, match="config.json is missing"):
        OnnxClassifier(broken)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (broken / name).write_bytes((folders[1] / name).read_bytes())
    (broken / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(HfnewsError, match="cannot be loaded"):
        OnnxClassifier(broken)


def test_a_megabyte_line_reads_its_first_256_tokens_in_both_backends(folders):
    from hfnews.inference.backends import load_classifier

    huge, first = "stocks rally " * 200_000, "stocks rally " * 128  # 2.6 MB; its first 256 tokens
    torch_side, onnx_side = load_classifier(str(folders[0])), load_classifier(str(folders[1]))
    expected = torch_side.top_labels([first], top_k=4)[0]
    for side in (torch_side, onnx_side):
        (actual,) = side.top_labels([huge], top_k=4)
        assert [label for label, _ in actual] == [label for label, _ in expected]
        assert [score for _, score in actual] == pytest.approx([score for _, score in expected], abs=1e-6)
