"""A PTB request backend that answers from a FakeTelegram without any networking."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from .common import NOT_FOUND, SimulatedTimeout
from .core import FakeTelegram

__all__ = ["FakeRequest"]

_API_PATH = re.compile(r".*/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)/?")
_FILE_PATH = re.compile(r".*/file/bot(?P<token>[^/]+)/(?P<path>.+)")
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


class FakeRequest(BaseRequest):
    """Use as both ``request`` and ``get_updates_request`` (two instances, like PTB's
    defaults) of an ApplicationBuilder or ``telegram.Bot``.

    Parameters take the same path as over HTTP: ``RequestData.parameters`` are
    JSON round-tripped, uploads come from ``multipart_data``. If ``token`` is given,
    requests for another token get 401 like from Telegram.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        *,
        token: str | None = None,
        read_timeout: float | None = 5.0,
    ) -> None:
        self.fake = fake
        self._token = token
        self._read_timeout = read_timeout
        self._initialized = False

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self._initialized = True

    async def shutdown(self) -> None:
        self._initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
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
            data = self.fake.download(m["path"])
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
            # Round trip through JSON so the fake sees exactly what could go over the wire.
            params = json.loads(json.dumps(request_data.parameters))
            for name, (filename, content, _mime) in request_data.multipart_data.items():
                files[name] = content if isinstance(content, bytes) else content.read()
                if filename:
                    filenames[name] = filename

        timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        try:
            async with asyncio.timeout(timeout):
                status, body = await self.fake.call_api(m["method"], params, files, filenames)
        except (TimeoutError, SimulatedTimeout):
            raise TimedOut from None
        return status, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _token_ok(self, token: str) -> bool:
        return self._token is None or token == self._token
