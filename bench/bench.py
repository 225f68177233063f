"""Transfer benchmark of cairn and its peers against Azurite.

run.sh installs the peers, builds cairn and calls this script; see
README.md beside it.  Standard library only.

Each measurement (one client, one workload, one repetition) gets a fresh
Azurite on 127.0.0.1 with a fresh data folder, which is deleted afterwards.
The timed command runs under /usr/bin/time -v in its own process group,
which is killed when the timeout expires.  Results go to a JSON-lines file
(one record per measurement) and a Markdown table.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

ACCOUNT = "devstoreaccount1"
# Azurite's published development key (not a secret).
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4"
               "I6tq/K1SZFPTOtr/KBHBeksoGMGw==")
CONTAINER = "bench"
SAS_VERSION = "2023-11-03"
MIB = 1 << 20

CLIENTS = ["cairn", "azcopy", "rclone", "js", "python", "curl"]
PEERS = ["azcopy", "rclone", "js", "python"]
LABELS = {"cairn": "cairn", "azcopy": "azcopy", "rclone": "rclone",
          "js": "JS SDK", "python": "Python SDK", "curl": "curl"}
WORKLOADS = ["up-big", "down-big", "up-small", "down-small"]
UPLOAD_OF = {"down-big": "up-big", "down-small": "up-small"}


class Interrupted(Exception):
    pass


_signalled = []


def on_signal(signum, frame):
    # The first signal stops the run; later ones must not break the
    # clean-up and the report that follow it.
    if _signalled:
        return
    _signalled.append(signum)
    raise Interrupted(signal.Signals(signum).name)


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def scrub(text):
    """Hides SAS signatures and account keys in a client's message."""
    text = re.sub(r"(sig=)[^&\s\"']+", r"\1REDACTED", text)
    text = re.sub(r"(AccountKey=)[^;\s\"']+", r"\1REDACTED", text)
    return text.replace(ACCOUNT_KEY, "REDACTED")


# ---------------------------------------------------------------- Azure bits

def account_sas():
    """An account SAS for the blob service, valid for a day."""
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    st = (now - datetime.timedelta(minutes=5)).strftime(fmt)
    se = (now + datetime.timedelta(days=1)).strftime(fmt)
    fields = {"sv": SAS_VERSION, "ss": "b", "srt": "sco",
              "sp": "rwdlacup", "st": st, "se": se, "spr": "https,http"}
    to_sign = "\n".join([ACCOUNT, fields["sp"], fields["ss"], fields["srt"],
                         st, se, "", fields["spr"], SAS_VERSION, "", ""])
    sig = base64.b64encode(hmac.new(base64.b64decode(ACCOUNT_KEY),
                                    to_sign.encode(), hashlib.sha256)
                           .digest()).decode()
    fields["sig"] = sig
    return urllib.parse.urlencode(fields)


