"""The HTTP server: answers in order, batches concurrent requests, 4xx with a message for bad requests, and a
bounded load test on loopback with both backends (slow)."""

import asyncio

import pytest
from helpers import requires_extra
from inference_helpers import TEXTS, export_word_model, start_script, stop


pytestmark = requires_extra("fastapi", "serve")
REQUEST_HINT = 'send {"texts": ["a headline", ...]}'


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A tiny CNN checkpoint and its ONNX export."""
    return export_word_model(tmp_path_factory.mktemp("server"), "cnn")


@pytest.fixture(scope="module")
def client(folders):
    from fastapi.testclient import TestClient

    from hfnews.inference.onnx_backend import OnnxClassifier
    from hfnews.inference.server import create_app

    with TestClient(create_app(OnnxClassifier(folders[1], threads=1), max_texts=16)) as client:
        yield client


def test_predict_answers_every_text_in_order(client, folders):
    from hfnews.inference.onnx_backend import OnnxClassifier

    response = client.post("/predict", json={"texts": TEXTS})
    assert response.status_code == 200
    expected = OnnxClassifier(folders[1]).top_labels(TEXTS)
    assert [(row["label"], row["score"]) for row in response.json()["predictions"]] == pytest.approx(
        [best for (best,) in expected], abs=1e-6
    )
    assert client.post("/predict", json={"texts": []}).json() == {"predictions": []}
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["backend"] == "onnxruntime" and health["max_texts"] == 16


@pytest.mark.parametrize(
    "body, message",
    [
        ("{not json", "the body is not JSON: " + REQUEST_HINT),
        ("{}", "texts: Field required; " + REQUEST_HINT),
        ('{"texts": "one headline"}', "texts: Input should be a valid list; " + REQUEST_HINT),
        ('{"texts": ["ok", 3]}', "texts.1: Input should be a valid string; " + REQUEST_HINT),
        ('{"texts": ["ok", null]}', "texts.1: Input should be a valid string; " + REQUEST_HINT),
        (
            '["a headline"]',
            "body: Input should be a valid dictionary or object to extract fields from; " + REQUEST_HINT,
        ),
        ('{"texts": [' + ", ".join(['"x"'] * 17) + "]}", "texts: 17 texts, at most 16 per request"),
    ],
)
def test_bad_requests_get_a_4xx_and_one_line(client, body, message):
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"detail": message}
    assert client.post("/predict", json={"texts": ["still serving"]}).status_code == 200


def test_concurrent_requests_share_forward_passes(folders):
    from hfnews.inference.batching import Batcher
    from hfnews.inference.onnx_backend import OnnxClassifier

    classifier = OnnxClassifier(folders[1], threads=1)
    alone = [best for (best,) in classifier.top_labels(TEXTS)]

    async def many() -> tuple[list, int]:
        batcher = Batcher(classifier, max_batch=64)
        worker = asyncio.create_task(batcher.run())
        answers = await asyncio.gather(*(batcher.classify([text]) for text in TEXTS * 4))
        worker.cancel()
        return answers, batcher.batches

    answers, batches = asyncio.run(many())
    assert [answer for (answer,) in answers] == pytest.approx(alone * 4, abs=1e-6)
    assert batches < len(TEXTS) * 4  # every request queued before the first pass joined one


def test_a_taken_port_is_one_error():
    from hfnews.errors import HfnewsError
    from hfnews.inference.server import bind

    first = bind("127.0.0.1", 0)
    try:
        with pytest.raises(HfnewsError, match="cannot listen on 127.0.0.1:"):
            bind("127.0.0.1", first.getsockname()[1])
    finally:
        first.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_load_on_loopback_without_errors(folders, backend):
    import httpx

    from hfnews.inference.load_test import run_load

    folder = folders[0] if backend == "torch" else folders[1]
    process, line = start_script("serve.py", "--model", str(folder), "--port", "0", "--threads", "1", ready="serving")
    try:
        url = line.rsplit(" ", 1)[1]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/health").json()["status"] == "ok"
        result = run_load(url, TEXTS[:-1], clients=16, requests_per_client=10, texts_per_request=8, timeout_s=120)
        assert result.failures == [] and len(result.latencies_ms) == 160
        assert httpx.post(url + "/predict", content="nope").status_code == 422
        assert process.poll() is None
    finally:
        stop(process)
