import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TINY_TITLES

from hfnews.data.corpus import LABEL_NAMES
from hfnews.data.tokenization import train_word_tokenizer
from hfnews.models import NewsCNNConfig, NewsCNNForSequenceClassification


SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "predict.py"


@pytest.mark.slow
def test_predict_script_prints_label_names_and_scores(tmp_path):
    tokenizer = train_word_tokenizer([title for _, title in TINY_TITLES])
    config = NewsCNNConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        embedding_dim=8,
        num_filters=4,
        id2label=dict(enumerate(LABEL_NAMES)),
        label2id={name: i for i, name in enumerate(LABEL_NAMES)},
    )
    NewsCNNForSequenceClassification(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    texts = ["Stocks rally as Fed holds rates", "Ebola outbreak spreads"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", str(tmp_path), "--texts", *texts, "--top_k", "4"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == texts
    for line in lines:
        scores = dict(part.rsplit(" ", 1) for part in line.split("\t")[0].split(", "))
        assert set(scores) == set(LABEL_NAMES)
        assert abs(sum(map(float, scores.values())) - 1) < 0.01


@pytest.mark.slow
def test_predict_script_missing_model_is_one_error_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--model", str(tmp_path / "absent"), "--texts", "x"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: model folder not found: {tmp_path / 'absent'}; pass a save_pretrained folder or a Hub id"
    ]
