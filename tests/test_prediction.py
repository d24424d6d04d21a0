import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from model_helpers import HEADLINES, headline_tokenizer, randomize_biases, save_word_model, tiny_model
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer, pipeline

from hfnews.data.corpus import LABEL_NAMES
from hfnews.data.text_files import read_texts, write_predictions
from hfnews.data.tokenization import WORD_ID_MAX_LENGTH, clip_text, encode_truncated, max_input_length
from hfnews.errors import HfnewsError
from hfnews.inference.prediction import classify, predict_file, top_labels


SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "predict.py"
LONG_TEXT = " ".join(HEADLINES * 40)  # about 370 words: more than the tiny BERT's 32 positions
BERT_WORDS = sorted({word for headline in HEADLINES for word in headline.lower().replace(",", " ,").split()})


@pytest.fixture(scope="module")
def cnn_folder(tmp_path_factory) -> Path:
    """A saved CNN with random weights (biases too, so an empty title still gets a definite label)."""
    return save_word_model(tmp_path_factory.mktemp("cnn"), "cnn")


@pytest.fixture(scope="module")
def bert_folder(tmp_path_factory) -> Path:
    """A tiny random BERT that takes at most 32 tokens, with a word-piece vocabulary written here."""
    folder = tmp_path_factory.mktemp("bert")
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *BERT_WORDS])}
    tokenizer = BertTokenizer(vocab=vocab, model_max_length=32)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        max_position_embeddings=32, id2label=dict(enumerate(LABEL_NAMES)),
        label2id={name: i for i, name in enumerate(LABEL_NAMES)},
    )  # fmt: skip
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def loaded(folder: Path):
    classifier = pipeline("text-classification", model=str(folder))
    return classifier, classifier.model, classifier.tokenizer


def test_classify_keeps_order_and_matches_pipeline(cnn_folder):
    classifier, model, tokenizer = loaded(cnn_folder)
    # Lengths out of order (classify batches by length) and an empty title.
    texts = [HEADLINES[0] * 3, "", HEADLINES[1], "fed", HEADLINES[2] + " " + HEADLINES[3], HEADLINES[5]]
    scores = classify(model, tokenizer, texts, batch_size=2, progress=False)
    assert scores.shape == (len(texts), len(LABEL_NAMES))
    expected = classifier(texts, top_k=None)
    for row, prediction in zip(scores.tolist(), expected):
        by_label = {item["label"]: item["score"] for item in prediction}
        assert row == pytest.approx([by_label[model.config.id2label[i]] for i in range(len(row))], abs=1e-5)
    assert len({tuple(row) for row in scores.tolist()}) == len(texts)  # distinct rows: order is really tested


def test_classify_shows_progress(cnn_folder, capsys):
    _, model, tokenizer = loaded(cnn_folder)
    classify(model, tokenizer, HEADLINES * 5, batch_size=4)
    assert f"{len(HEADLINES) * 5}/{len(HEADLINES) * 5}" in capsys.readouterr().err


