"""ASGI middleware that caps request bodies at CAREGAPS_MAX_REQUEST_BYTES."""

from __future__ import annotations

import orjson

from caregaps.fhir.outcome import error
from caregaps.web.deps import RequestTooLarge


class BodyLimit:
    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._too_large(send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise RequestTooLarge()
            return message

        await self.app(scope, limited_receive, send)

    async def _too_large(self, send) -> None:
        body = orjson.dumps(error(f"request body is larger than the limit of {self.max_bytes} bytes "
                                  "(CAREGAPS_MAX_REQUEST_BYTES); split the export into smaller files",
                                  code="too-long").model_dump(exclude_none=True))
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/fhir+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
