"""Files: everything stored under a file_id (users' photos, stickers and voice notes, the
bot's uploads), the several sizes Telegram keeps per photo, and how a file parameter
(an upload, a file_id or a URL) becomes a photo or a document."""

from __future__ import annotations

import copy
import mimetypes
import re
import secrets
from typing import Any

from .common import ApiError, StoredFile, _fake_image, _Upload
from .state import FakeState


class Files(FakeState):
    """The file store behind sendPhoto, sendDocument, sendMediaGroup and getFile."""

    def _register_file(
        self,
        kind: str,
        data: bytes,
        ext: str,
        *,
        file_id: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        stated_size: int | None = None,
    ) -> StoredFile:
        n = next(self._file_counter)
        prefixes = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI"}
        file_id = (
            file_id or f"{prefixes.get(kind, 'CAACAgIAAxkBAAI')}{n:05d}{secrets.token_urlsafe(24)}"
        )
        folder = {"photo": "photos", "document": "documents", "voice": "voice"}.get(
            kind, kind + "s"
        )
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"AQAD{n:05d}{secrets.token_urlsafe(6)}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{n}.{ext}",
            file_name=file_name,
            mime_type=mime_type,
            stated_size=stated_size,
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: StoredFile, width: int, height: int) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": width,
            "height": height,
        }

    def _new_photo_set(self, upload: bytes | None = None) -> list[dict[str, Any]]:
        """Telegram stores several sizes per photo, smallest first; an uploaded photo
        becomes the biggest one."""
        dims = [(90, 68), (320, 240), (1280, 960)]
        if upload is not None:
            dims = dims[:-1]
        sizes = []
        for w, h in dims:
            stored = self._register_file(
                "photo", _fake_image(f"{w}x{h}-{secrets.token_hex(4)}"), "jpg"
            )
            sizes.append(self._photo_size(stored, w, h))
        if upload is not None:
            sizes.append(self._photo_size(self._register_file("photo", upload, "jpg"), 1280, 960))
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _input_file(
        self, value: Any, uploads: dict[str, _Upload], field_name: str
    ) -> _Upload | str:
        """Resolve a file parameter to an upload or a file_id/URL string."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, f"Bad Request: file {value} not found in the request")
        elif value is None and field_name in uploads:
            upload = uploads[field_name]
        elif isinstance(value, str) and value:
            return value
        else:
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return upload

    def _photo_from(
        self, value: Any, uploads: dict[str, _Upload], field_name: str
    ) -> list[dict[str, Any]]:
        source = self._input_file(value, uploads, field_name)
        if isinstance(source, _Upload):
            return self._new_photo_set(source.data)
        if re.match(r"https?://", source):
            return self._new_photo_set(_fake_image(source))
        known = self._files.get(source)
        if known is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if known.kind != "photo":
            raise ApiError(
                400, f"Bad Request: can't use file of type {known.kind.title()} as Photo"
            )
        return copy.deepcopy(self._photo_sets[source])

    def _document_from(
        self, value: Any, uploads: dict[str, _Upload], field_name: str
    ) -> dict[str, Any]:
        source = self._input_file(value, uploads, field_name)
        if isinstance(source, str):
            if re.match(r"https?://", source):
                name = source.rstrip("/").rsplit("/", 1)[-1] or "file"
                source = _Upload(_fake_image(source), name)
            else:
                known = self._files.get(source)
                if known is None:
                    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
                return self._document_json(known)
        name = source.filename or "file"
        mime = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
        stored = self._register_file("document", source.data, ext, file_name=name, mime_type=mime)
        return self._document_json(stored)

    def _user_document(self, data: bytes, filename: str, mime_type: str | None,
                       stated_size: int | None) -> dict[str, Any]:
        """A document a user sends (📎 → File), stored so that getFile and the download find
        it."""
        mime = mime_type or mimetypes.guess_type(filename, strict=False)[0]
        ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = self._register_file("document", data, ext, file_name=filename,
                                     mime_type=mime or "application/octet-stream",
                                     stated_size=stated_size)
        return self._document_json(stored)

    @staticmethod
    def _document_json(stored: StoredFile) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return doc
