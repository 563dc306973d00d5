"""HTTPS: `pipy serve` with [server] tls_cert / tls_key (DESIGN.md, "TLS").

A test CA is made with the openssl CLI: a root, an intermediate, and a server certificate
for 127.0.0.1 and localhost whose file holds the chain (server, then intermediate). The
clients trust the root only: pip (`--cert`), twine (`--cert`), npm (`cafile` in .npmrc).
Also: plain HTTP gets no page, npm's tarball URLs are https://, a bad certificate or key
stops start-up naming the file, and SIGHUP swaps the certificate for new connections while
an open one keeps working.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

import npmdists as nd
from pipyharness import PIPY_BIN, PipyServer, Response, free_port, raw_exchange
from pydists import make_venv, make_wheel, pip_env

PY = "/usr/bin/python3"
# Trust settings a CI machine may export; requests lets CURL_CA_BUNDLE and
# REQUESTS_CA_BUNDLE win over a session's own `verify` (pip's and twine's --cert).
CA_VARIABLES = ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def without_ca_variables(env: dict) -> dict:
    return {k: v for k, v in env.items() if k not in CA_VARIABLES}


# --- a test CA --------------------------------------------------------------------------
def openssl(*args: str, cwd: Path) -> None:
    res = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, f"openssl {' '.join(args)}:\n{res.stderr}"


@dataclass
class TestCa:
    __test__ = False  # not a pytest class

    root: Path        # the CA certificate clients trust
    folder: Path

    def issue(self, name: str, serial: int) -> tuple[Path, Path]:
        """(chain file, key file) of a server certificate for 127.0.0.1 and localhost,
        signed by the intermediate; the chain file holds the server's, then the
        intermediate's certificate."""
        d = self.folder
        ext = d / f"{name}.ext"
        ext.write_text("basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\n"
                       "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", "/CN=localhost", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "inter.pem", "-CAkey",
                "inter.key", "-set_serial", str(serial), "-days", "2", "-sha256",
                "-extfile", ext.name, "-out", f"{name}.leaf.pem", cwd=d)
        chain = d / f"{name}.pem"
        chain.write_bytes((d / f"{name}.leaf.pem").read_bytes() + (d / "inter.pem").read_bytes())
        return chain, d / f"{name}.key"


def make_ca(folder: Path) -> TestCa:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\n"
                                   "keyUsage=critical,keyCertSign,cRLSign\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Pipy Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/CN=Pipy Test Intermediate",
            cwd=folder)
    openssl("x509", "-req", "-in", "inter.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-set_serial", "7", "-days", "2", "-sha256", "-extfile", "ca.ext",
            "-out", "inter.pem", cwd=folder)
    return TestCa(root=folder / "ca.pem", folder=folder)


