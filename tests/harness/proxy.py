#!/usr/bin/env python3
"""A forward HTTP proxy for the tests, on 127.0.0.1.

  proxy.py --port P --state DIR [--user U --password W]

Handles absolute-form requests (GET http://127.0.0.1:10620/... for http
URLs) and CONNECT tunnels (for https), streaming bodies both ways.  With
--user and --password it wants Basic proxy authentication and answers 407
without it.  It only forwards to this machine (127.0.0.1, localhost, ::1).
Each request or tunnel is logged as one JSON line to DIR/requests.log.
"""

import argparse
import base64
import binascii
import http.client
import os
import select
import socket
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_server  # noqa: E402

CHUNK = 64 * 1024
IDLE = 60
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate",
              "proxy-authorization", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "expect"}


class ClientGone(Exception):
    """The client's request body ended early."""


class Refused(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cairn-test-proxy"
    timeout = IDLE
    # Unbuffered, so that no byte of a tunnel is left behind in a buffer.
    rbufsize = 0

    def log_message(self, fmt, *args):
        self.server.state.log("%s %s" % (self.address_string(), fmt % args))

    def record(self, status, target, **extra):
        entry = {"kind": "proxy", "method": self.command, "target": target,
                 "status": status}
        entry.update(extra)
        self.server.state.record(entry)

    def refuse(self, exc, target):
        self.expecting = False
        self.record(exc.status, target, error=exc.message)
        self.server.state.log("%s %s refused: %s"
                              % (self.command, target, exc.message))
        body = (exc.message + "\n").encode()
        self.send_response(exc.status)
        for name, value in exc.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        # A refused request's body is never read: do not reuse the link.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_expect_100(self):
        # Answer 100 Continue only once the request is let through.
        self.expecting = True
        return True

    def check_auth(self):
        user = self.server.user
        if user is None:
            return
        given = self.headers.get("Proxy-Authorization", "")
        scheme, _, value = given.partition(" ")
        try:
            decoded = base64.b64decode(value.strip(), validate=True) \
                .decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = None
        if scheme.lower() != "basic" or \
                decoded != "%s:%s" % (user, self.server.password):
            raise Refused(407, "Proxy authentication required",
                          {"Proxy-Authenticate":
                           'Basic realm="cairn test proxy"'})

    @staticmethod
    def check_host(host):
        if not harness_server.is_loopback(host):
            raise Refused(403, "this test proxy only forwards to "
                          "127.0.0.1, localhost and ::1, not %s" % host)

    def send_continue(self):
        if getattr(self, "expecting", False):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
            self.expecting = False

    # -- CONNECT tunnels -------------------------------------------------

    def do_CONNECT(self):
        target = self.path
        try:
            self.check_auth()
            host, sep, port = target.rpartition(":")
            if not sep or not port.isdigit():
                raise Refused(400, "CONNECT needs host:port")
            host = host.strip("[]")
            self.check_host(host)
            try:
                upstream = socket.create_connection((host, int(port)),
                                                    timeout=10)
            except OSError as exc:
                raise Refused(502, "cannot connect to %s: %s"
                              % (target, exc))
        except Refused as exc:
            self.refuse(exc, target)
            return
        self.record(200, target)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        try:
            self.relay(self.connection, upstream)
        finally:
            harness_server.free_socket(upstream)

    @staticmethod
    def relay(client, upstream):
        """Copy bytes both ways until both sides are done or idle."""
        peers = {client: upstream, upstream: client}
        open_ends = [client, upstream]
        for sock in open_ends:
            sock.settimeout(None)
        while open_ends:
            ready, _, _ = select.select(open_ends, [], [], IDLE)
            if not ready:
                return
            for sock in ready:
                try:
                    data = sock.recv(CHUNK)
                except OSError:
                    return
                if not data:
                    open_ends.remove(sock)
                    try:
                        peers[sock].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                try:
                    peers[sock].sendall(data)
                except OSError:
                    return

    # -- absolute-form requests ------------------------------------------

    def forward(self):
        target = self.path
        try:
            self.check_auth()
            url = urllib.parse.urlsplit(target)
            if url.scheme != "http" or not url.hostname:
                raise Refused(400, "a proxy request needs an absolute "
                              "http:// URL, not %s" % target)
            self.check_host(url.hostname)
            if "chunked" in \
                    self.headers.get("Transfer-Encoding", "").lower():
                length = None
            else:
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    raise Refused(400, "bad Content-Length")
            upstream = http.client.HTTPConnection(
                url.hostname, url.port or 80, timeout=IDLE)
            try:
                upstream.connect()
            except OSError as exc:
                raise Refused(502, "cannot connect to %s: %s"
                              % (url.netloc, exc))
        except Refused as exc:
            self.refuse(exc, target)
            return
        self.answered = False
        try:
            self.exchange(upstream, url, length, target)
        except ClientGone:
            self.close_connection = True
            self.server.state.log("%s %s: the request body ended early"
                                  % (self.command, target))
        except (OSError, http.client.HTTPException) as exc:
            self.close_connection = True
            if self.answered:
                self.server.state.log("%s %s: upstream failed midway: %s"
                                      % (self.command, target, exc))
            else:
                self.refuse(Refused(502, "%s failed: %s" % (url.netloc, exc)),
                            target)
        finally:
            upstream.close()

    def exchange(self, upstream, url, length, target):
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        upstream.putrequest(self.command, path, skip_host=True,
                            skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() not in HOP_BY_HOP:
                upstream.putheader(name, value)
        if length is None:
            upstream.putheader("Transfer-Encoding", "chunked")
        upstream.putheader("Connection", "close")
        upstream.endheaders()
        self.send_continue()
        try:
            if length is None:
                self.copy_chunked(upstream.sock)
            else:
                self.copy_body(upstream.sock, length)
        except (BrokenPipeError, ConnectionResetError):
            # The server answered before it took the whole body: pass its
            # answer on, then drop the client's connection, whose request
            # body is left unread.
            self.close_connection = True
        response = upstream.getresponse()
        self.record(response.status, target)
        self.answered = True
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        bodiless = self.command == "HEAD" or response.status in (204, 304) \
            or 100 <= response.status < 200
        chunked = response.chunked and not bodiless
        delimited = response.length is None and not response.chunked \
            and not bodiless
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if delimited or self.close_connection:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if bodiless:
            return
        while True:
            data = response.read1(CHUNK) if chunked or delimited else \
                response.read(CHUNK)
            if not data:
                break
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def copy_body(self, sock, length):
        """Copy LENGTH bytes of request body."""
        remaining = length
        while remaining > 0:
            data = self.rfile.read(min(remaining, CHUNK))
            if not data:
                raise ClientGone()
            sock.sendall(data)
            remaining -= len(data)

    def copy_chunked(self, sock):
        """Copy a chunked request body as it is, framing and all."""
        while True:
            line = self.rfile.readline(1024)
            sock.sendall(line)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ClientGone()
            if size == 0:
                while True:
                    trailer = self.rfile.readline(8192)
                    sock.sendall(trailer)
                    if trailer in (b"\r\n", b"\n", b""):
                        return
            remaining = size + 2
            while remaining > 0:
                data = self.rfile.read(min(remaining, CHUNK))
                if not data:
                    raise ClientGone()
                sock.sendall(data)
                remaining -= len(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = \
        do_OPTIONS = forward


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    state = harness_server.StateDir(args.state)
    server = harness_server.BoundedServer(args.port, Handler, state,
                                          max_workers=64)
    server.user = args.user
    server.password = args.password
    harness_server.serve(server)


if __name__ == "__main__":
    main()