def http(method, url, timeout=30):
    req = urllib.request.Request(url, method=method,
                                 headers={"x-ms-version": SAS_VERSION,
                                          "Content-Length": "0"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def list_blobs(endpoint, sas, prefix):
    """[(name, size)] of the blobs under prefix, following NextMarker."""
    out = []
    marker = ""
    for _ in range(1000):
        q = {"restype": "container", "comp": "list", "maxresults": "5000",
             "prefix": prefix}
        if marker:
            q["marker"] = marker
        url = "%s/%s?%s&%s" % (endpoint, CONTAINER,
                               urllib.parse.urlencode(q), sas)
        _, body = http("GET", url, timeout=60)
        root = ET.fromstring(body)
        for b in root.iter("Blob"):
            out.append((b.findtext("Name"),
                        int(b.findtext("Properties/Content-Length") or 0)))
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return out
    raise RuntimeError("listing did not end")


# ------------------------------------------------------------------ Azurite

def proc_cpu(pid):
    """CPU seconds (user+sys) a process has used so far, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        rest = s[s.rindex(")") + 2:].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def proc_hwm_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def reset_hwm(pid):
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
    except OSError:
        pass


def kill_group(p, grace=5.0):
    """Ends a child started in its own session, and all it started."""
    if p is None or p.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


def port_in_use(port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Azurite:
    def __init__(self, cfg, folder):
        self.cfg = cfg
        self.folder = folder
        self.proc = None
        self.endpoint = "http://127.0.0.1:%d/%s" % (cfg.port, ACCOUNT)

    def start(self):
        # A server already on the port would answer the readiness probe
        # and take the measurements in Azurite's place.
        if port_in_use(self.cfg.port):
            raise RuntimeError("port %d on 127.0.0.1 is in use; "
                               "choose another with --port" % self.cfg.port)
        os.makedirs(os.path.join(self.folder, "data"))
        self.logf = open(os.path.join(self.folder, "azurite.log"), "wb")
        self.proc = subprocess.Popen(
            [self.cfg.node, self.cfg.azurite, "--blobHost", "127.0.0.1",
             "--blobPort", str(self.cfg.port),
             "--location", os.path.join(self.folder, "data"),
             "--silent", "--disableTelemetry", "--skipApiVersionCheck"],
            stdin=subprocess.DEVNULL, stdout=self.logf,
            stderr=subprocess.STDOUT, cwd=self.folder,
            start_new_session=True)
        with open(self.cfg.pidfile, "w") as f:
            f.write("%d\n" % self.proc.pid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("Azurite exited: %s" % self.log_tail())
            try:
                http("GET", self.endpoint + "?comp=list", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # any status: it answers (403 without auth)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Azurite did not answer on port %d within 30 s"
                           % self.cfg.port)

    def log_tail(self):
        try:
            with open(os.path.join(self.folder, "azurite.log"), "rb") as f:
                return f.read()[-500:].decode(errors="replace").strip()
        except OSError:
            return ""

    def stop(self):
        kill_group(self.proc)
        self.proc = None
        try:
            os.unlink(self.cfg.pidfile)
        except OSError:
            pass
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None
        shutil.rmtree(os.path.join(self.folder, "data"), ignore_errors=True)


# ------------------------------------------------------------------ clients

class Ctx:
    """What one measurement's commands need."""

    def __init__(self, cfg, rundir, endpoint, sas):
        self.cfg = cfg
        self.rundir = rundir
        self.endpoint = endpoint
        self.sas = sas
        self.out = os.path.join(rundir, "out")
        self.conn = ("DefaultEndpointsProtocol=http;AccountName=%s;"
                     "AccountKey=%s;BlobEndpoint=%s;"
                     % (ACCOUNT, ACCOUNT_KEY, endpoint))

    def url(self, path=""):
        return "%s/%s%s?%s" % (self.endpoint, CONTAINER,
                               "/" + path if path else "", self.sas)


class Client:
    name = ""
    # Blob name prefix an upload writes under (checked after uploads).
    big_prefix = "big.bin"
    small_prefix = "small/"

    def __init__(self, cfg):
        self.cfg = cfg

    def env(self, ctx):
        return {}

    def prepare(self, ctx):
        """Untimed commands run once on each fresh Azurite."""
        return []

    def settings(self, workload):
        return ""

    def broken(self):
        """Why this client cannot run at all, or ""."""
        return ""

    def version(self):
        return ""


class Cairn(Client):
    name = "cairn"
    big_prefix = "imports/"
    small_prefix = "imports/"

    def env(self, ctx):
        return {"CAIRN_HOME": os.path.join(ctx.rundir, "cairn-home"),
                "AZURE_STORAGE_CONNECTION_STRING": ctx.conn}

    def prepare(self, ctx):
        c = self.cfg.cairn
        return [[c, "artifact-store", "register", "bench", "-f", "azure",
                 "--path=az://" + CONTAINER] + self.cfg.cairn_opt,
                [c, "stack", "register", "bench", "-a", "bench", "--set"]]

    def command(self, ctx, w):
        c, d = self.cfg.cairn, self.cfg.data
        return {
            "up-big": [c, "artifact", "import", d.big, "--name", "big"],
            "down-big": [c, "artifact", "get", "big",
                         os.path.join(ctx.out, "big.bin")],
            "up-small": [c, "artifact", "import", d.small,
                         "--name", "small"],
            "down-small": [c, "artifact", "get", "small",
                           os.path.join(ctx.out, "small")],
        }[w]

    def settings(self, w):
        opts = " ".join(o.lstrip("-") for o in self.cfg.cairn_opt)
        return opts or "store defaults"

    def broken(self):
        return self.cfg.cairn_broken

    def version(self):
        if self.cfg.cairn_broken:
            return "not built"
        return run_version([self.cfg.cairn, "--version"])


class AzCopy(Client):
    name = "azcopy"

    def env(self, ctx):
        base = os.path.join(ctx.rundir, "azcopy")
        return {"AZCOPY_LOG_LOCATION": os.path.join(base, "logs"),
                "AZCOPY_JOB_PLAN_LOCATION": os.path.join(base, "plans"),
                "AZCOPY_CONCURRENCY_VALUE": str(self.cfg.concurrency),
                "AZCOPY_DISABLE_SYSLOG": "true"}

    def command(self, ctx, w):
        a, d = self.cfg.azcopy, self.cfg.data
        up = ["--from-to", "LocalBlob"]
        down = ["--from-to", "BlobLocal"]
        return {
            "up-big": [a, "copy", d.big, ctx.url("big.bin")] + up,
            "down-big": [a, "copy", ctx.url("big.bin"),
                         os.path.join(ctx.out, "big.bin")] + down,
            "up-small": [a, "copy", d.small, ctx.url(), "--recursive"] + up,
            "down-small": [a, "copy", ctx.url("small"), ctx.out,
                           "--recursive"] + down,
        }[w]

    def settings(self, w):
        return "conc=%d, SAS" % self.cfg.concurrency

    def version(self):
        return run_version([self.cfg.azcopy, "--version"])


class Rclone(Client):
    name = "rclone"

    def env(self, ctx):
        return {"RCLONE_CONFIG": os.path.join(ctx.rundir, "rclone.conf"),
                "RCLONE_CONFIG_AZB_TYPE": "azureblob",
                "RCLONE_CONFIG_AZB_USE_EMULATOR": "true",
                "RCLONE_CONFIG_AZB_ENDPOINT": ctx.endpoint}

    def prepare(self, ctx):
        open(os.path.join(ctx.rundir, "rclone.conf"), "w").close()
        return []

    def command(self, ctx, w):
        r, d = self.cfg.rclone, self.cfg.data
        many = ["--transfers", str(self.cfg.concurrency),
                "--checkers", str(self.cfg.concurrency)]
        return {
            "up-big": [r, "copyto", d.big, "azb:%s/big.bin" % CONTAINER],
            "down-big": [r, "copyto", "azb:%s/big.bin" % CONTAINER,
                         os.path.join(ctx.out, "big.bin")],
            "up-small": [r, "copy", d.small, "azb:%s/small" % CONTAINER]
            + many,
            "down-small": [r, "copy", "azb:%s/small" % CONTAINER,
                           os.path.join(ctx.out, "small")] + many,
        }[w]

    def settings(self, w):
        if w == "up-big":
            return "defaults (4 MiB chunks, upload_concurrency 16)"
        if w == "down-big":
            return "defaults (multi-thread-streams 4)"
        return "transfers=checkers=%d" % self.cfg.concurrency

    def version(self):
        return run_version([self.cfg.rclone, "version"])


class SdkClient(Client):
    """The JS and Python SDK helpers share one command-line interface."""

    def env(self, ctx):
        return {"BENCH_CONNECTION_STRING": ctx.conn,
                "BENCH_CONTAINER": CONTAINER,
                "BENCH_CONCURRENCY": str(self.cfg.concurrency),
                "BENCH_BLOCK_SIZE": str(8 * MIB)}

    def command(self, ctx, w):
        d = self.cfg.data
        return self.argv() + {
            "up-big": ["upload-file", d.big, "big.bin"],
            "down-big": ["download-file", "big.bin",
                         os.path.join(ctx.out, "big.bin")],
            "up-small": ["upload-dir", d.small, "small"],
            "down-small": ["download-dir", "small",
                           os.path.join(ctx.out, "small")],
        }[w]


class JsSdk(SdkClient):
    name = "js"

    def argv(self):
        return [self.cfg.node, os.path.join(HERE, "js_client.js")]

    def settings(self, w):
        c = self.cfg.concurrency
        return {"up-big": "uploadFile conc=%d, 8 MiB blocks" % c,
                "down-big": "downloadToFile (one GET stream)",
                "up-small": "pool of %d uploadFile" % c,
                "down-small": "list + pool of %d downloadToFile" % c}[w]

    def version(self):
        try:
            with open(os.path.join(HERE, "node_modules", "@azure",
                                   "storage-blob", "package.json")) as f:
                return "@azure/storage-blob " + json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            return ""


class PySdk(SdkClient):
    name = "python"

    def argv(self):
        return [self.cfg.python, os.path.join(HERE, "py_client.py")]

    def settings(self, w):
        c = self.cfg.concurrency
        return {"up-big": "max_concurrency=%d, 8 MiB blocks" % c,
                "down-big": "max_concurrency=%d" % c,
                "up-small": "%d threads" % c,
                "down-small": "list + %d threads" % c}[w]

    def version(self):
        return "azure.storage.blob " + run_version(
            [self.cfg.python, "-c",
             "import azure.storage.blob as b; print(b.__version__)"])


class Curl(Client):
    name = "curl"
    headers = ["-H", "x-ms-blob-type: BlockBlob",
               "-H", "x-ms-version: " + SAS_VERSION]

    def many(self, ctx, w):
        """Writes the -K config for the many-files workloads."""
        cfg = os.path.join(ctx.rundir, "curl-%s.cfg" % w)
        with open(cfg, "w") as f:
            for rel in self.cfg.data.names:
                url = ctx.url("small/" + urllib.parse.quote(rel))
                if w == "up-small":
                    f.write('upload-file = "%s"\noutput = "/dev/null"\n'
                            % os.path.join(self.cfg.data.small, rel))
                else:
                    f.write('output = "%s"\n'
                            % os.path.join(ctx.out, "small", rel))
                f.write('url = "%s"\n' % url)
        return ["--parallel", "--parallel-max", str(self.cfg.concurrency),
                "-K", cfg]

    def command(self, ctx, w):
        c, d = self.cfg.curl, self.cfg.data
        base = [c, "-sS", "--fail"]
        if w == "up-big":
            return base + self.headers + ["-o", "/dev/null", "-T", d.big,
                                          ctx.url("big.bin")]
        if w == "down-big":
            return base + ["-o", os.path.join(ctx.out, "big.bin"),
                           ctx.url("big.bin")]
        if w == "up-small":
            return base + self.headers + self.many(ctx, w)
        return base + ["--create-dirs"] + self.many(ctx, w)

    def settings(self, w):
        return {"up-big": "one Put Blob",
                "down-big": "one GET",
                "up-small": "one process, --parallel-max %d"
                % self.cfg.concurrency,
                "down-small": "one process, --parallel-max %d (names known)"
                % self.cfg.concurrency}[w]

    def version(self):
        # "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 ...": the
        # first two words say enough.
        return " ".join(run_version([self.cfg.curl, "--version"])
                        .split()[:2])


CLIENT_CLASSES = {c.name: c for c in
                  (Cairn, AzCopy, Rclone, JsSdk, PySdk, Curl)}


def run_version(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        lines = (p.stdout or p.stderr).strip().splitlines()
        return lines[0].strip() if lines else ""
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


# ------------------------------------------------------------- measurement

class Data:
    def __init__(self, folder, big_bytes, files, file_bytes):
        self.big = os.path.join(folder, "big.bin")
        self.small = os.path.join(folder, "small")
        self.big_bytes = big_bytes
        self.files = files
        self.file_bytes = file_bytes
        width = max(4, len(str(files - 1)))
        self.names = ["f%0*d.bin" % (width, i) for i in range(files)]

    def make(self):
        os.makedirs(self.small)
        chunk = 4 * MIB
        with open(self.big, "wb") as f:
            left = self.big_bytes
            while left > 0:
                n = min(chunk, left)
                f.write(os.urandom(n))
                left -= n
        for name in self.names:
            with open(os.path.join(self.small, name), "wb") as f:
                f.write(os.urandom(self.file_bytes))


def last_lines(path, n=3):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return scrub(" / ".join(lines[-n:]))[:300]


def parse_time(path):
    out = {}
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return out
    m = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)",
                  text)
    if m:
        out["wall"] = (int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60
                       + float(m.group(3)))
    for key, label in (("user", "User time (seconds)"),
                       ("sys", "System time (seconds)"),
                       ("rss_kib", "Maximum resident set size (kbytes)"),
                       ("status", "Exit status")):
        m = re.search(re.escape(label) + r": ([\d.]+)", text)
        if m:
            out[key] = float(m.group(1))
    m = re.search(r"Command terminated by signal (\d+)", text)
    if m:
        out["signal"] = int(m.group(1))
    return out


class Runner:
    def __init__(self, cfg):
        self.cfg = cfg
        self.current = None  # the running child, for clean-up

    def run(self, argv, env, rundir, tag, timeout, timed=False):
        """Runs argv in its own process group; returns a result dict."""
        out = os.path.join(rundir, tag + ".out")
        err = os.path.join(rundir, tag + ".err")
        tfile = os.path.join(rundir, tag + ".time")
        full = (["/usr/bin/time", "-v", "-o", tfile] + argv) if timed \
            else argv
        t0 = time.monotonic()
        with open(out, "wb") as fo, open(err, "wb") as fe:
            try:
                self.current = subprocess.Popen(
                    full, env=env, cwd=rundir, stdin=subprocess.DEVNULL,
                    stdout=fo, stderr=fe, start_new_session=True)
            except OSError as e:
                return {"ok": False, "error": "cannot run %s: %s"
                        % (os.path.basename(argv[0]), e)}
            try:
                rc = self.current.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                kill_group(self.current)
                rc, timed_out = None, True
            except BaseException:
                kill_group(self.current)
                raise
            finally:
                self.current = None
        res = {"ok": False, "rc": rc,
               "elapsed": round(time.monotonic() - t0, 3)}
        if timed:
            res.update(parse_time(tfile))
        if timed_out:
            res["error"] = "timed out after %d s" % timeout
        elif rc != 0:
            msg = last_lines(err) or last_lines(out)
            res["error"] = "exit %s: %s" % (rc, msg) if msg else \
                "exit %s" % rc
        else:
            res["ok"] = True
        return res

    def kill_current(self):
        p = self.current
        self.current = None
        kill_group(p)


def base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "AZCOPY_", "RCLONE_", "CAIRN_",
                                "BENCH_"))}
    return env


