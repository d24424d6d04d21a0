"""An HTTP server for any hfnews model (torch checkpoint or ONNX folder): FastAPI on uvicorn.

`POST /predict` with `{"texts": ["...", ...]}` answers `{"predictions": [{"label": ..., "score": ...}, ...]}`, one
per text, in order; concurrent requests are classified together (`hfnews.inference.batching`). `GET /health`
answers `{"status": "ok", ...}` once the model is loaded (it is loaded before the port opens). A bad request gets a
4xx status and `{"detail": "<one line>"}`: a body that is not JSON, no `texts`, an item that is not a string, more
than `max_texts` texts (422). Texts longer than the model reads are truncated, as `scripts/predict.py` truncates.
"""

import asyncio
import socket
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictStr

from ..errors import HfnewsError
from .backends import Classifier
from .batching import Batcher


# Texts per request: a 256-headline request is one forward pass (the batch size of scripts/predict.py); larger
# bulk jobs belong to `scripts/predict.py --input_file`, which streams a file with a progress bar.
MAX_TEXTS = 256


class PredictRequest(BaseModel):
    texts: list[StrictStr]


def _one_line(error: RequestValidationError) -> str:
    """The first validation error as `where: what`, e.g. `texts.2: Input should be a valid string`."""
    first = error.errors()[0]
    if first["type"] == "json_invalid":
        return 'the body is not JSON: send {"texts": ["a headline", ...]}'
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "body"
    return f'{where}: {first["msg"]}; send {{"texts": ["a headline", ...]}}'


def create_app(classifier: Classifier, max_texts: int = MAX_TEXTS) -> FastAPI:
    """The FastAPI app serving `classifier` (see the module doc); its batcher runs while the app runs."""
    batcher = Batcher(classifier, max_batch=max_texts)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = asyncio.create_task(batcher.run())
        yield
        worker.cancel()

    app = FastAPI(title="hfnews", lifespan=lifespan)
    app.state.batcher = batcher

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _one_line(error)})

    @app.get("/health")
    async def health() -> dict:
        return {
            "status": "ok",
            "backend": classifier.backend,
            "model": classifier.folder.name,
            "labels": list(classifier.id2label.values()),
            "max_texts": max_texts,
        }

    @app.post("/predict")
    async def predict(request: PredictRequest):
        if len(request.texts) > max_texts:
            return JSONResponse(
                status_code=422,
                content={"detail": f"texts: {len(request.texts)} texts, at most {max_texts} per request"},
            )
        labels = await batcher.classify(request.texts)
        return {"predictions": [{"label": label, "score": score} for label, score in labels]}

    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port` (`port` 0: a free one). Raises `HfnewsError` when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise HfnewsError(
            f"cannot listen on {host}:{port} ({error.strerror}); pass another --port or --host"
        ) from None
    sock.listen(2048)
    return sock


def serve(classifier: Classifier, host: str = "127.0.0.1", port: int = 8000, max_texts: int = MAX_TEXTS) -> None:
    """Serve until interrupted; prints `serving <folder> (<backend>) on http://host:port` once listening."""
    import uvicorn

    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(classifier, max_texts), log_level="warning"))
    print(f"serving {classifier.folder} ({classifier.backend}) on http://{host}:{bound_port}", flush=True)
    server.run(sockets=[sock])