def test_top_labels_best_first():
    scores = torch.tensor([[0.1, 0.6, 0.2, 0.1], [0.7, 0.05, 0.2, 0.05]])
    best = top_labels(scores, dict(enumerate(LABEL_NAMES)), top_k=2)
    assert [[label for label, _ in row] for row in best] == [
        [LABEL_NAMES[1], LABEL_NAMES[2]],
        [LABEL_NAMES[0], LABEL_NAMES[2]],
    ]
    assert best[0][0][1] == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("plain.txt", "\ufeffFirst title\r\n\nThird, with a comma\n", ["First title", "", "Third, with a comma"]),
        ("plain.txt", "no final line end", ["no final line end"]),
        ("table.csv", 'id,text\n1,"Stocks, bonds"\n\n2,Ebola\n', ["Stocks, bonds", "", "Ebola"]),
        ("table.tsv", "text\tid\nStocks, bonds\t1\n", ["Stocks, bonds"]),
        ("rows.jsonl", '{"text": "A"}\n\n{"text": "", "x": 1}\n', ["A", "", ""]),
    ],
)
def test_read_texts_one_text_per_line(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    assert read_texts(path) == expected


def test_read_texts_other_column(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("TITLE,CATEGORY\nFed holds rates,b\n")
    assert read_texts(path, "TITLE") == ["Fed holds rates"]
    with pytest.raises(HfnewsError, match=r"no column 'text' \(found: TITLE, CATEGORY\); pass --text_column_name"):
        read_texts(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.jsonl", b'{"text": "A"}\n{"text": "B"\n', r"rows.jsonl line 2: not JSON"),
        ("rows.jsonl", b'{"text": "A"}\n["B"]\n', r"line 2: a JSON list, not an object"),
        ("rows.jsonl", b'{"text": 3}\n', r"line 1: 'text' is 3, not a string"),
        ("table.csv", b"text,id\nA,1\nB,2,3\n", r"table.csv line 3: 3 fields where the header has 2"),
        ("plain.txt", b"good\nbad \xff byte\n", r"plain.txt line 2: not UTF-8 text"),
    ],
)
def test_read_texts_names_the_bad_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(HfnewsError, match=message):
        read_texts(path)


def test_write_predictions_formats(tmp_path):
    texts, labels = ["A, b", ""], [("b", 0.5), ("t", 0.25)]
    write_predictions(tmp_path / "out.jsonl", texts, labels)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert rows == [{"text": "A, b", "label": "b", "score": 0.5}, {"text": "", "label": "t", "score": 0.25}]
    write_predictions(tmp_path / "out.csv", texts, labels)
    assert (tmp_path / "out.csv").read_text().splitlines() == ["text,label,score", '"A, b",b,0.5', ",t,0.25"]
    with pytest.raises(HfnewsError, match=r"out.parquet must end in one of .csv, .tsv, .jsonl, .json"):
        write_predictions(tmp_path / "out.parquet", texts, labels)


def test_predict_file_one_row_per_line(cnn_folder, tmp_path):
    _, model, tokenizer = loaded(cnn_folder)
    lines = [HEADLINES[3], "", HEADLINES[0], HEADLINES[0]]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    assert predict_file(model, tokenizer, tmp_path / "in.txt", tmp_path / "out.jsonl", progress=False) == 4
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["text"] for row in rows] == lines
    expected = top_labels(classify(model, tokenizer, lines, progress=False), model.config.id2label)
    assert [(row["label"], row["score"]) for row in rows] == [best for (best,) in expected]


def test_predict_file_without_output_file_prints_one_line_per_input(cnn_folder, tmp_path, capsys):
    _, model, tokenizer = loaded(cnn_folder)
    lines = [HEADLINES[1], "", HEADLINES[2]]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    assert predict_file(model, tokenizer, tmp_path / "in.txt", None, progress=False) == 3
    expected = top_labels(classify(model, tokenizer, lines, progress=False), model.config.id2label)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"{label} {score:.3f}\t{text}" for text, ((label, score),) in zip(lines, expected)]
    assert list(tmp_path.iterdir()) == [tmp_path / "in.txt"]  # nothing written


def test_bert_pipeline_truncates_long_text_by_default(bert_folder):
    classifier, model, tokenizer = loaded(bert_folder)
    assert max_input_length(tokenizer) == 32
    assert len(tokenizer(LONG_TEXT)["input_ids"]) > 32  # would overflow the position embeddings
    (prediction,) = classifier([LONG_TEXT])
    assert prediction["label"] in LABEL_NAMES
    truncated = tokenizer.decode(tokenizer(LONG_TEXT, truncation=True)["input_ids"], skip_special_tokens=True)
    assert prediction["score"] == pytest.approx(classifier(truncated)[0]["score"], abs=1e-5)
    with pytest.raises((IndexError, RuntimeError)):  # an explicit choice still wins
        classifier(LONG_TEXT, truncation=False)


def test_bert_classify_truncates_long_text(bert_folder):
    classifier, model, tokenizer = loaded(bert_folder)
    scores = classify(model, tokenizer, [LONG_TEXT, HEADLINES[0]], progress=False)
    expected = classifier([LONG_TEXT, HEADLINES[0]], top_k=None)
    for row, prediction in zip(scores.tolist(), expected):
        by_label = {item["label"]: item["score"] for item in prediction}
        assert row == pytest.approx([by_label[name] for name in model.config.id2label.values()], abs=1e-5)