def check_upload(client, ctx, w, data):
    prefix = client.big_prefix if w == "up-big" else client.small_prefix
    blobs = list_blobs(ctx.endpoint, ctx.sas, prefix)
    if w == "up-big":
        if not any(size == data.big_bytes for _, size in blobs):
            return "no blob of %d bytes under '%s' after the upload" \
                % (data.big_bytes, prefix)
        return None
    n = sum(1 for _, size in blobs if size == data.file_bytes)
    if n != data.files:
        return "%d blobs of %d bytes under '%s' after the upload, " \
            "expected %d" % (n, data.file_bytes, prefix, data.files)
    return None


def check_download(w, ctx, data):
    if w == "down-big":
        argv = ["cmp", data.big, os.path.join(ctx.out, "big.bin")]
    else:
        argv = ["diff", "-r", "-q", data.small,
                os.path.join(ctx.out, "small")]
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=300, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "%s timed out" % argv[0]
    if p.returncode != 0:
        msg = (p.stdout + p.stderr).strip().splitlines()
        first = msg[0].replace(ctx.rundir + "/", "") if msg else \
            argv[0] + " failed"
        return "download differs from the source: %s" % first[:200]
    return None


def measure(cfg, runner, client, w, rep, seq):
    """One measurement on a fresh Azurite; returns its record."""
    rec = {"rep": rep, "workload": w, "client": client.name, "ok": False}
    if client.broken():
        rec["error"] = client.broken()
        return rec
    rundir = os.path.join(cfg.work, "run-%03d" % seq)
    os.makedirs(rundir)
    az = Azurite(cfg, rundir)
    try:
        az.start()
        ctx = Ctx(cfg, rundir, az.endpoint, cfg.sas)
        os.makedirs(ctx.out)
        os.makedirs(os.path.join(rundir, "home"))
        env = base_env()
        env["HOME"] = os.path.join(rundir, "home")
        env.update(client.env(ctx))
        http("PUT", ctx.url() + "&restype=container")
        for i, argv in enumerate(client.prepare(ctx)):
            r = runner.run(argv, env, rundir, "prepare%d" % i, 60)
            if not r["ok"]:
                rec["error"] = "set-up failed: " + r["error"]
                return rec
        if w in UPLOAD_OF:
            r = runner.run(client.command(ctx, UPLOAD_OF[w]), env, rundir,
                           "setup-upload", cfg.timeout)
            if not r["ok"]:
                rec["error"] = "upload before the download failed: " \
                    + r["error"]
                return rec
        argv = client.command(ctx, w)
        subprocess.run(["sync"], timeout=120)
        pid = az.proc.pid
        reset_hwm(pid)
        cpu0 = proc_cpu(pid)
        r = runner.run(argv, env, rundir, "measure", cfg.timeout, timed=True)
        cpu1 = proc_cpu(pid)
        hwm = proc_hwm_kib(pid)
        for k in ("wall", "user", "sys", "rss_kib", "error", "elapsed"):
            if k in r:
                rec[k] = r[k]
        if "user" in r and "sys" in r:
            rec["cpu"] = round(r["user"] + r["sys"], 2)
        if cpu0 is not None and cpu1 is not None:
            rec["azurite_cpu"] = round(cpu1 - cpu0, 2)
        if hwm is not None:
            rec["azurite_rss_kib"] = hwm
        if az.proc.poll() is not None:
            rec["error"] = "Azurite died: " + az.log_tail()
            return rec
        if not r["ok"]:
            return rec
        problem = check_download(w, ctx, cfg.data) if w in UPLOAD_OF \
            else check_upload(client, ctx, w, cfg.data)
        if problem:
            rec["error"] = problem
            return rec
        rec["ok"] = True
        return rec
    except (OSError, RuntimeError, ValueError, ET.ParseError,
            subprocess.SubprocessError) as e:
        rec["error"] = scrub("%s: %s" % (type(e).__name__, e))
        return rec
    finally:
        runner.kill_current()
        az.stop()
        shutil.rmtree(rundir, ignore_errors=True)


