#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the tests, between cairn and Azurite.

It listens on 127.0.0.1 only and forwards every request to one upstream
(Azurite), as a reverse proxy: the client talks to it as if it were the
storage endpoint (http://127.0.0.1:PORT/devstoreaccount1).  Shared Key
signatures cover the path, not the host, so forwarded requests still
verify.  Faults are drawn per request with a seeded random generator:

  --busy P          answer 503 ServerBusy (with Retry-After) to a share P
  --busy-first N    ... but only among the first N requests (0: all)
  --retry-after S   the Retry-After of those answers, in seconds
  --timeout P       answer 500 OperationTimedOut to a share P
  --drop P          close the connection before forwarding (no answer)
  --drop-after P    forward, then close without passing the answer on
  --drop-after-every N  the same for every Nth request (deterministic)
  --max-inflight N  answer 503 ServerBusy while more than N requests are
                    being served (an account's limit)
  --slow BPS        move request and response bodies at BPS bytes/s
  --stall S         before the first upstream byte of each body, wait S s

GET /__stats answers a JSON object of counters; POST /__reset zeroes them
and puts every setting back to its value at start, then applies the
JSON object of its body ({"busy": 0.2, ...}).  With
--port 0 the port chosen is printed as "PORT <n>" on the first line of
standard output.  Only the Python standard library is used.
"""

import argparse
import http.client
import json
import random
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_HEADERS = {"connection", "keep-alive", "proxy-connection",
               "transfer-encoding", "upgrade", "te", "trailer"}
CHUNK = 64 * 1024
# Azurite closes connections idle for 5 s: never reuse one idle this long
UPSTREAM_IDLE_S = 2.0


class Faults:
    """Settings and counters, shared by every connection."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.settings = {
            "busy": args.busy, "busy_first": args.busy_first,
            "retry_after": args.retry_after, "timeout": args.timeout,
            "drop": args.drop, "drop_after": args.drop_after,
            "drop_after_every": args.drop_after_every,
            "max_inflight": args.max_inflight, "slow": args.slow,
            "stall": args.stall,
        }
        self.initial = dict(self.settings)
        self.rng = random.Random(args.seed)
        self.reset_counters()

    def reset_counters(self):
        self.stats = {"requests": 0, "forwarded": 0, "busy": 0,
                      "timeouts": 0, "drops": 0, "drops_after": 0,
                      "inflight": 0, "max_inflight": 0,
                      "bytes_up": 0, "bytes_down": 0}

    def draw(self):
        """The fault for the next request: None or its name."""
        with self.lock:
            s = self.settings
            self.stats["requests"] += 1
            n = self.stats["requests"]
            self.stats["inflight"] += 1
            self.stats["max_inflight"] = max(self.stats["max_inflight"],
                                             self.stats["inflight"])
            if s["max_inflight"] and self.stats["inflight"] > s["max_inflight"]:
                self.stats["busy"] += 1
                return "busy"
            if s["drop_after_every"] and n % s["drop_after_every"] == 0:
                self.stats["drops_after"] += 1
                return "drop_after"
            r = self.rng.random()
            first = s["busy_first"] == 0 or n <= s["busy_first"]
            for name, key, counter in (("busy", "busy", "busy"),
                                       ("timeout", "timeout", "timeouts"),
                                       ("drop", "drop", "drops"),
                                       ("drop_after", "drop_after",
                                        "drops_after")):
                share = s[key] if (name != "busy" or first) else 0.0
                if r < share:
                    self.stats[counter] += 1
                    return name
                r -= share
            return None

    def done(self):
        with self.lock:
            self.stats["inflight"] -= 1

    def count(self, key, n):
        with self.lock:
            self.stats[key] += n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cairn-fault-proxy"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            # a SAS signature never reaches the log
            line = re.sub(r"(sig=)[^&\s\"]*", r"\1REDACTED", fmt % args)
            sys.stderr.write("proxy: " + line + "\n")

    # -- helpers ----------------------------------------------------------

    def pace(self, nbytes, started, bps):
        if bps > 0:
            due = started + nbytes / bps
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def body_pieces(self):
        """The request body, piece by piece, at the configured pace."""
        length = int(self.headers.get("Content-Length") or 0)
        faults = self.server.faults
        bps = faults.settings["slow"]
        got, started = 0, time.monotonic()
        while got < length:
            want = min(CHUNK if bps <= 0 else max(1024, int(bps / 8)),
                       length - got)
            data = self.rfile.read(want)
            if not data:
                raise ConnectionError("client went away")
            got += len(data)
            faults.count("bytes_up", len(data))
            yield data
            self.pace(got, started, bps)

    def read_body(self):
        return b"".join(self.body_pieces())

    def answer(self, status, code, message, extra=None):
        body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s"
                "</Code><Message>%s</Message></Error>" % (code, message)
                ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-ms-error-code", code)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def upstream(self):
        conn = getattr(self, "_upstream", None)
        idle = time.monotonic() - getattr(self, "_upstream_used", 0.0)
        if conn is not None and idle > UPSTREAM_IDLE_S:
            conn.close()
            conn = None
        if conn is None:
            host, port = self.server.upstream
            conn = http.client.HTTPConnection(host, port, timeout=300)
            self._upstream = conn
        return conn

    # -- control ----------------------------------------------------------

    def control(self):
        faults = self.server.faults
        if self.command == "GET" and self.path == "/__stats":
            with faults.lock:
                body = json.dumps(dict(faults.stats,
                                       settings=faults.settings)).encode()
        elif self.command == "POST" and self.path == "/__reset":
            data = self.read_body()
            with faults.lock:
                faults.settings = dict(faults.initial)
                if data.strip():
                    for k, v in json.loads(data).items():
                        if k not in faults.settings:
                            raise ValueError("unknown setting " + k)
                        faults.settings[k] = v
                faults.reset_counters()
            body = b"{}"
        else:
            self.answer(404, "UnknownControl", "no such control path")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # -- forwarding -------------------------------------------------------

    def forward(self):
        if self.path.startswith("/__"):
            self.control()
            return
        faults = self.server.faults
        fault = faults.draw()
        try:
            if fault in (None, "drop_after"):
                # the body streams on to the upstream as it arrives
                self.relay(fault == "drop_after")
                return
            self.read_body()
            if fault == "busy":
                after = str(faults.settings["retry_after"])
                self.answer(503, "ServerBusy", "The server is busy.",
                            {"Retry-After": after})
                return
            if fault == "timeout":
                self.answer(500, "OperationTimedOut",
                            "The operation could not be completed within "
                            "the permitted time.")
                return
            if fault == "drop":
                self.drop()
        finally:
            faults.done()

    def relay(self, drop_after):
        faults = self.server.faults
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_HEADERS}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.body_pieces() if length else None
        conn = self.upstream()
        try:
            # with Content-Length among the headers, pieces go as they are
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException, ConnectionError):
            conn.close()
            self._upstream = None
            self.drop()
            return
        self._upstream_used = time.monotonic()
        faults.count("forwarded", 1)
        if drop_after:
            self.drop()
            return
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            # a HEAD answer keeps the length of the body it describes
            if k.lower() in HOP_HEADERS or (k.lower() == "content-length"
                                            and self.command != "HEAD"):
                continue
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD" or not data:
            return
        bps, stall = faults.settings["slow"], faults.settings["stall"]
        if stall > 0:
            time.sleep(stall)
        started, sent = time.monotonic(), 0
        step = CHUNK if bps <= 0 else max(1024, int(bps / 8))
        while sent < len(data):
            self.wfile.write(data[sent:sent + step])
            self.wfile.flush()
            sent += min(step, len(data) - sent)
            self.pace(sent, started, bps)
        faults.count("bytes_down", sent)

    def finish(self):
        conn = getattr(self, "_upstream", None)
        if conn is not None:
            conn.close()
        super().finish()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="HOST:PORT")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--busy", type=float, default=0.0)
    p.add_argument("--busy-first", type=int, default=0)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--timeout", type=float, default=0.0)
    p.add_argument("--drop", type=float, default=0.0)
    p.add_argument("--drop-after", type=float, default=0.0)
    p.add_argument("--drop-after-every", type=int, default=0)
    p.add_argument("--max-inflight", type=int, default=0)
    p.add_argument("--slow", type=float, default=0.0)
    p.add_argument("--stall", type=float, default=0.0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    host, _, port = args.upstream.rpartition(":")
    server = Server(("127.0.0.1", args.port), Handler)
    server.upstream = (host or "127.0.0.1", int(port))
    server.faults = Faults(args)
    server.verbose = args.verbose
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
