"""Real receivers on loopback for delivery tests: an SMTP server (aiosmtpd) that keeps what it
receives, and an HTTP server that records webhook POSTs and can be told to fail first."""

from __future__ import annotations

import email
import socket
import threading
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server accepted: (envelope sender, recipients, parsed message)."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=default)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@contextmanager
def smtp_server():
    """(host, port, inbox) of a running SMTP server."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, inbox
    finally:
        controller.stop()


class Receiver:
    """Webhook POSTs received: (path, headers, body). Answers `fail_first` requests with 503."""

    def __init__(self):
        self.requests: list[tuple[str, dict, bytes]] = []
        self.fail_first = 0
        self.lock = threading.Lock()
        self.url = ""


@contextmanager
def http_receiver():
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                failing = receiver.fail_first > 0
                receiver.fail_first -= failing
                if not failing:
                    receiver.requests.append((self.path, dict(self.headers), body))
            self.send_response(503 if failing else 204)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