# ------------------------------------------------------------------- report

def fmt(x, digits=2):
    return "%.*f" % (digits, x)


def machine_info(cfg):
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cores"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            info["memory_gib"] = round(kib / (1 << 20), 1)
    except (OSError, ValueError, IndexError):
        pass
    info["kernel"] = platform.release()
    return info


def sha256_speed():
    """openssl speed -evp sha256 on 16 KiB blocks, in GB/s."""
    try:
        p = subprocess.run(["openssl", "speed", "-evp", "sha256", "-bytes",
                            "16384", "-seconds", "3"],
                           capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in p.stdout.splitlines():
        m = re.match(r"\s*sha256\s+([\d.]+)k\s*$", line)
        if m:
            return round(float(m.group(1)) * 1000 / 1e9, 2)
    return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def size_label(n):
    if n >= 1 << 30 and n % (1 << 30) == 0:
        return "%d GiB" % (n >> 30)
    if n >= MIB and n % MIB == 0:
        return "%d MiB" % (n >> 20)
    if n >= 1024 and n % 1024 == 0:
        return "%d KiB" % (n >> 10)
    return "%d B" % n


def workload_label(meta, w):
    big = size_label(meta["big_bytes"])
    small = "%d×%s" % (meta["files"], size_label(meta["file_bytes"]))
    return {"up-big": "upload " + big, "down-big": "download " + big,
            "up-small": "upload " + small,
            "down-small": "download " + small}[w]


def cell_text(text):
    return text.replace("|", "\\|").replace("\n", " ")


def summarise(recs):
    ok = [r for r in recs if r.get("ok")]
    s = {"n": len(recs), "ok": len(ok),
         "errors": [r.get("error", "failed") for r in recs
                    if not r.get("ok")]}
    for key in ("wall", "cpu", "rss_kib", "azurite_cpu"):
        vals = [r[key] for r in ok if r.get(key) is not None]
        if vals:
            s[key] = (statistics.median(vals), min(vals), max(vals))
    return s


def ratio_cell(mine, others, key):
    """cairn's median over the lowest median among others, with its name."""
    if key not in mine:
        return "–"
    best = None
    for name, s in others:
        if key in s and s[key][0] > 0 and (best is None
                                            or s[key][0] < best[1]):
            best = (name, s[key][0])
    if best is None:
        return "–"
    r = mine[key][0] / best[1]
    if len(others) == 1:
        return "%.2f×" % r
    return "%.2f× (%s)" % (r, LABELS[best[0]])


def render(meta, recs):
    lines = []
    add = lines.append
    add("# cairn transfer benchmark")
    add("")
    add("- date: %s; load average at start %s, at end %s"
        % (meta["date"], meta["load_start"], meta.get("load_end", "?")))
    m = meta["machine"]
    add("- machine: %s, %s cores, %s GiB, Linux %s"
        % (m.get("cpu", "?"), m.get("cores", "?"), m.get("memory_gib", "?"),
           m.get("kernel", "?")))
    sha = meta.get("sha256_gbps")
    add("- `openssl speed -evp sha256`, 16 KiB blocks: %s"
        % ("%.2f GB/s (one core)" % sha if sha else "not measured"))
    add("- Azurite %s, fresh per measurement, 127.0.0.1, strict, "
        "--skipApiVersionCheck" % meta.get("azurite_version", "?"))
    add("- repetitions: %d, clients interleaved in each; concurrency %d; "
        "timeout %d s per command"
        % (meta["reps"], meta["concurrency"], meta["timeout"]))
    add("- downloads: the data is first uploaded, untimed, by the same "
        "client into the fresh Azurite; each download is checked with "
        "cmp / diff -r")
    add("- versions: " + "; ".join(
        "%s: %s" % (LABELS[c], v) for c, v in meta["versions"].items()))
    if meta.get("interrupted"):
        add("- **interrupted** (%s): the table holds what was measured"
            % meta["interrupted"])
    add("")
    add("Medians over the successful runs, [min–max]. Client CPU is "
        "user+sys of the command and its children; peak RSS is the largest "
        "of its processes'. Ratios are cairn's median over the lowest median "
        "among azcopy, rclone, JS SDK and Python SDK (named), and over curl; "
        "below 1 means cairn used less.")
    add("")
    add("| workload | client | settings | wall s | throughput | client CPU s "
        "| peak RSS MiB | Azurite CPU s | runs ok |")
    add("|---|---|---|---|---|---:|---:|---:|---|")
    notes = []
    for w in meta["workloads"]:
        wl = workload_label(meta, w)
        stats = {}
        for c in meta["clients"]:
            rs = [r for r in recs if r["workload"] == w and r["client"] == c]
            if not rs:
                continue
            s = stats[c] = summarise(rs)
            setting = meta["settings"].get(c, {}).get(w, "")
            for e in s["errors"]:
                notes.append("%s, %s: %s" % (wl, LABELS[c], e))
            if "wall" not in s:
                err = s["errors"][0] if s["errors"] else "no run"
                add("| %s | %s | %s | **failed**: %s | – | – | – | – "
                    "| 0/%d |" % (wl, LABELS[c], cell_text(setting),
                       cell_text(err[:160]), s["n"]))
                continue
            med, lo, hi = s["wall"]
            if w.endswith("big"):
                tput = "%.0f MiB/s" % (meta["big_bytes"] / MIB / med) \
                    if med > 0 else "–"
            else:
                tput = "%.0f files/s" % (meta["files"] / med) \
                    if med > 0 else "–"
            cpu = fmt(s["cpu"][0]) if "cpu" in s else "–"
            rss = fmt(s["rss_kib"][0] / 1024, 0) if "rss_kib" in s else "–"
            azc = fmt(s["azurite_cpu"][0]) if "azurite_cpu" in s else "–"
            okc = "%d/%d" % (s["ok"], s["n"])
            if s["ok"] < s["n"]:
                okc += " (failures below)"
            add("| %s | %s | %s | %s [%s–%s] | %s | %s | %s | %s | %s |"
                % (wl, LABELS[c], cell_text(setting), fmt(med), fmt(lo),
                   fmt(hi), tput, cpu, rss, azc, okc))
        if "cairn" in stats and "wall" in stats["cairn"]:
            mine = stats["cairn"]
            peers = [(c, stats[c]) for c in PEERS if c in stats]
            curl = [(c, stats[c]) for c in ("curl",) if c in stats]
            for label, others in (("cairn ÷ best peer", peers),
                                  ("cairn ÷ curl", curl)):
                if not others:
                    continue
                add("| %s | *%s* | | %s | | %s | %s | %s | |"
                    % (wl, label, ratio_cell(mine, others, "wall"),
                       ratio_cell(mine, others, "cpu"),
                       ratio_cell(mine, others, "rss_kib"),
                       ratio_cell(mine, others, "azurite_cpu")))
    if notes:
        add("")
        add("Failures:")
        add("")
        for n in notes:
            add("- " + cell_text(n))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--cairn", required=True)
    p.add_argument("--cairn-broken", default="",
                   help="why cairn cannot be measured (it is then shown "
                   "as failed)")
    p.add_argument("--cairn-opt", action="append", default=[],
                   help="--KEY=VALUE for the azure artifact store")
    p.add_argument("--big-bytes", type=int, required=True)
    p.add_argument("--files", type=int, required=True)
    p.add_argument("--file-bytes", type=int, required=True)
    p.add_argument("--reps", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--clients", default=",".join(CLIENTS))
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--node", default="node")
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--curl", default="curl")
    p.add_argument("--rclone", default="rclone")
    p.add_argument("--azcopy", required=True)
    p.add_argument("--azurite", required=True)
    return p.parse_args(argv)


def main(argv):
    if len(argv) == 3 and argv[1] == "--report":
        with open(argv[2]) as f:
            rows = [json.loads(l) for l in f if l.strip()]
        sys.stdout.write(render(rows[0]["meta"], rows[1:]))
        return 0

    cfg = parse_args(argv[1:])
    clients = [c for c in cfg.clients.split(",") if c]
    workloads = [w for w in cfg.workloads.split(",") if w]
    for c in clients:
        if c not in CLIENT_CLASSES:
            raise SystemExit("unknown client %r (known: %s)"
                             % (c, ", ".join(CLIENTS)))
    for w in workloads:
        if w not in WORKLOADS:
            raise SystemExit("unknown workload %r (known: %s)"
                             % (w, ", ".join(WORKLOADS)))
    if cfg.reps < 1 or cfg.files < 1 or cfg.big_bytes < 1 \
            or cfg.file_bytes < 1:
        raise SystemExit("sizes, counts and repetitions must be positive")
    if port_in_use(cfg.port):
        raise SystemExit("port %d on 127.0.0.1 is in use; choose another "
                         "with --port" % cfg.port)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    cfg.pidfile = os.path.join(cfg.work, "azurite.pid")
    cfg.sas = account_sas()
    cfg.data = Data(os.path.join(cfg.work, "data"), cfg.big_bytes, cfg.files,
                    cfg.file_bytes)
    objs = {c: CLIENT_CLASSES[c](cfg) for c in clients}
    try:
        with open(os.path.join(os.path.dirname(cfg.azurite), "..", "..",
                               "..", "package.json")) as f:
            az_version = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        az_version = "?"

    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "load_start": loadavg(), "machine": machine_info(cfg),
        "big_bytes": cfg.big_bytes, "files": cfg.files,
        "file_bytes": cfg.file_bytes, "reps": cfg.reps,
        "concurrency": cfg.concurrency, "timeout": cfg.timeout,
        "clients": clients, "workloads": workloads,
        "azurite_version": az_version,
        "versions": {c: o.version() for c, o in objs.items()},
        "settings": {c: {w: o.settings(w) for w in workloads}
                     for c, o in objs.items()},
    }
    log("openssl speed -evp sha256 (16 KiB blocks, 3 s)...")
    meta["sha256_gbps"] = sha256_speed()
    log("making the test data: %s and %d files of %s..."
        % (size_label(cfg.big_bytes), cfg.files, size_label(cfg.file_bytes)))

    runner = Runner(cfg)
    recs = []
    raw_path = re.sub(r"\.md$", "", cfg.out) + ".jsonl"
    seq = 0
    total = cfg.reps * len(workloads) * len(clients)
    try:
        cfg.data.make()
        for rep in range(1, cfg.reps + 1):
            # Rotate the order each repetition, so that no client always
            # runs first (or right after the same neighbour).
            k = (rep - 1) % len(clients)
            order = clients[k:] + clients[:k]
            for w in workloads:
                for c in order:
                    seq += 1
                    rec = measure(cfg, runner, objs[c], w, rep, seq)
                    recs.append(rec)
                    if rec["ok"]:
                        status = "%.2f s wall, %.2f s CPU, %.0f MiB" % (
                            rec.get("wall", 0), rec.get("cpu", 0),
                            rec.get("rss_kib", 0) / 1024)
                    else:
                        status = "FAILED: " + rec.get("error", "?")
                    log("[%d/%d] rep %d %-10s %-7s %s"
                        % (seq, total, rep, w, c, status))
    except Interrupted as e:
        meta["interrupted"] = str(e)
        log("interrupted (%s); reporting what was measured" % e)
    finally:
        runner.kill_current()
    meta["load_end"] = loadavg()

    report = render(meta, recs)
    os.makedirs(os.path.dirname(os.path.abspath(cfg.out)), exist_ok=True)
    with open(cfg.out, "w") as f:
        f.write(report)
    with open(raw_path, "w") as f:
        f.write(json.dumps({"meta": meta}) + "\n")
        for r in recs:
            f.write(json.dumps(r) + "\n")
    sys.stdout.write("\n" + report)
    log("\nwritten to %s (raw records: %s)" % (cfg.out, raw_path))
    return 130 if meta.get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
