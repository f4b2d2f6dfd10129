"""Serve a FakeTelegram over real HTTP/1.1, laid out like a self-hosted Bot API server.

Point a bot at it with
``ApplicationBuilder().token(T).base_url(root + "/bot").base_file_url(root + "/file/bot")``.
Only what PTB's httpx client needs is implemented: keep-alive, Content-Length or
chunked bodies, urlencoded / multipart / JSON payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .common import NOT_FOUND, SimulatedTimeout
from .core import FakeTelegram
from .webhook import WebhookPusher

__all__ = ["FakeBotServer"]

_API_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?")
_FILE_PATH = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)")
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
_MAX_HEADER_LINES = 100


class _BadRequestError(Exception):
    pass


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


@dataclass
class _Payload:
    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)


class _Connection:
    """StreamReader wrapper with push-back, so a byte read while watching for a client
    disconnect is not lost."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._buffer = b""

    def push_back(self, data: bytes) -> None:
        self._buffer = data + self._buffer

    async def readline(self) -> bytes:
        if b"\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\n")
            return line + b"\n"
        line = self._buffer + await self._reader.readline()
        self._buffer = b""
        return line

    async def readexactly(self, n: int) -> bytes:
        head, self._buffer = self._buffer[:n], self._buffer[n:]
        if len(head) < n:
            head += await self._reader.readexactly(n - len(head))
        return head

    async def read_some(self) -> bytes:
        if self._buffer:
            data, self._buffer = self._buffer, b""
            return data
        return await self._reader.read(65536)


