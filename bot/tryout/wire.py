"""A Bot API answered in this process: the PTB request backend that hands each call to it
(`InProcessRequest`) and the error answer such an API raises (`ApiError`). The stand-in of
`lantoa try` (bot/tryout/standin.py) is one; the tests' fuller fake (tests/fakebot) is another.

Calls take the same path as over HTTP: `RequestData.parameters` are JSON round-tripped,
uploads come from `multipart_data`, file downloads are the GETs of `<root>/file/bot<token>/…`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["NOT_FOUND", "ApiError", "BotApiServer", "InProcessRequest"]

NOT_FOUND: dict[str, Any] = {"ok": False, "error_code": 404, "description": "Not Found"}
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
_API_PATH = re.compile(r".*/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?")
_FILE_PATH = re.compile(r".*/file/bot(?P<token>[^/]+)/(?P<path>.+)")


class ApiError(Exception):
    """An error answer of the Bot API (raised inside an API, turned into JSON)."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


class BotApiServer(Protocol):
    """What answers the calls: one method with its parameters and uploads, one download."""

    async def call_api(self, method: str, params: Mapping[str, Any],
                       files: Mapping[str, bytes] | None = None,
                       filenames: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        """(HTTP status, the response's JSON object)."""
        ...

    def download(self, file_path: str) -> bytes | None:
        """A stored file's bytes; None: no such file."""
        ...


class InProcessRequest(BaseRequest):
    """Use as both `request` and `get_updates_request` (two instances, like PTB's defaults)
    of an ApplicationBuilder or `telegram.Bot`. With `token`, calls for another token get 401
    as from Telegram. A call that takes longer than the read timeout, or whose API raises a
    TimeoutError, is PTB's TimedOut."""

    def __init__(
        self,
        server: BotApiServer,
        *,
        token: str | None = None,
        read_timeout: float | None = 5.0,
    ) -> None:
        self.server = server
        self._token = token
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        # PTB URL-quotes the file path (and with it the ':' of the token) for downloads.
        path = unquote(urlsplit(url).path)
        if method == "GET" and (m := _FILE_PATH.fullmatch(path)):
            if not self._token_ok(m["token"]):
                return 401, json.dumps(_UNAUTHORIZED).encode()
            data = self.server.download(m["path"])
            if data is None:
                return 404, json.dumps(NOT_FOUND).encode()
            return 200, data

        m = _API_PATH.fullmatch(path)
        if m is None:
            return 404, json.dumps(NOT_FOUND).encode()
        if not self._token_ok(m["token"]):
            return 401, json.dumps(_UNAUTHORIZED).encode()

        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        if request_data is not None:
            # Round trip through JSON so the API sees exactly what could go over the wire.
            params = json.loads(json.dumps(request_data.parameters))
            for name, (filename, content, _mime) in request_data.multipart_data.items():
                files[name] = content if isinstance(content, bytes) else content.read()
                if filename:
                    filenames[name] = filename

        timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        try:
            async with asyncio.timeout(timeout):
                status, body = await self.server.call_api(m["method"], params, files, filenames)
        except TimeoutError:
            raise TimedOut from None
        return status, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _token_ok(self, token: str) -> bool:
        return self._token is None or token == self._token
