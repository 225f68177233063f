"""The Python SDK (azure.storage.blob of Debian's python3-azure) as a
benchmark client.  Run it with Debian's /usr/bin/python3.

    py_client.py upload-file SRC BLOB
    py_client.py download-file BLOB DEST
    py_client.py upload-dir SRCDIR PREFIX
    py_client.py download-dir PREFIX DESTDIR

Environment: BENCH_CONNECTION_STRING, BENCH_CONTAINER, BENCH_CONCURRENCY
(default 16), BENCH_BLOCK_SIZE (bytes, default 8 MiB).
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobServiceClient
from urllib3.util.retry import Retry

try:
    # The adapter azure-core mounts itself (larger read blocks).
    from azure.core.pipeline.transport._bigger_block_size_http_adapters \
        import BiggerBlockSizeHTTPAdapter as Adapter
except ImportError:
    from requests.adapters import HTTPAdapter as Adapter

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
BLOCK_SIZE = int(os.environ.get("BENCH_BLOCK_SIZE", str(8 << 20)))


def container():
    cs = os.environ.get("BENCH_CONNECTION_STRING")
    name = os.environ.get("BENCH_CONTAINER")
    if not cs or not name:
        raise RuntimeError("BENCH_CONNECTION_STRING and BENCH_CONTAINER "
                           "are needed")
    # requests keeps 10 connections per host by default; give the pool
    # one connection per worker, as the other clients have.
    session = requests.Session()
    adapter = Adapter(
        pool_connections=1, pool_maxsize=CONCURRENCY,
        max_retries=Retry(total=False, redirect=False,
                          raise_on_status=False))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    transport = RequestsTransport(session=session, session_owner=True)
    service = BlobServiceClient.from_connection_string(
        cs, transport=transport, max_block_size=BLOCK_SIZE,
        max_single_put_size=BLOCK_SIZE)
    return service.get_container_client(name)


def upload_file(cc, src, blob):
    with open(src, "rb") as f:
        cc.upload_blob(blob, f, overwrite=True,
                       max_concurrency=CONCURRENCY)


def download_file(cc, blob, dest):
    with open(dest, "wb") as f:
        cc.download_blob(blob, max_concurrency=CONCURRENCY).readinto(f)


def walk(top):
    for root, _, files in os.walk(top):
        for name in files:
            yield os.path.relpath(os.path.join(root, name), top)


def run_pool(fn, items):
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as ex:
        # list() re-raises the first failure.
        list(ex.map(fn, items))


def main(argv):
    if len(argv) != 4:
        raise RuntimeError(__doc__)
    op, a, b = argv[1:]
    cc = container()
    if op == "upload-file":
        upload_file(cc, a, b)
    elif op == "download-file":
        download_file(cc, a, b)
    elif op == "upload-dir":
        files = sorted(walk(a))
        run_pool(lambda rel: upload_file(
            cc, os.path.join(a, rel), b + "/" + rel.replace(os.sep, "/")),
            files)
    elif op == "download-dir":
        prefix = a + "/"
        names = [blob.name for blob in cc.list_blobs(name_starts_with=prefix)]
        for d in {os.path.dirname(os.path.join(b, n[len(prefix):]))
                  for n in names}:
            os.makedirs(d, exist_ok=True)
        # Each download is one request: single_get of a small blob.
        run_pool(lambda n: download_file(
            cc, n, os.path.join(b, n[len(prefix):])), names)
    else:
        raise RuntimeError("unknown operation: " + op)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # report one line, not a traceback
        sys.stderr.write("py_client: %s: %s\n" % (type(e).__name__, e))
        sys.exit(1)