@pytest.mark.parametrize("kind", ["cnn", "rnn"])
def test_word_id_checkpoints_without_a_limit_read_256_tokens_in_pipeline_and_classify(kind, tmp_path):
    """A word-ID checkpoint saved before hfnews recorded `model_max_length` reads WORD_ID_MAX_LENGTH tokens, in
    pipeline() and classify() alike, and a huge line costs no more than its first tokens."""
    tokenizer = headline_tokenizer()
    model = tiny_model(kind, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)
    randomize_biases(model).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    classifier, model, tokenizer = loaded(tmp_path)
    assert max_input_length(tokenizer) is None
    # 1,800 words ending in word orders seen nowhere before, so only the end of the text has those windows.
    very_long = " ".join([*HEADLINES * 200, *(" ".join(reversed(headline.split())) for headline in HEADLINES)])
    ids = tokenizer(very_long)["input_ids"]
    assert len(ids) > 1500
    first = tokenizer.decode(ids[:WORD_ID_MAX_LENGTH])
    (prediction,) = classifier([very_long])
    scores = classify(model, tokenizer, [very_long, first], progress=False)
    torch.testing.assert_close(scores[0], scores[1], atol=1e-6, rtol=0)
    assert scores[0].max().item() == pytest.approx(prediction["score"], abs=1e-5)
    # The words after the first 256 tokens would have changed the scores.
    whole = tokenizer(very_long, return_tensors="pt")
    assert not torch.allclose(model(**whole).logits.softmax(-1)[0], scores[0], atol=1e-6)


@pytest.mark.parametrize(
    ("text", "limit", "expected_cut"),
    [
        ("fed raises rates", 3, False),  # exactly the limit: read whole
        ("fed raises rates again", 3, True),
        ("word " * 100_000, 8, True),  # half a megabyte on one line, clipped before tokenizing
        ("x" * 300_000, 8, False),  # one huge word: one token, nothing cut
    ],
)
def test_encode_truncated_gives_the_tokens_of_the_whole_text_and_counts_the_cut(text, limit, expected_cut):
    tokenizer = headline_tokenizer()
    encoding, cut = encode_truncated(tokenizer, [text], limit)
    assert encoding["input_ids"] == tokenizer([text], truncation=True, max_length=limit)["input_ids"]
    assert cut == int(expected_cut)
    clipped = clip_text(tokenizer, text, limit)
    assert len(clipped) < 2_000 if len(text) > 100_000 and expected_cut else clipped == text


def run_predict(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


@pytest.mark.slow
def test_predict_script_file_to_csv_with_progress(cnn_folder, tmp_path):
    lines = [HEADLINES[2], "", HEADLINES[4]]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"title": line}) + "\n" for line in lines))
    done = run_predict(
        "--model", str(cnn_folder), "--input_file", str(tmp_path / "in.jsonl"), "--text_column_name", "title",
        "--output_file", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3/3" in done.stderr  # the progress bar
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0] == "text,label,score"
    assert [row.rsplit(",", 2)[0] for row in rows[1:]] == lines
    assert {row.rsplit(",", 2)[1] for row in rows[1:]} <= set(LABEL_NAMES)


@pytest.mark.slow
def test_predict_script_input_file_to_the_screen(cnn_folder, tmp_path):
    (tmp_path / "in.txt").write_text(f"{HEADLINES[0]}\n{HEADLINES[5]}\n")
    done = run_predict("--model", str(cnn_folder), "--input_file", str(tmp_path / "in.txt"))
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert [line.split("\t")[1] for line in printed] == [HEADLINES[0], HEADLINES[5]]
    assert all(line.split(" ")[0] in LABEL_NAMES for line in printed)


@pytest.mark.slow
def test_predict_script_bad_line_is_one_error_line(cnn_folder, tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": "A"}\n{"text": \n')
    done = run_predict("--model", str(cnn_folder), "--input_file", str(tmp_path / "in.jsonl"),
                       "--output_file", str(tmp_path / "out.jsonl"))  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path / 'in.jsonl'} line 2: not JSON")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.slow
def test_predict_script_bert_long_text(bert_folder):
    done = run_predict("--model", str(bert_folder), "--texts", LONG_TEXT, "short one", "--top_k", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == [LONG_TEXT, "short one"]
    assert all(len(line.split("\t")[0].split(", ")) == 2 for line in lines)
