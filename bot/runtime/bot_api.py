"""How the bot talks to the Bot API: PTB's `Bot` with two costs of a call taken out.

- `AiohttpRequest`, the HTTP client: PTB's default (httpx) spent ~2.5 ms of CPU a call, and
  more the more connections its pool held (httpcore looks at every pooled connection, with a
  system call each, twice a call, and counts the idle ones once for each); aiohttp, already
  the bot's web server, ~0.7–1.3 ms (measured with 10–30 calls in flight: bench/README.md).
- `LeanBot`, the Bot: a message the bot sends or edits comes back from Telegram whole, its
  buttons, formatting and sender included, and PTB built objects of all of it (~0.4 ms for a
  question with six buttons) that the bot never reads: it knows what it sent. Those parts are
  left out of the returned `Message`; its id, chat, date, text, caption and files stay.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

# What the bot itself put into a message it sent or edited: never read back from the answer.
SENT_BY_US = ("reply_markup", "entities", "caption_entities", "link_preview_options", "from")
# The calls PTB answers with one `Message` (Bot._send_message), which it also takes True in
# place of (an inline message edited is answered so); an album's answer is a list of them.
ONE_MESSAGE = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAudio", "sendAnimation",
    "sendVoice", "sendVideoNote", "sendSticker", "sendLocation", "sendVenue", "sendContact",
    "sendPoll", "sendDice", "forwardMessage", "editMessageText", "editMessageCaption",
    "editMessageMedia", "editMessageReplyMarkup",
})
ALBUM = "sendMediaGroup"


def _lean(message: Any) -> Any:
    if isinstance(message, dict):
        return {key: value for key, value in message.items() if key not in SENT_BY_US}
    return message  # True: an inline message edited


class LeanBot(ExtBot[Any]):
    """The application's bot (bot/runtime/app.py): the messages it sent or edited come back
    without what SENT_BY_US lists."""

    async def initialize(self) -> None:
        try:
            await super().initialize()
        except BaseException:
            # The token refused, Telegram unreachable: PTB leaves the HTTP sessions open then
            # (the Application was never initialized, so it shuts nothing down), and aiohttp
            # would print a warning after the one line `lantoa run` fails with.
            await self.shutdown()
            raise

    async def _do_post(self, endpoint: str, data: dict[str, Any], *,
                       read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                       write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                       connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                       pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                       ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        result = await super()._do_post(endpoint, data, read_timeout=read_timeout,
                                        write_timeout=write_timeout,
                                        connect_timeout=connect_timeout,
                                        pool_timeout=pool_timeout)
        if endpoint in ONE_MESSAGE:
            return _lean(result)
        if endpoint == ALBUM and isinstance(result, list):
            return [_lean(message) for message in result]
        return result


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """PTB's request backend over aiohttp, with HTTPXRequest's timeouts as far as aiohttp has
    them: a free connection, made if need be, within `pool_timeout` + `connect_timeout`; each
    read within `read_timeout`. aiohttp has no write timeout: a call without files is bounded
    as a whole by the sum of its timeouts instead, an upload (an export on a slow line may take
    minutes) only by its reads. Parameters go as a JSON body (the same values PTB would send as
    a form). Timeouts are PTB's TimedOut, other failures its NetworkError, as with httpx."""

    def __init__(self, connection_pool_size: int = 1, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Made here, inside the running loop, as aiohttp wants; no cookies: Telegram
            # sets none, and the jar is looked at on every call.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _timeout(self, read: ODVInput[float], write: ODVInput[float],
                 connect: ODVInput[float], pool: ODVInput[float],
                 upload: bool) -> aiohttp.ClientTimeout:
        read_s = _given(read, self._read_timeout)
        write_s = _given(write, self._write_timeout)
        connect_s = _given(connect, self._connect_timeout)
        pool_s = _given(pool, self._pool_timeout)
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if upload or None in parts else sum(p for p in parts if p is not None)
        acquire = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect_s,
                                     sock_read=read_s)

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else {}
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if files:
            body = _form(request_data, files)  # type: ignore[arg-type]
        elif request_data is not None:
            body = request_data.json_payload
            headers = {"Content-Type": "application/json"}
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout,
                                bool(files))
        try:
            async with self._session.request(method, url, data=body, headers=headers,
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut(f"aiohttp.{type(error).__name__}: {error}") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _form(request_data: RequestData, files: dict[str, Any]) -> aiohttp.FormData:
    """A call with uploads, as multipart: the parameters as fields, then the files."""
    form = aiohttp.FormData(quote_fields=False)  # a file's name as httpx sends it: UTF-8
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