class FakeBotServer:
    def __init__(self, fake: FakeTelegram, token: str, host: str = "127.0.0.1",
                 timeout_delay: float = 10.0) -> None:
        self.fake = fake
        # How late a call answers whose time-out was asked for (``time_out_next``): longer
        # than the client waits.
        self.timeout_delay = timeout_delay
        self.token = token
        self.host = host
        self.requests: list[tuple[str, str]] = []  # (HTTP method, path) for debugging
        self._server: asyncio.Server | None = None
        self._pusher = WebhookPusher(fake)  # POSTs updates to the bot while a webhook is set
        self._tasks: set[asyncio.Task[Any]] = set()
        self._url = ""

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("server not started")
        return self._url

    async def start(self) -> str:
        """Listen on a free port and return the root URL, e.g. ``http://127.0.0.1:PORT``."""
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        port = self._server.sockets[0].getsockname()[1]
        self._url = f"http://{self.host}:{port}"
        await self._pusher.__aenter__()
        return self._url

    async def stop(self) -> None:
        if self._server is None:
            return
        await self._pusher.__aexit__(None, None, None)
        self._server.close()
        # Keep-alive connections (and parked long polls) would otherwise live on.
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> FakeBotServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ connection loop

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        conn = _Connection(reader)
        try:
            while True:
                try:
                    request = await self._read_request(conn, writer)
                except _BadRequestError as exc:
                    await self._respond(
                        writer,
                        400,
                        {"ok": False, "error_code": 400, "description": str(exc)},
                        keep_alive=False,
                    )
                    break
                if request is None:
                    break
                outcome = await self._dispatch_watching_disconnect(conn, request)
                if outcome is None:
                    break  # client went away mid-request (e.g. a cancelled long poll)
                status, body, content_type = outcome
                await self._respond(
                    writer, status, body, content_type=content_type, keep_alive=request.keep_alive
                )
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels this task. Ending "cancelled" would make Python 3.11's
            # start_server callback call task.exception() and log a bogus error.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _dispatch_watching_disconnect(
        self, conn: _Connection, request: _Request
    ) -> tuple[int, Any, str] | None:
        """Run the request, but abandon it if the client disconnects first.

        httpx closes the connection when PTB cancels a getUpdates on shutdown; without
        this the long poll would stay parked in the fake and could later mark updates
        as delivered to nobody.
        """
        work = asyncio.ensure_future(self._dispatch(request))
        watch = asyncio.ensure_future(conn.read_some())
        try:
            await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                if watch.done():
                    data = watch.result()
                    if data:
                        conn.push_back(data)  # pipelined request, keep it
                return work.result()
            data = watch.result()
            if data:
                # Pipelining: keep the bytes for the next request and finish this one.
                conn.push_back(data)
                return await work
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            return None
        finally:
            for fut in (work, watch):
                if not fut.done():
                    fut.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                        await fut

    async def _read_request(
        self, conn: _Connection, writer: asyncio.StreamWriter
    ) -> _Request | None:
        line = await conn.readline()
        while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between requests
            line = await conn.readline()
        if not line:
            return None
        parts = line.decode("latin-1").strip().split()
        if len(parts) != 3:
            raise _BadRequestError("malformed request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADER_LINES):
            raw = await conn.readline()
            if raw in (b"\r\n", b"\n", b""):
                break
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                raise _BadRequestError("malformed header")
            headers[name.strip().lower()] = value.strip()
        else:
            raise _BadRequestError("too many headers")
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(conn)
        else:
            length = int(headers.get("content-length") or 0)
            body = await conn.readexactly(length) if length else b""
        return _Request(method.upper(), target, version, headers, body)

    @staticmethod
    async def _read_chunked(conn: _Connection) -> bytes:
        body = b""
        while True:
            size_line = await conn.readline()
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await conn.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return body
            body += await conn.readexactly(size)
            await conn.readexactly(2)

    @staticmethod
    async def _respond(
        writer: asyncio.StreamWriter,
        status: int,
        body: Any,
        *,
        content_type: str = "application/json",
        keep_alive: bool = True,
    ) -> None:
        payload = (
            body
            if isinstance(body, bytes)
            else json.dumps(body, ensure_ascii=False).encode("utf-8")
        )
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(payload)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
            "Server: fakebot\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + payload)
        await writer.drain()

    # ------------------------------------------------------------------ routing

    async def _dispatch(self, request: _Request) -> tuple[int, Any, str]:
        split = urlsplit(request.target)
        # PTB URL-quotes file paths, so the token's ':' arrives as %3A there.
        path = unquote(split.path)
        self.requests.append((request.method, path))
        json_type = "application/json"

        file_match = _FILE_PATH.fullmatch(path)
        if file_match and request.method == "GET":
            if file_match["token"] != self.token:
                return 401, _UNAUTHORIZED, json_type
            data = self.fake.download(file_match["path"])
            if data is None:
                return 404, NOT_FOUND, json_type
            return 200, data, "application/octet-stream"

        api_match = _API_PATH.fullmatch(path)
        if api_match is None:
            return 404, NOT_FOUND, json_type
        if api_match["token"] != self.token:
            return 401, _UNAUTHORIZED, json_type
        if request.method not in ("GET", "POST"):
            return (
                405,
                {"ok": False, "error_code": 405, "description": "Method Not Allowed"},
                json_type,
            )
        try:
            payload = self._parse_body(request)
        except (ValueError, _BadRequestError) as exc:
            return (
                400,
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"},
                json_type,
            )
        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        params.update(payload.fields)
        try:
            status, body = await self.fake.call_api(
                api_match["method"], params, payload.files, payload.filenames
            )
        except SimulatedTimeout:
            await asyncio.sleep(self.timeout_delay)
            timeout = {"ok": False, "error_code": 504, "description": "Gateway Timeout"}
            return 504, timeout, json_type
        return status, body, json_type

    @staticmethod
    def _parse_body(request: _Request) -> _Payload:
        if not request.body:
            return _Payload()
        content_type = request.headers.get("content-type", "")
        mime = content_type.split(";")[0].strip().lower()
        if mime == "application/x-www-form-urlencoded":
            return _Payload(dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)))
        if mime == "application/json":
            data = json.loads(request.body)
            if not isinstance(data, dict):
                raise _BadRequestError("JSON body must be an object")
            return _Payload(data)
        if mime == "multipart/form-data":
            match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type)
            if not match:
                raise _BadRequestError("multipart boundary missing")
            return _parse_multipart(request.body, (match[1] or match[2]).encode("latin-1"))
        raise _BadRequestError(f"unsupported content type {mime!r}")


def _parse_multipart(body: bytes, boundary: bytes) -> _Payload:
    payload = _Payload()
    delimiter = b"--" + boundary
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise _BadRequestError("malformed multipart part")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name_match = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition)
        if not name_match:
            raise _BadRequestError("multipart part without name")
        name = name_match[1]
        filename_match = re.search(r'filename="([^"]*)"', disposition)
        if filename_match is not None:
            payload.files[name] = content
            payload.filenames[name] = unquote(filename_match[1])
        else:
            payload.fields[name] = content.decode("utf-8")
    return payload
