#!/usr/bin/env python3
"""A webhook receiver that checks Standard Webhooks signatures with the svix library (independent of our signer).

Usage: receiver.py DIR
    Listens on a free 127.0.0.1 port and writes it to DIR/port. Every POST is verified with
    svix.webhooks.Webhook(secret).verify(body, headers) for each secret in DIR/secrets (one per line, re-read on every
    request); the outcome is appended to DIR/received.jsonl as {"verified", "secret_index", "id", "type", "body"}.
    The answer is 204 when a secret verified it, 400 when none did, and 500 whenever DIR/fail exists.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from svix.webhooks import Webhook, WebhookVerificationError

DIRECTORY = sys.argv[1]
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        with open(os.path.join(DIRECTORY, "secrets")) as f:
            secrets = [line.strip() for line in f if line.strip()]
        verified, index = False, None
        for position, secret in enumerate(secrets):
            try:
                Webhook(secret).verify(body, headers)
                verified, index = True, position
                break
            except WebhookVerificationError:
                continue
        failing = os.path.exists(os.path.join(DIRECTORY, "fail"))
        record = {"verified": verified, "secret_index": index, "id": headers.get("webhook-id"),
                  "signatures": headers.get("webhook-signature", "").count("v1,"), "failing": failing}
        try:
            parsed = json.loads(body)
            record["type"] = parsed.get("type")
            record["body"] = parsed
        except ValueError:
            record["type"] = None
        with LOCK:
            with open(os.path.join(DIRECTORY, "received.jsonl"), "a") as f:
                f.write(json.dumps(record) + "\n")
        status = 500 if failing else (204 if verified else 400)
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    parent = os.getppid()

    def watchdog():
        deadline = time.monotonic() + 600
        while os.getppid() == parent and time.monotonic() < deadline:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    with open(os.path.join(DIRECTORY, "port.tmp"), "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(os.path.join(DIRECTORY, "port.tmp"), os.path.join(DIRECTORY, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
