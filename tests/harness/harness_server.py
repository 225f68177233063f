"""What the test servers share: a state directory and a bounded server.

A state directory DIR holds
  pid           the server's process id, written once it listens
  ready         written once it listens (serve.sh waits for it)
  log           human-readable log lines
  requests.log  one JSON object a line per request, for tests to count
"""

import http.server
import json
import os
import re
import signal
import socket
import ssl
import threading
import time


class StateDir:
    """The files a server shares with the tests."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        self._lock = threading.Lock()

    def file(self, name):
        return os.path.join(self.path, name)

    def _append(self, name, line):
        with self._lock:
            with open(self.file(name), "a", encoding="utf-8") as out:
                out.write(line + "\n")

    def log(self, message):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self._append("log", "%s %s" % (stamp, redact(message)))

    def record(self, entry):
        """Append one request to requests.log (never put secrets in it)."""
        entry = {key: redact(value) if isinstance(value, str) else value
                 for key, value in entry.items()}
        entry.setdefault("time", round(time.time(), 3))
        self._append("requests.log",
                     json.dumps(entry, separators=(",", ":"),
                                sort_keys=True))

    def announce(self):
        """Write pid and ready: the server listens from now on."""
        for name, text in (("pid", str(os.getpid())), ("ready", "ready")):
            tmp = self.file(name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as out:
                out.write(text + "\n")
            os.replace(tmp, self.file(name))


class BoundedServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 with at most max_workers
    connections at a time, optionally over TLS (the handshake happens in
    the worker thread, so a silent client cannot stall the others)."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, port, handler, state, max_workers=32,
                 tls_context=None):
        self.state = state
        self.tls_context = tls_context
        self.slots = threading.BoundedSemaphore(max_workers)
        super().__init__(("127.0.0.1", port), handler)

    def process_request(self, request, client_address):
        if not self.slots.acquire(timeout=10):
            self.state.log("too many connections: refusing %s:%d"
                           % client_address)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            if self.tls_context is not None:
                request.settimeout(15)
                try:
                    request = self.tls_context.wrap_socket(
                        request, server_side=True)
                except (OSError, ssl.SSLError) as exc:
                    self.state.log("TLS handshake with %s:%d failed: %s"
                                   % (client_address + (exc,)))
                    request.close()
                    return
            self.finish_request(request, client_address)
        except Exception as exc:  # a broken client must not kill us
            self.state.log("connection from %s:%d failed: %r"
                           % (client_address + (exc,)))
        finally:
            try:
                self.shutdown_request(request)
            finally:
                self.slots.release()

    def handle_error(self, request, client_address):
        self.state.log("error serving %s" % (client_address,))


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def serve(server):
    """Announce readiness and serve until SIGTERM or SIGINT."""

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.state.log("listening on 127.0.0.1:%d (pid %d)"
                     % (server.server_address[1], os.getpid()))
    server.state.announce()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.state.log("stopped")


SAS_SIGNATURE = re.compile(r"(?i)([?&]sig=)[^&\s\"]*")


def redact(text):
    """TEXT with the signature of any SAS query string hidden."""
    return SAS_SIGNATURE.sub(r"\1REDACTED", text)


def is_loopback(host):
    """Whether HOST names this machine's loopback interface."""
    return host in ("127.0.0.1", "localhost", "::1", "[::1]")


def free_socket(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
