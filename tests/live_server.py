"""A real uvicorn server on loopback for browser tests, in a thread of the test process."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import uvicorn

from tests.receivers import free_port


@contextmanager
def live_server(app, port: int | None = None):
    """Serve `app` on 127.0.0.1 until the block ends; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
