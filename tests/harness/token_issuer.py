#!/usr/bin/env python3
"""A stand-in for Entra ID and a managed identity endpoint, over HTTPS.

  token_issuer.py --port P --cert server.pem --key server.key --state DIR

Listens on 127.0.0.1:P.  DIR/config.json (read again on every request, so
tests can change it between calls; absent means the defaults) says which
credentials are valid; every request is logged as one JSON line to
DIR/requests.log.  tests/harness/README.md describes the endpoints, the
configuration and the log.
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ElementTree
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_server  # noqa: E402
import tokens  # noqa: E402

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MSI_API_VERSION = "2019-08-01"
IMDS_API_VERSION = "2018-02-01"
MSI_DEFAULT_CLIENT = "a8f0c3c1-0000-4000-8000-00000000a51d"
CLOCK_SKEW = 300
MAX_FORM = 64 * 1024
MAX_BLOB = 64 * 1024 * 1024
MIN_BEARER_VERSION = "2017-11-09"
MOCK_PREFIX = "/mockblob/devstoreaccount1"
MOCK_MODES = ("accept", "expire-first", "forbid")

DEFAULTS = {
    "tenant": tokens.DEFAULT_TENANT,
    "clients": {},
    "certificates": {},
    "federated": {},
    "identity_header": None,
    "lifetime": 3600,
    "refuse": False,
    "mockblob": "accept",
}


class ConfigError(Exception):
    pass


def load_config(state):
    """The configuration, and a key that changes when the file does."""
    path = state.file("config.json")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return dict(DEFAULTS), None
    key = (info.st_ino, info.st_mtime_ns, info.st_size)
    try:
        with open(path, encoding="utf-8") as source:
            loaded = json.load(source)
    except (OSError, ValueError) as exc:
        raise ConfigError("%s: %s" % (path, exc)) from exc
    if not isinstance(loaded, dict):
        raise ConfigError("%s: not a JSON object" % path)
    config = dict(DEFAULTS)
    config.update(loaded)
    for name in ("clients", "certificates", "federated"):
        if not isinstance(config[name], dict):
            raise ConfigError("%s: %s must be an object" % (path, name))
    if not isinstance(config["lifetime"], int):
        raise ConfigError("%s: lifetime must be an integer" % path)
    if config["mockblob"] not in MOCK_MODES:
        raise ConfigError("%s: mockblob must be one of %s"
                          % (path, ", ".join(MOCK_MODES)))
    return config, key


class OAuthError(Exception):
    """A token request refused, answered as Entra ID answers it."""

    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description


class StorageError(Exception):
    """A blob request refused, answered as Azure Storage answers it."""

    def __init__(self, status, code, message, detail=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers or {}


def cert_der(path):
    """DER bytes of the first certificate in a PEM file."""
    with open(path, encoding="ascii") as source:
        text = source.read()
    match = re.search(r"-----BEGIN CERTIFICATE-----(.*?)"
                      r"-----END CERTIFICATE-----", text, re.S)
    if not match:
        raise ValueError("%s holds no PEM certificate" % path)
    return base64.b64decode("".join(match.group(1).split()))


def openssl_verify(cert_path, signing_input, signature):
    """Whether SIGNATURE is a valid RS256 signature of SIGNING_INPUT by the
    key of the certificate at CERT_PATH, checked by the openssl CLI."""
    with tempfile.TemporaryDirectory(prefix="issuer-") as tmp:
        pub = os.path.join(tmp, "pub.pem")
        data = os.path.join(tmp, "data")
        sig = os.path.join(tmp, "sig")
        with open(pub, "wb") as out:
            done = subprocess.run(
                ["openssl", "x509", "-in", cert_path, "-pubkey", "-noout"],
                stdout=out, stderr=subprocess.PIPE, timeout=10, check=False)
        if done.returncode != 0:
            raise ValueError("cannot read %s: %s"
                             % (cert_path, done.stderr.decode().strip()))
        with open(data, "wb") as out:
            out.write(signing_input)
        with open(sig, "wb") as out:
            out.write(signature)
        done = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig,
             data], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=10, check=False)
        return done.returncode == 0


def http_date(when=None):
    return email.utils.formatdate(when, usegmt=True)


def iso_now():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


class MockStore:
    """Containers and blobs of the mock blob endpoint, in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.blobs = {}
        self.blocks = {}
        self.config_key = object()
        self.first_token = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cairn-test-issuer"
    timeout = 30

    # -- plumbing --------------------------------------------------------

    def log_message(self, fmt, *args):
        self.server.state.log("%s %s" % (self.address_string(), fmt % args))

    def handle_expect_100(self):
        # Send 100 Continue only when the body is wanted (read_body), so
        # that a request refused early need not be uploaded.
        self.expecting = True
        return True

    def body_length(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        return length if length >= 0 else None

    def read_body(self, limit):
        length = self.body_length()
        if length is None or length > limit:
            self.close_connection = True
            return None
        if getattr(self, "expecting", False) and length > 0:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        self.expecting = False
        self.body_read = True
        data = b""
        while len(data) < length:
            chunk = self.rfile.read(min(length - len(data), 1 << 16))
            if not chunk:
                self.close_connection = True
                return None
            data += chunk
        return data

    def reply(self, status, body=b"", headers=None, content_type=None):
        if not getattr(self, "body_read", False) and \
                (self.body_length() or 0) != 0:
            # The request body is unread: the connection cannot be reused.
            self.close_connection = True
        if self.body_length() is None:
            self.close_connection = True
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def reply_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        all_headers = {"Cache-Control": "no-store, no-cache",
                       "Pragma": "no-cache"}
        all_headers.update(headers or {})
        self.reply(status, body, all_headers,
                   "application/json; charset=utf-8")

    def route(self):
        self.expecting = getattr(self, "expecting", False)
        self.body_read = False
        try:
            self.dispatch()
        finally:
            self.expecting = False

    def dispatch(self):
        state = self.server.state
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            config, key = load_config(state)
        except ConfigError as exc:
            state.log("bad configuration: %s" % exc)
            state.record({"kind": "error", "path": path,
                          "method": self.command, "ok": False,
                          "error": "bad configuration"})
            self.reply_json(500, {"error": "server_error",
                                  "error_description": str(exc)})
            return
        if path == MOCK_PREFIX or path.startswith(MOCK_PREFIX + "/"):
            self.mock_blob(config, key, url)
        elif path == "/msi/token":
            self.managed_identity(config, url, imds=False)
        elif path == "/metadata/identity/oauth2/token":
            self.managed_identity(config, url, imds=True)
        elif re.fullmatch(r"/[^/]+/oauth2/v2\.0/token", path):
            self.token(config, path)
        else:
            state.record({"kind": "other", "path": path,
                          "method": self.command, "ok": False})
            self.reply_json(404, {"error": "not_found",
                                  "error_description":
                                  "no such endpoint: %s" % path})

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = route

    # -- the Entra ID token endpoint ------------------------------------

    def token(self, config, path):
        tenant = path.split("/")[1]
        record = {"kind": "token", "path": path, "method": self.command,
                  "client_id": None, "grant": None, "ok": False}
        try:
            if self.command != "POST":
                raise OAuthError(
                    405, "invalid_request", 900561,
                    "AADSTS900561: The endpoint only accepts POST requests."
                    " Received a %s request." % self.command)
            body = self.read_body(MAX_FORM)
            if body is None:
                raise OAuthError(
                    400, "invalid_request", 900144,
                    "AADSTS900144: The request body must be a form of at "
                    "most %d bytes with a Content-Length." % MAX_FORM)
            form = self.parse_form(body)
            record["client_id"] = form.get("client_id")
            record["grant"] = self.grant_kind(config, form)
            self.check_token_request(config, tenant, form)
            token, expires = tokens.make_token(
                tenant, config["lifetime"], form["client_id"])
            record["ok"] = True
            record["token"] = short_hash(token)
            self.server.state.record(record)
            self.reply_json(200, {
                "token_type": "Bearer",
                "expires_in": config["lifetime"],
                "ext_expires_in": config["lifetime"],
                "access_token": token,
            })
        except OAuthError as exc:
            record["error"] = exc.error
            self.server.state.record(record)
            self.server.state.log("token request refused: %s"
                                  % exc.description)
            trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
            stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
            self.reply_json(exc.status, {
                "error": exc.error,
                "error_description":
                    "%s Trace ID: %s Correlation ID: %s Timestamp: %s"
                    % (exc.description, trace, correlation, stamp),
                "error_codes": [exc.code],
                "timestamp": stamp,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri":
                    "https://login.microsoftonline.com/error?code=%d"
                    % exc.code,
            })

    @staticmethod
    def parse_form(body):
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"),
                                           keep_blank_values=True,
                                           strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as exc:
            raise OAuthError(400, "invalid_request", 900144,
                             "AADSTS900144: The request body is not a "
                             "valid form.") from exc
        form = {}
        for name, value in pairs:
            if name in form:
                raise OAuthError(400, "invalid_request", 90015,
                                 "AADSTS90015: Requested query string is "
                                 "too long or has a duplicate parameter "
                                 "'%s'." % name)
            form[name] = value
        return form

    @staticmethod
    def grant_kind(config, form):
        """secret, certificate or federated: which credential the request
        presents (None if neither)."""
        if "client_secret" in form:
            return "secret"
        if "client_assertion" not in form:
            return None
        client_id = form.get("client_id")
        federated = config["federated"].get(client_id)
        if federated is not None and (
                form["client_assertion"] == federated
                or client_id not in config["certificates"]):
            return "federated"
        if client_id in config["certificates"]:
            return "certificate"
        try:
            header = tokens.decode(form["client_assertion"])[0]
        except ValueError:
            return "federated"
        return "certificate" if "x5t" in header or "x5t#S256" in header \
            else "federated"

    def check_token_request(self, config, tenant, form):
        if tenant != config["tenant"]:
            raise OAuthError(
                400, "invalid_request", 90002,
                "AADSTS90002: Tenant '%s' not found. Check to make sure you "
                "have the correct tenant ID and are signing into the "
                "correct cloud." % tenant)
        client_id = form.get("client_id")
        if config["refuse"]:
            raise OAuthError(
                401, "invalid_client", 7000112,
                "AADSTS7000112: Application '%s' is disabled." % client_id)
        for name in ("grant_type", "client_id", "scope"):
            if not form.get(name):
                raise OAuthError(
                    400, "invalid_request", 900144,
                    "AADSTS900144: The request body must contain the "
                    "following parameter: '%s'." % name)
        if form["grant_type"] != "client_credentials":
            raise OAuthError(
                400, "unsupported_grant_type", 70003,
                "AADSTS70003: The app requested an unsupported grant type "
                "'%s'." % form["grant_type"])
        if form["scope"] != tokens.STORAGE_SCOPE:
            raise OAuthError(
                400, "invalid_scope", 1002012,
                "AADSTS1002012: The provided value for scope %s is not "
                "valid. Client credential flows must have a scope value "
                "with /.default suffixed to the resource identifier "
                "(application ID URI)." % form["scope"])
        has_secret = "client_secret" in form
        has_assertion = "client_assertion" in form
        if has_secret and has_assertion:
            raise OAuthError(
                400, "invalid_request", 700025,
                "AADSTS700025: Client is public so neither "
                "'client_assertion' nor 'client_secret' should be "
                "presented together.")
        if not has_secret and not has_assertion:
            raise OAuthError(
                401, "invalid_client", 7000218,
                "AADSTS7000218: The request body must contain the "
                "following parameter: 'client_assertion' or "
                "'client_secret'.")
        if has_secret:
            self.check_secret(config, tenant, form)
        else:
            self.check_assertion(config, tenant, form)

    @staticmethod
    def unknown_client(client_id, tenant):
        return OAuthError(
            400, "unauthorized_client", 700016,
            "AADSTS700016: Application with identifier '%s' was not found "
            "in the directory '%s'." % (client_id, tenant))

    def check_secret(self, config, tenant, form):
        client_id = form["client_id"]
        if client_id not in config["clients"]:
            raise self.unknown_client(client_id, tenant)
        if form["client_secret"] != config["clients"][client_id]:
            raise OAuthError(
                401, "invalid_client", 7000215,
                "AADSTS7000215: Invalid client secret provided. Ensure the "
                "secret being sent in the request is the client secret "
                "value, not the client secret ID, for a secret added to "
                "app '%s'." % client_id)

    def check_assertion(self, config, tenant, form):
        client_id = form["client_id"]
        if form.get("client_assertion_type") != JWT_BEARER:
            raise OAuthError(
                400, "invalid_request", 700024,
                "AADSTS700024: client_assertion_type must be '%s'."
                % JWT_BEARER)
        assertion = form["client_assertion"]
        federated = config["federated"].get(client_id)
        certificate = config["certificates"].get(client_id)
        if federated is not None and assertion == federated:
            return
        if certificate is None:
            if federated is not None:
                raise OAuthError(
                    401, "invalid_client", 700213,
                    "AADSTS700213: No matching federated identity record "
                    "found for presented assertion subject.")
            raise self.unknown_client(client_id, tenant)
        self.check_certificate_assertion(certificate, client_id, tenant,
                                         assertion)

    def check_certificate_assertion(self, cert_path, client_id, tenant,
                                    assertion):
        def refuse(code, text):
            raise OAuthError(401, "invalid_client", code,
                             "AADSTS%d: %s" % (code, text))

        try:
            header, claims, signing_input, signature = \
                tokens.decode(assertion)
        except ValueError as exc:
            refuse(50027, "JWT token is invalid or malformed (%s)." % exc)
        if header.get("alg") != "RS256":
            refuse(5002738, "Invalid JWT token. '%s' is not a supported "
                   "signature algorithm." % header.get("alg"))
        try:
            der = cert_der(cert_path)
        except (OSError, ValueError) as exc:
            self.server.state.log("certificate of %s: %s" % (client_id, exc))
            refuse(700027, "Client assertion failed signature validation."
                   " [Reason - The key was not found.]")
        thumbprints = {
            "x5t": tokens.b64url(hashlib.sha1(der).digest()),
            "x5t#S256": tokens.b64url(hashlib.sha256(der).digest()),
        }
        if not any(header.get(name) == value
                   for name, value in thumbprints.items()):
            refuse(700027, "Client assertion failed signature validation. "
                   "[Reason - The key was not found., Thumbprint of key "
                   "used by client: '%s']"
                   % header.get("x5t", header.get("x5t#S256")))
        try:
            valid = openssl_verify(cert_path, signing_input, signature)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            self.server.state.log("openssl: %s" % exc)
            valid = False
        if not valid:
            refuse(700027, "Client assertion failed signature validation. "
                   "[Reason - The provided signature value did not match "
                   "the expected signature value.]")
        expected_aud = "https://%s/%s/oauth2/v2.0/token" % (
            self.headers.get("Host", ""), tenant)
        if claims.get("aud") != expected_aud:
            refuse(700212, "Client assertion audience claim '%s' does not "
                   "match the token endpoint '%s'."
                   % (claims.get("aud"), expected_aud))
        for name in ("iss", "sub"):
            if claims.get(name) != client_id:
                refuse(700021, "Client assertion application identifier "
                       "doesn't match 'client_id' parameter: claim '%s'."
                       % name)
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            refuse(700023, "Client assertion contains no 'jti' claim.")
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, (int, float)) or \
                not isinstance(nbf, (int, float)) or \
                exp <= now - CLOCK_SKEW or nbf > now + CLOCK_SKEW or \
                exp <= nbf:
            refuse(700024, "Client assertion is not within its valid time "
                   "range. Current time: %s, assertion valid from %s, "
                   "expiry time of assertion %s." % (int(now), nbf, exp))

    # -- managed identity -----------------------------------------------

    def managed_identity(self, config, url, imds):
        query = dict(urllib.parse.parse_qsl(url.query,
                                            keep_blank_values=True))
        client_id = query.get("client_id")
        record = {"kind": "msi", "path": url.path, "method": self.command,
                  "client_id": client_id, "grant": "msi", "ok": False}

        def refuse(status, message):
            record["error"] = message
            self.server.state.record(record)
            self.server.state.log("managed identity request refused: %s"
                                  % message)
            if imds:
                self.reply_json(status, {"error": "invalid_request",
                                         "error_description": message})
            else:
                self.reply_json(status, {
                    "statusCode": status, "message": message,
                    "correlationId": str(uuid.uuid4())})

        if self.command != "GET":
            refuse(405, "The endpoint only accepts GET requests.")
            return
        if imds:
            if self.headers.get("Metadata") != "true":
                refuse(400, "Required metadata header not specified")
                return
            version = IMDS_API_VERSION
        else:
            given = self.headers.get("X-IDENTITY-HEADER")
            if given is None:
                refuse(400, "The request is missing the X-IDENTITY-HEADER "
                       "header.")
                return
            if config["identity_header"] is None or \
                    given != config["identity_header"]:
                refuse(401, "The X-IDENTITY-HEADER header is not valid.")
                return
            version = MSI_API_VERSION
        if query.get("api-version") != version:
            refuse(400, "api-version must be %s, not '%s'."
                   % (version, query.get("api-version")))
            return
        resource = query.get("resource")
        if resource not in tokens.STORAGE_AUDIENCES:
            refuse(400, "resource must be https://storage.azure.com/, not "
                   "'%s'." % resource)
            return
        if config["refuse"]:
            refuse(401, "The managed identity is not available.")
            return
        app_id = client_id or MSI_DEFAULT_CLIENT
        token, expires = tokens.make_token(config["tenant"],
                                           config["lifetime"], app_id)
        record["ok"] = True
        record["token"] = short_hash(token)
        self.server.state.record(record)
        answer = {"access_token": token, "expires_on": str(expires),
                  "resource": resource, "token_type": "Bearer",
                  "client_id": app_id}
        if imds:
            now = int(time.time())
            answer.update({"expires_in": str(config["lifetime"]),
                           "ext_expires_in": str(config["lifetime"]),
                           "not_before": str(now - tokens.BACKDATE)})
        self.reply_json(200, answer)

    # -- the mock blob endpoint -----------------------------------------

    def mock_blob(self, config, key, url):
        store = self.server.mock
        record = {"kind": "mockblob", "path": url.path,
                  "method": self.command, "token": None}
        request_id = str(uuid.uuid4())
        headers = {"x-ms-request-id": request_id,
                   "x-ms-version": self.headers.get("x-ms-version",
                                                    "2023-11-03"),
                   "Server": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"}
        try:
            token = self.mock_authenticate(config, key, store)
            record["token"] = short_hash(token)
            status, answer, body = self.mock_operation(store, url)
            headers.update(answer)
            record["status"] = status
            self.server.state.record(record)
            self.reply(status, body, headers)
        except StorageError as exc:
            if record["token"] is None:
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Bearer "):
                    record["token"] = short_hash(auth[7:].strip())
            record["status"] = exc.status
            record["error"] = exc.code
            self.server.state.record(record)
            headers.update(exc.headers)
            headers["x-ms-error-code"] = exc.code
            if exc.status == 304:
                self.reply(304, b"", headers)
                return
            detail = ""
            if exc.detail:
                detail = ("<AuthenticationErrorDetail>%s"
                          "</AuthenticationErrorDetail>"
                          % html.escape(exc.detail))
            body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s'
                    '</Code><Message>%s\nRequestId:%s\nTime:%s</Message>%s'
                    '</Error>' % (exc.code, html.escape(exc.message),
                                  request_id, iso_now(), detail)).encode()
            self.reply(exc.status, body, headers, "application/xml")

    def mock_authenticate(self, config, key, store):
        """The bearer token of the request, if the mode accepts it."""
        challenge = {
            "WWW-Authenticate":
                "Bearer authorization_uri=https://login.microsoftonline.com"
                "/%s/oauth2/authorize resource_id=https://storage.azure.com"
                % config["tenant"]}
        failed = "Server failed to authenticate the request. Make sure " \
            "the value of Authorization header is formed correctly " \
            "including the signature."
        auth = self.headers.get("Authorization")
        if auth is None:
            raise StorageError(
                401, "NoAuthenticationInformation",
                "Server failed to authenticate the request. Please refer to "
                "the information in the www-authenticate header.",
                headers=challenge)
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise StorageError(401, "InvalidAuthenticationInfo", failed,
                               "Only bearer tokens are accepted here.",
                               challenge)
        token = auth[7:].strip()
        version = self.headers.get("x-ms-version")
        if version is None or version < MIN_BEARER_VERSION:
            raise StorageError(
                403, "AuthenticationFailed", failed,
                "Authentication scheme Bearer is not supported in this "
                "version.")
        try:
            claims = tokens.decode(token)[1]
        except ValueError:
            raise StorageError(401, "InvalidAuthenticationInfo", failed,
                               "The token is malformed.", challenge)
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, (int, float)) or exp <= now:
            raise StorageError(
                401, "InvalidAuthenticationInfo", failed,
                "Lifetime validation failed. The token is expired.",
                challenge)
        if not isinstance(nbf, (int, float)) or nbf > now + CLOCK_SKEW:
            raise StorageError(
                401, "InvalidAuthenticationInfo", failed,
                "Lifetime validation failed. The token is not yet valid.",
                challenge)
        if claims.get("aud") not in tokens.STORAGE_AUDIENCES:
            raise StorageError(
                401, "InvalidAuthenticationInfo", failed,
                "Audience validation failed. Audience did not match.",
                challenge)
        if claims.get("iss") != tokens.issuer_url(config["tenant"]):
            raise StorageError(
                401, "InvalidAuthenticationInfo", failed,
                "Issuer validation failed. Issuer did not match.", challenge)
        mode = config["mockblob"]
        digest = hashlib.sha256(token.encode()).hexdigest()
        with store.lock:
            if store.config_key != key:
                # config.json was (re)written: the mode starts afresh.
                store.config_key = key
                store.first_token = None
            if mode == "expire-first":
                if store.first_token is None:
                    store.first_token = digest
                expired = store.first_token == digest
            else:
                expired = False
        if expired:
            raise StorageError(
                401, "InvalidAuthenticationInfo", failed,
                "Lifetime validation failed. The token is expired.",
                challenge)
        if mode == "forbid":
            raise StorageError(
                403, "AuthorizationPermissionMismatch",
                "This request is not authorized to perform this operation "
                "using this permission.")
        return token

    def mock_operation(self, store, url):
        """(status, headers, body) of a blob operation on the store."""
        rest = url.path[len(MOCK_PREFIX):].lstrip("/")
        query = dict(urllib.parse.parse_qsl(url.query,
                                            keep_blank_values=True))
        container, _, blob = rest.partition("/")
        blob = urllib.parse.unquote(blob)
        if not container:
            raise StorageError(400, "InvalidUri", "The requested URI does "
                               "not represent any resource on the server.")
        if query.get("restype") == "container":
            if blob:
                raise StorageError(400, "InvalidUri", "restype=container "
                                   "names a container, not a blob.")
            return self.mock_container(store, container, query)
        if not blob:
            raise StorageError(400, "InvalidUri", "The requested URI does "
                               "not represent any resource on the server.")
        name = (container, blob)
        comp = query.get("comp")
        if self.command == "PUT" and comp == "block":
            return self.mock_put_block(store, name, query)
        if self.command == "PUT" and comp == "blocklist":
            return self.mock_put_block_list(store, name)
        if comp is not None:
            raise StorageError(400, "UnsupportedQueryParameter", "comp=%s "
                               "is not supported by the mock." % comp)
        if self.command == "PUT":
            return self.mock_put_blob(store, name)
        if self.command in ("GET", "HEAD"):
            return self.mock_get_blob(store, name)
        if self.command == "DELETE":
            with store.lock:
                if store.blobs.pop(name, None) is None:
                    raise StorageError(404, "BlobNotFound",
                                       "The specified blob does not exist.")
            return 202, {"x-ms-delete-type-permanent": "true"}, b""
        raise StorageError(405, "UnsupportedHttpVerb", "The resource "
                           "doesn't support specified Http Verb.")

    def mock_container(self, store, container, query):
        # Every container exists: Create Container always succeeds.
        props = {"ETag": '"0x8DC0000000000000"',
                 "Last-Modified": http_date(self.server.started)}
        comp = query.get("comp")
        if comp == "list" and self.command == "GET":
            return self.mock_list(store, container, query)
        if comp is not None:
            raise StorageError(400, "UnsupportedQueryParameter", "comp=%s "
                               "is not supported by the mock." % comp)
        if self.command == "PUT":
            return 201, props, b""
        if self.command in ("GET", "HEAD"):
            props.update({"x-ms-lease-status": "unlocked",
                          "x-ms-lease-state": "available",
                          "x-ms-has-immutability-policy": "false",
                          "x-ms-has-legal-hold": "false"})
            return 200, props, b""
        raise StorageError(405, "UnsupportedHttpVerb", "The resource "
                           "doesn't support specified Http Verb.")

    def mock_list(self, store, container, query):
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        with store.lock:
            names = sorted(name for (cont, name) in store.blobs
                           if cont == container and name.startswith(prefix))
            blobs = {name: store.blobs[(container, name)] for name in names}
        root = ElementTree.Element("EnumerationResults", {
            "ServiceEndpoint": "https://%s/mockblob/devstoreaccount1/"
                               % self.headers.get("Host", ""),
            "ContainerName": container})
        ElementTree.SubElement(root, "Prefix").text = prefix
        if delimiter:
            ElementTree.SubElement(root, "Delimiter").text = delimiter
        items = ElementTree.SubElement(root, "Blobs")
        seen = set()
        for name in names:
            cut = name.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                folder = name[:cut + len(delimiter)]
                if folder not in seen:
                    seen.add(folder)
                    node = ElementTree.SubElement(items, "BlobPrefix")
                    ElementTree.SubElement(node, "Name").text = folder
                continue
            blob = blobs[name]
            node = ElementTree.SubElement(items, "Blob")
            ElementTree.SubElement(node, "Name").text = name
            props = ElementTree.SubElement(node, "Properties")
            for tag, value in (
                    ("Last-Modified", http_date(blob["modified"])),
                    ("Etag", blob["etag"]),
                    ("Content-Length", str(len(blob["data"]))),
                    ("Content-Type", blob["type"]),
                    ("BlobType", "BlockBlob")):
                ElementTree.SubElement(props, tag).text = value
            if blob["meta"]:
                meta = ElementTree.SubElement(node, "Metadata")
                for mkey, mvalue in blob["meta"].items():
                    ElementTree.SubElement(meta, mkey).text = mvalue
        ElementTree.SubElement(root, "NextMarker")
        body = b'<?xml version="1.0" encoding="utf-8"?>' + \
            ElementTree.tostring(root)
        return 200, {"Content-Type": "application/xml"}, body

    def mock_body(self):
        length = self.body_length()
        if length is None:
            raise StorageError(411, "MissingContentLengthHeader",
                               "Content-Length HTTP header is missing.")
        if length > MAX_BLOB:
            raise StorageError(413, "RequestBodyTooLarge",
                               "The mock takes bodies up to %d bytes."
                               % MAX_BLOB)
        data = self.read_body(MAX_BLOB)
        if data is None:
            raise StorageError(400, "InvalidInput",
                               "The request body was cut short.")
        return data

    def mock_check_conditions(self, current):
        match = self.headers.get("If-Match")
        none_match = self.headers.get("If-None-Match")
        if match is not None and (current is None or
                                  match not in ("*", current["etag"])):
            raise StorageError(412, "ConditionNotMet", "The condition "
                               "specified using HTTP conditional header(s) "
                               "is not met.")
        if none_match is not None and current is not None and \
                none_match in ("*", current["etag"]):
            if self.command in ("GET", "HEAD"):
                raise StorageError(304, "ConditionNotMet", "Not modified.")
            raise StorageError(409, "BlobAlreadyExists", "The specified "
                               "blob already exists.")

    def mock_store_blob(self, store, name, data, from_blocks=False):
        meta = {}
        for header, value in self.headers.items():
            if header.lower().startswith("x-ms-meta-"):
                meta[header[len("x-ms-meta-"):].lower()] = value
        now = time.time()
        etag = '"0x%X"' % (int(now * 1e7) + len(store.blobs))
        # Put Blob's Content-Type is the blob's; Put Block List's is that
        # of the XML list, so only x-ms-blob-content-type counts there.
        fallback = "application/octet-stream" if from_blocks else \
            self.headers.get("Content-Type", "application/octet-stream")
        blob = {"data": data, "etag": etag, "modified": now, "meta": meta,
                "type": self.headers.get("x-ms-blob-content-type",
                                         fallback)}
        store.blobs[name] = blob
        store.blocks.pop(name, None)
        return 201, {"ETag": etag, "Last-Modified": http_date(now),
                     "Content-MD5": base64_md5(data),
                     "x-ms-request-server-encrypted": "true"}, b""

    def mock_put_blob(self, store, name):
        if self.headers.get("x-ms-blob-type") != "BlockBlob":
            raise StorageError(400, "MissingRequiredHeader", "An HTTP "
                               "header that's mandatory for this request "
                               "is not specified: x-ms-blob-type.")
        with store.lock:
            self.mock_check_conditions(store.blobs.get(name))
        data = self.mock_body()
        with store.lock:
            self.mock_check_conditions(store.blobs.get(name))
            return self.mock_store_blob(store, name, data)

    def mock_put_block(self, store, name, query):
        block_id = query.get("blockid")
        if not block_id:
            raise StorageError(400, "InvalidQueryParameterValue",
                               "blockid is missing.")
        data = self.mock_body()
        with store.lock:
            store.blocks.setdefault(name, {})[block_id] = data
        return 201, {"Content-MD5": base64_md5(data),
                     "x-ms-request-server-encrypted": "true"}, b""

    def mock_put_block_list(self, store, name):
        data = self.mock_body()
        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError:
            raise StorageError(400, "InvalidXmlDocument", "XML specified "
                               "is not syntactically valid.")
        with store.lock:
            self.mock_check_conditions(store.blobs.get(name))
            staged = store.blocks.get(name, {})
            parts = []
            for item in root:
                if item.tag not in ("Latest", "Uncommitted") or \
                        item.text not in staged:
                    raise StorageError(400, "InvalidBlockList", "The "
                                       "specified block list is invalid.")
                parts.append(staged[item.text])
            return self.mock_store_blob(store, name, b"".join(parts),
                                        from_blocks=True)

    def mock_get_blob(self, store, name):
        with store.lock:
            blob = store.blobs.get(name)
        if blob is None:
            raise StorageError(404, "BlobNotFound",
                               "The specified blob does not exist.")
        self.mock_check_conditions(blob)
        data = blob["data"]
        headers = {"ETag": blob["etag"],
                   "Last-Modified": http_date(blob["modified"]),
                   "Content-Type": blob["type"],
                   "Accept-Ranges": "bytes",
                   "x-ms-blob-type": "BlockBlob",
                   "x-ms-server-encrypted": "true",
                   "x-ms-creation-time": http_date(blob["modified"])}
        for mkey, mvalue in blob["meta"].items():
            headers["x-ms-meta-" + mkey] = mvalue
        status = 200
        wanted = self.headers.get("x-ms-range", self.headers.get("Range"))
        if wanted and self.command == "GET":
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted.strip())
            if not match:
                raise StorageError(400, "InvalidRange", "The range "
                                   "specified is invalid.")
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) else len(data) - 1
            if first >= len(data) or last < first:
                raise StorageError(416, "InvalidRange", "The range "
                                   "specified is invalid for the current "
                                   "size of the resource.",
                                   headers={"Content-Range": "bytes */%d"
                                            % len(data)})
            last = min(last, len(data) - 1)
            headers["Content-Range"] = "bytes %d-%d/%d" % (first, last,
                                                           len(data))
            data = data[first:last + 1]
            status = 206
        headers["Content-Length"] = str(len(data))
        return status, headers, data


def short_hash(token):
    """A short digest that tells tokens apart without revealing them."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def base64_md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--state", required=True)
    args = parser.parse_args()
    state = harness_server.StateDir(args.state)
    server = harness_server.BoundedServer(
        args.port, Handler, state,
        tls_context=harness_server.tls_context(args.cert, args.key))
    server.mock = MockStore()
    server.started = time.time()
    harness_server.serve(server)


if __name__ == "__main__":
    main()
