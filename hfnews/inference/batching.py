"""Concurrent requests' headlines classified together: one forward pass for whatever has queued up meanwhile.

A single worker task takes the first waiting request, adds every request already queued behind it (up to
`max_batch` headlines), classifies them in one call on a worker thread, and hands each request its rows. Nothing
waits on purpose: a lone request runs at once, and the requests arriving during a forward pass form the next batch.
"""

import asyncio
from collections import deque
from collections.abc import Sequence

from .backends import Classifier


Prediction = tuple[str, float]


class Batcher:
    """Batches `classify` calls from many coroutines into `classifier.top_labels` calls of at most `max_batch` texts
    (one request is never split, so a batch can hold more when a single request does)."""

    def __init__(self, classifier: Classifier, max_batch: int = 256):
        self.classifier = classifier
        self.max_batch = max_batch
        self.waiting: deque[tuple[Sequence[str], asyncio.Future]] = deque()
        self.arrived = asyncio.Event()
        self.batches = 0  # forward passes run, for the batching test and the load report

    async def classify(self, texts: Sequence[str]) -> list[Prediction]:
        """The best (label, score) of each text, in order; waits for the batch the texts join."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((texts, future))
        self.arrived.set()
        return await future

    async def run(self) -> None:
        """The worker loop; run it as one task for the life of the server."""
        while True:
            await self.arrived.wait()
            pending = [self.waiting.popleft()]
            size = len(pending[0][0])
            while self.waiting and size + len(self.waiting[0][0]) <= self.max_batch:
                pending.append(self.waiting.popleft())
                size += len(pending[-1][0])
            if not self.waiting:
                self.arrived.clear()
            texts = [text for request, _ in pending for text in request]
            try:
                labels = await asyncio.to_thread(self.classifier.top_labels, texts)
            except Exception as error:  # a failed pass fails its requests, never the worker
                for _, future in pending:
                    future.set_exception(error)
                continue
            self.batches += 1
            start = 0
            for request, future in pending:
                future.set_result([best for (best,) in labels[start : start + len(request)]])
                start += len(request)
