"""Access tokens shaped like the ones Entra ID issues for Azure Storage.

Shared by the token issuer and the fake Azure CLI.  The tokens are well
formed JWTs whose signature is random bytes: Azurite in OAuth mode and the
mock blob endpoint of the issuer check the claims, not the signature.
"""

import base64
import json
import os
import time
import uuid

DEFAULT_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
STORAGE_AUDIENCE = "https://storage.azure.com"
STORAGE_AUDIENCES = ("https://storage.azure.com", "https://storage.azure.com/")
STORAGE_SCOPE = "https://storage.azure.com/.default"

# Entra dates the start of a token's validity five minutes back, to allow
# for clock skew; so do we.
BACKDATE = 300


def b64url(data):
    """Unpadded base64url text of bytes."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Bytes of unpadded (or padded) base64url text; ValueError if bad."""
    if not isinstance(text, str):
        raise ValueError("not text")
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError("not base64url") from exc
    if any(c not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
           b"0123456789-_=" for c in raw):
        raise ValueError("not base64url")
    raw = raw.rstrip(b"=")
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


def issuer_url(tenant):
    """The v1 issuer Azure Storage (and Azurite) accepts."""
    return "https://sts.windows.net/%s/" % tenant


def object_id(app_id):
    """A stable object id for a client id, as a directory would have."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "cairn-test:" + app_id))


def make_token(tenant, lifetime, app_id, audience=STORAGE_AUDIENCE,
               now=None, extra=None):
    """A fresh access token and its expiry time (epoch seconds)."""
    now = int(time.time()) if now is None else int(now)
    expires = now + int(lifetime)
    oid = object_id(app_id)
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {
        "aud": audience,
        "iss": issuer_url(tenant),
        "iat": now - BACKDATE,
        "nbf": now - BACKDATE,
        "exp": expires,
        "appid": app_id,
        "appidacr": "1",
        "idtyp": "app",
        "oid": oid,
        "sub": oid,
        "tid": tenant,
        "ver": "1.0",
        "jti": uuid.uuid4().hex,
    }
    if extra:
        claims.update(extra)
    text = ".".join([
        b64url(json.dumps(header, separators=(",", ":")).encode()),
        b64url(json.dumps(claims, separators=(",", ":")).encode()),
        b64url(os.urandom(256)),
    ])
    return text, expires


def decode(token):
    """(header, claims, signing input, signature) of a JWT; ValueError."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise ValueError("a JWT has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("the JWT header or claims are not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("the JWT header or claims are not JSON objects")
    signature = b64url_decode(parts[2])
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    return header, claims, signing_input, signature
