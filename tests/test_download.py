"""hfnews.data.download against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hfnews.data import download as dl


PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)  # several chunks, not a multiple of the chunk size
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """Serves PAYLOAD at /files/corpus.zip; records each request's Range header.

    ``honor_range`` False answers 200 with the whole file whatever the Range; ``truncate_at`` sends the full
    Content-Length but closes the connection after that many bytes (once), like a dropped connection.
    """

    def __init__(self) -> None:
        self.ranges: list[str | None] = []
        self.honor_range = True
        self.truncate_at: int | None = None
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str = "/files/corpus.zip") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_GET(self) -> None:
                requested = self.headers.get("Range")
                server.ranges.append(requested)
                if self.path != "/files/corpus.zip":
                    self.send_error(404)
                    return
                start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1)) if requested else 0
                if requested and server.honor_range and start >= len(PAYLOAD):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(PAYLOAD)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if requested and server.honor_range:
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
                else:
                    start = 0
                    self.send_response(200)
                body = PAYLOAD[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.truncate_at is not None:
                    body, server.truncate_at = body[: server.truncate_at], None
                    self.close_connection = True
                self.wfile.write(body)

        return Handler


@pytest.fixture
def server():
    srv = Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


def part_of(path):
    return path.with_name(path.name + ".part")


def test_plain_download_writes_the_exact_bytes_with_a_progress_bar(server, tmp_path, capsys):
    path = dl.download(server.url(), tmp_path, progress=True)
    assert path.read_bytes() == PAYLOAD
    assert path.parent == tmp_path and path.name.endswith("-corpus.zip")
    assert not part_of(path).exists()
    assert server.ranges == [None]
    assert "corpus.zip" in capsys.readouterr().err  # tqdm writes to stderr


def test_second_call_is_a_cache_hit_without_any_request(server, tmp_path):
    first = dl.download(server.url(), tmp_path, progress=False)
    second = dl.download(server.url(), tmp_path, progress=False, expected_sha256=SHA)
    assert first == second and second.read_bytes() == PAYLOAD
    assert len(server.ranges) == 1


def test_resume_sends_range_and_appends_only_the_rest(server, tmp_path):
    target = dl.cache_path(server.url(), tmp_path)
    part_of(target).write_bytes(PAYLOAD[:1000])
    path = dl.download(server.url(), tmp_path, progress=False, expected_sha256=SHA)
    assert server.ranges == ["bytes=1000-"]
    assert path == target and path.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_from_scratch(server, tmp_path):
    server.honor_range = False
    part_of(dl.cache_path(server.url(), tmp_path)).write_bytes(b"x" * 1000)  # would corrupt the file if kept
    path = dl.download(server.url(), tmp_path, progress=False)
    assert server.ranges == ["bytes=1000-"]
    assert path.read_bytes() == PAYLOAD


def test_part_already_complete_is_finished_on_416(server, tmp_path):
    part_of(dl.cache_path(server.url(), tmp_path)).write_bytes(PAYLOAD)
    path = dl.download(server.url(), tmp_path, progress=False, expected_sha256=SHA)
    assert server.ranges == [f"bytes={len(PAYLOAD)}-"]
    assert path.read_bytes() == PAYLOAD


def test_stale_part_longer_than_the_file_is_discarded(server, tmp_path):
    part_of(dl.cache_path(server.url(), tmp_path)).write_bytes(b"y" * (len(PAYLOAD) + 10))
    path = dl.download(server.url(), tmp_path, progress=False)
    assert server.ranges == [f"bytes={len(PAYLOAD) + 10}-", None]
    assert path.read_bytes() == PAYLOAD


def test_dropped_connection_keeps_the_part_and_the_next_call_resumes(server, tmp_path):
    server.truncate_at = 5000
    with pytest.raises(dl.DownloadError, match=rf"stopped at 5000 of {len(PAYLOAD)} bytes .*run again to resume"):
        dl.download(server.url(), tmp_path, progress=False)
    target = dl.cache_path(server.url(), tmp_path)
    assert not target.exists() and part_of(target).read_bytes() == PAYLOAD[:5000]
    assert dl.download(server.url(), tmp_path, progress=False).read_bytes() == PAYLOAD
    assert server.ranges == [None, "bytes=5000-"]


def test_checksum_mismatch_deletes_the_file_and_names_both_digests(server, tmp_path):
    wrong = "0" * 64
    with pytest.raises(dl.ChecksumError, match=f"expected sha256 {wrong}, got {SHA}") as info:
        dl.download(server.url(), tmp_path, progress=False, expected_sha256=wrong)
    assert isinstance(info.value, dl.DownloadError) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_cached_file_with_wrong_checksum_is_deleted(server, tmp_path):
    path = dl.download(server.url(), tmp_path, progress=False)
    with pytest.raises(dl.ChecksumError, match="deleted"):
        dl.download(server.url(), tmp_path, progress=False, expected_sha256="f" * 64)
    assert not path.exists() and len(server.ranges) == 1


def test_http_404_is_a_download_error(server, tmp_path):
    with pytest.raises(dl.DownloadError, match=r"could not download http://127\.0\.0\.1:\d+/missing\.zip: HTTP 404"):
        dl.download(server.url("/missing.zip"), tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_refused_connection_is_a_download_error_with_a_hint(tmp_path):
    with socket.socket() as sock:  # grab a free port, then close it so nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(dl.DownloadError, match=r"could not download .*refused.*--source\)$") as info:
        dl.download(f"http://127.0.0.1:{port}/corpus.zip", tmp_path, progress=False, timeout=5)
    assert "\n" not in str(info.value)


def test_invalid_arguments_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="http"):
        dl.download(str(tmp_path / "corpus.zip"), tmp_path)
    with pytest.raises(ValueError, match="64 hex digits"):
        dl.download("http://127.0.0.1:9/corpus.zip", tmp_path, expected_sha256="abc")


def test_cache_names_keep_the_basename_and_separate_same_named_urls(tmp_path, monkeypatch):
    a = dl.cache_path(dl.OFFICIAL_ZIP_URL, tmp_path)
    b = dl.cache_path("https://mirror.example/news+aggregator.zip", tmp_path)
    assert a.name.endswith("-news+aggregator.zip") and b.name.endswith("-news+aggregator.zip") and a != b
    monkeypatch.setenv("HFNEWS_CACHE", str(tmp_path / "env"))
    assert dl.cache_path(dl.OFFICIAL_ZIP_URL).parent == tmp_path / "env" / "downloads"
    monkeypatch.delenv("HFNEWS_CACHE")
    assert dl.default_cache_dir() == dl.Path.home() / ".cache" / "hfnews" / "downloads"


def test_sha256_file_accepts_paths_and_streams(tmp_path):
    path = tmp_path / "newsCorpora.csv"
    path.write_bytes(PAYLOAD)
    assert dl.sha256_file(path) == dl.sha256_file(io.BytesIO(PAYLOAD)) == SHA
    archive = tmp_path / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("newsCorpora.csv", PAYLOAD)
    with zipfile.ZipFile(archive) as zf, zf.open("newsCorpora.csv") as member:
        assert dl.sha256_file(member) == SHA