def client_context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def peer_serial(port: int, ca: Path) -> int:
    """The serial of the certificate a new connection sees (verified against `ca`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with client_context(ca).wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return int(s.getpeercert()["serialNumber"], 16)


@dataclass
class TlsPipyServer(PipyServer):
    """A PipyServer reached over HTTPS, trusting `ca`."""
    ca: Path | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 30) -> Response:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=client_context(self.ca))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.reason, r.headers, r.read())
        finally:
            conn.close()


def tls_config(cert: Path, key: Path, extra: str = "") -> str:
    return f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n{extra}'


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> TestCa:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def tls_servers(tmp_path_factory, ca):
    started: list[TlsPipyServer] = []

    def make(config_text: str) -> TlsPipyServer:
        s = TlsPipyServer(root=tmp_path_factory.mktemp("pipy"), config_text=config_text,
                          ca=ca.root)
        started.append(s)
        s.start()
        return s

    yield make
    for s in started:
        rc = s.stop(timeout=10)
        assert rc == 0, f"pipy serve exited {rc} on SIGTERM:\n{s.log()}"
        s.cleanup()


@pytest.fixture(scope="module")
def served(tmp_path_factory, ca):
    """One HTTPS server for the client tests (they use distinct projects)."""
    cert, key = ca.issue("shared", 1001)
    s = TlsPipyServer(root=tmp_path_factory.mktemp("pipy"), config_text=tls_config(cert, key),
                      ca=ca.root)
    s.start()
    yield s
    assert s.stop(timeout=10) == 0, s.log()
    s.cleanup()


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- the contract ----------------------------------------------------------------------
def test_https_only(served, ca):
    r = served.get("/healthz")
    assert r.status == 200 and r.text == "ok\n"
    assert peer_serial(served.port, ca.root) == 1001  # verified through the chain file
    # Plain HTTP on the port gets no page, only a closed connection.
    status, got = raw_exchange(served.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status is None and b"ok" not in got, got[:200]
    # TLS 1.1 is refused.
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(ca.root))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point here
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLError):
            old.wrap_socket(raw, server_hostname="127.0.0.1")
    assert "pipy_tls_handshake_failures_total" in served.get("/metrics").text


def test_pip_and_twine_with_the_test_ca(served, ca, tmp_path):
    name = uniq("tls-pkg")
    wheel = make_wheel(tmp_path / "dist", name, "1.0.0")
    token = served.token("upload:*")
    twine = ["twine", "upload", "--non-interactive", "--disable-progress-bar",
             "--repository-url", f"{served.url}/legacy/", "-u", "__token__", "-p", token]
    env = without_ca_variables({k: v for k, v in os.environ.items()
                                if not k.startswith("TWINE_")})
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="400")
    # Without the CA, twine refuses the server: the certificate is really checked.
    res = subprocess.run([*twine, str(wheel.path)], capture_output=True, text=True,
                         timeout=120, env=env)
    assert res.returncode != 0, res.stdout + res.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in res.stdout + res.stderr or \
           "certificate verify failed" in (res.stdout + res.stderr).lower()
    res = subprocess.run([*twine, "--cert", str(ca.root), str(wheel.path)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stdout + res.stderr

    venv = make_venv(tmp_path / "venv")
    res = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-cache-dir",
                          "--index-url", f"{served.url}/simple/", "--cert", str(ca.root),
                          name], capture_output=True, text=True, timeout=240,
                         env=without_ca_variables(pip_env()))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"Successfully installed {wheel.name}".lower().replace("_", "-") in \
           res.stdout.lower().replace("_", "-"), res.stdout
    # REQUESTS_CA_BUNDLE (honoured by pip's and twine's requests) works as well.
    env_pip = without_ca_variables(pip_env())
    env_pip["REQUESTS_CA_BUNDLE"] = str(ca.root)
    res = subprocess.run([str(venv / "bin" / "pip"), "download", "--no-cache-dir", "--no-deps",
                          "-d", str(tmp_path / "dl"), "--index-url", f"{served.url}/simple/",
                          name], capture_output=True, text=True, timeout=240, env=env_pip)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "dl" / wheel.filename).read_bytes() == wheel.data


def write_package(folder: Path, name: str, version: str, dependencies=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = nd.package_json(name, version, dependencies=dependencies)
    (folder / "package.json").write_text(json.dumps(doc, indent=2) + "\n")
    (folder / "index.js").write_text(f"module.exports = {json.dumps(name + '@' + version)};\n")
    return folder


def test_npm_publish_and_install_with_cafile(served, ca, tmp_path):
    registry = f"{served.url}/npm/"
    token = served.token("upload:*")
    home = tmp_path / "home"
    nd.write_npmrc(home, registry, token, audit=False, extra={"cafile": str(ca.root)})
    name = f"@acme/{uniq('tls-npm')}"
    src = write_package(tmp_path / "src", name, "1.0.0")
    nd.run_client("npm", ["publish"], home, cwd=src, check=True)

    doc = served.get(f"/npm/{nd.escaped_name(name)}",
                     headers={"Accept": "application/json"}).json()
    tarball = doc["versions"]["1.0.0"]["dist"]["tarball"]
    assert tarball.startswith(f"https://127.0.0.1:{served.port}/npm/"), tarball

    proj = write_package(tmp_path / "proj", "tls-consumer", "0.0.1",
                         dependencies={name: "^1.0.0"})
    nd.run_client("npm", ["install"], home, cwd=proj, check=True)
    installed = json.loads((proj / "node_modules" / name / "package.json").read_text())
    assert installed["version"] == "1.0.0"
    lock = json.loads((proj / "package-lock.json").read_text())
    assert lock["packages"][f"node_modules/{name}"]["resolved"].startswith("https://")

    # Without the CA npm refuses the server.
    bare = tmp_path / "bare"
    nd.write_npmrc(bare, registry, token, audit=False)
    res = nd.run_client("npm", ["view", name, "version"], bare, cwd=bare, timeout=120)
    assert res.returncode != 0, res.stdout


def test_public_url_wins_for_absolute_urls(tls_servers, ca, tmp_path):
    cert, key = ca.issue("public", 1002)
    s = tls_servers(tls_config(cert, key, 'public_url = "https://pipy.example.test/"\n'))
    name = uniq("tls-public")
    home = tmp_path / "home"
    nd.write_npmrc(home, f"{s.url}/npm/", s.token("upload:*"), audit=False,
                   extra={"cafile": str(ca.root)})
    nd.run_client("npm", ["publish"], home, cwd=write_package(tmp_path / "src", name, "1.0.0"),
                  check=True)
    doc = s.get(f"/npm/{name}", headers={"Accept": "application/json"}).json()
    assert doc["versions"]["1.0.0"]["dist"]["tarball"].startswith(
        "https://pipy.example.test/npm/"), doc["versions"]["1.0.0"]["dist"]


def serve_once(tmp_path: Path, config_text: str) -> subprocess.CompletedProcess:
    cfg = tmp_path / f"pipy-{uuid.uuid4().hex[:6]}.toml"
    cfg.write_text(config_text)
    return subprocess.run([str(PIPY_BIN), "serve", "--data", str(tmp_path / "data"),
                           "--listen", f"127.0.0.1:{free_port()}", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=30)


def test_bad_certificate_or_key_stops_startup_naming_the_file(ca, tmp_path):
    cert, key = ca.issue("startup", 1003)
    _, other_key = ca.issue("other", 1004)
    missing = tmp_path / "missing.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    for c, k, named in [(missing, key, missing), (cert, missing, missing),
                        (garbage, key, garbage), (cert, garbage, garbage),
                        (cert, other_key, other_key)]:
        res = serve_once(tmp_path, tls_config(c, k))
        assert res.returncode != 0, (c, k, res.stderr)
        assert str(named) in res.stderr, res.stderr
        assert "bm90IGEga2V5" not in res.stderr and "BEGIN" not in res.stderr, res.stderr
    res = serve_once(tmp_path, f'[server]\ntls_cert = "{cert}"\n')
    assert res.returncode != 0 and "tls_key" in res.stderr, res.stderr


def test_sighup_reloads_for_new_connections_only(tls_servers, ca, tmp_path):
    first_cert, first_key = ca.issue("reload-1", 2001)
    live_cert, live_key = tmp_path / "live.pem", tmp_path / "live.key"
    live_cert.write_bytes(first_cert.read_bytes())
    live_key.write_bytes(first_key.read_bytes())
    s = tls_servers(tls_config(live_cert, live_key))
    assert peer_serial(s.port, ca.root) == 2001

    open_conn = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=10,
                                            context=client_context(ca.root))
    try:
        open_conn.request("GET", "/healthz")
        assert open_conn.getresponse().read() == b"ok\n"

        def reload_and_wait(marker: str) -> None:
            before = s.log().count(marker)
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while s.log().count(marker) == before:
                assert time.monotonic() < deadline, s.log()
                time.sleep(0.05)

        second_cert, second_key = ca.issue("reload-2", 2002)
        live_cert.write_bytes(second_cert.read_bytes())
        live_key.write_bytes(second_key.read_bytes())
        reload_and_wait("reloaded TLS certificate")
        assert peer_serial(s.port, ca.root) == 2002
        # The connection opened before the reload goes on (keep-alive, same socket).
        open_conn.request("GET", "/healthz")
        assert open_conn.getresponse().read() == b"ok\n"
        assert int(open_conn.sock.getpeercert()["serialNumber"], 16) == 2001

        # A bad key on reload: logged naming the file, the current pair stays.
        live_key.write_text("garbage\n")
        reload_and_wait("TLS reload failed")
        assert str(live_key) in s.log()
        assert s.proc.poll() is None
        assert peer_serial(s.port, ca.root) == 2002
        assert s.get("/healthz").status == 200
    finally:
        open_conn.close()
