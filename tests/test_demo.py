"""The demo page: every model's label through gradio_client (fast), and typed into headless Chromium (slow)."""

import json
import shutil
import socket

import pytest
from helpers import requires_extra
from inference_helpers import HEADLINES, ROOT, export_word_model, start_script, stop
from model_helpers import save_word_model

from hfnews.inference.demo import FALLBACK_EXAMPLES, example_headlines, model_names


ARTIFACTS = ROOT / "test-artifacts"
HEADLINE = "Fed raises interest rates as stocks rally"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A tiny CNN checkpoint with a test_predictions.jsonl, and the ONNX export of a tiny LSTM (folder rnn-onnx)."""
    root = tmp_path_factory.mktemp("demo")
    _, rnn_onnx = export_word_model(root, "rnn", cell="lstm")
    cnn = save_word_model(root / "cnn", "cnn")
    records = [
        {"text": HEADLINES[0], "gold": "business", "predicted": "health", "probabilities": {"health": 0.9}},
        {"text": HEADLINES[1], "gold": "science_and_technology", "predicted": "business",
         "probabilities": {"business": 0.6}},
        {"text": HEADLINES[2], "gold": "entertainment", "predicted": "entertainment",
         "probabilities": {"entertainment": 0.8}},
    ]  # fmt: skip
    (cnn / "test_predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return [cnn, rnn_onnx]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_examples_are_the_cards_mistakes(folders, tmp_path):
    assert example_headlines(folders) == [  # most confident first, no right answer
        (HEADLINES[0], f"business read as health: {HEADLINES[0]}"),
        (HEADLINES[1], f"science_and_technology read as business: {HEADLINES[1]}"),
    ]
    assert example_headlines([tmp_path]) == FALLBACK_EXAMPLES
    assert model_names(["runs/cnn", "a/bert", "b/bert", "runs/bert-onnx/int8"]) == [
        "cnn", "a/bert", "b/bert", "bert-onnx/int8"
    ]  # fmt: skip


@requires_extra("gradio", "demo")
def test_gradio_client_gets_one_label_per_model(folders):
    from gradio_client import Client

    from hfnews.inference.backends import load_classifier
    from hfnews.inference.demo import build_demo

    classifiers = [load_classifier(str(folder), threads=1) for folder in folders]
    demo = build_demo(classifiers, model_names(folders), example_headlines(folders))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        labels = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(HEADLINE, api_name="/classify")
    finally:
        demo.close()
    assert len(labels) == 2
    for label, classifier in zip(labels, classifiers):
        expected = classifier.top_labels([HEADLINE], top_k=4)[0]
        assert label["label"] == expected[0][0]
        confidences = {each["label"]: each["confidence"] for each in label["confidences"]}
        assert confidences == pytest.approx(dict(expected), abs=1e-6)


@pytest.mark.slow
@requires_extra("gradio", "demo")
@requires_extra("selenium", "demo")
@pytest.mark.skipif(
    shutil.which("chromedriver") is None, reason="needs chromium-driver: apt-get install chromium-driver"
)
def test_page_in_headless_chromium(folders):
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from hfnews.inference.backends import load_classifier

    port = free_port()
    args = ["--model", *map(str, folders), "--port", str(port)]
    process, _ = start_script("demo.py", *args, ready="Running on local URL")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#headline textarea")).send_keys(HEADLINE)
        driver.find_element(By.ID, "classify").click()
        shown = []
        for i, folder in enumerate(folders):
            expected = load_classifier(str(folder)).top_labels([HEADLINE])[0][0][0]
            panel = driver.find_element(By.ID, f"label-{i}")
            wait.until(lambda d, panel=panel: len(panel.text.splitlines()) > 2)  # the title, the label, the bars
            lines = panel.text.splitlines()
            assert lines[0].startswith(folder.name)
            assert lines[1] == expected
            shown.append(lines[1])
        ARTIFACTS.mkdir(exist_ok=True)
        assert driver.save_screenshot(str(ARTIFACTS / "demo.png"))
        assert "confident test mistakes" in driver.page_source
        assert f"business read as health: {HEADLINES[0]}" in driver.page_source
    finally:
        driver.quit()
        stop(process)
