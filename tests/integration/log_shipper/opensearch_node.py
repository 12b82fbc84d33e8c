"""A real OpenSearch node on 127.0.0.1 for the tests: fetched from Maven Central, cached.

The artifact is OpenSearch's own test distribution, a zip without a bundled JDK and without
the security plugin (so HTTP, no auth):
    org.opensearch.distribution.integ-test-zip:opensearch:2.19.6:zip
2.19.x is the last line that runs on Java 17. `mvn dependency:copy` puts it in
.cache/opensearch/ (gitignored) once; it is unpacked there once; every session then starts
a node from it in a fresh temporary directory (config, data, logs), on free ports, with a
512 MB heap, and stops it at the end.

OpenSearch refuses to run as root, so under root (CI here) the node runs as `nobody` via
setpriv, and its temporary directory belongs to that user.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

VERSION = "2.19.6"
ARTIFACT = f"org.opensearch.distribution.integ-test-zip:opensearch:{VERSION}:zip"
ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache" / "opensearch"
HEAP = "512m"
START_TIMEOUT_S = 180

JVM_OPTIONS = """\
-Xms{heap}
-Xmx{heap}
-XX:+UseG1GC
-Djava.io.tmpdir=${{OPENSEARCH_TMPDIR}}
-XX:-HeapDumpOnOutOfMemoryError
-XX:ErrorFile={logs}/hs_err_pid%p.log
-Xlog:disable
-Xlog:all=warning:stderr
18-:-Djava.security.manager=allow
-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory
"""


class NodeError(RuntimeError):
    pass


def java_home() -> str:
    for name in ("OPENSEARCH_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(name):
            return os.environ[name]
    java = shutil.which("java")
    if not java:
        raise NodeError(
            "no java on PATH: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
        )
    return str(Path(java).resolve().parent.parent)


def fetch(cache: Path = CACHE) -> Path:
    """The distribution zip, downloaded with Maven the first time."""
    archive = cache / f"opensearch-{VERSION}.zip"
    if archive.exists():
        return archive
    mvn = shutil.which("mvn")
    apt = shutil.which("apt-get")
    if mvn is None and os.geteuid() == 0 and apt:  # a fresh Debian machine: Maven is a package
        subprocess.run([apt, "install", "-y", "-qq", "maven"], check=False, capture_output=True)  # noqa: S603
        mvn = shutil.which("mvn")
    if mvn is None:
        raise NodeError("mvn is not on PATH (apt-get install maven) to fetch " + ARTIFACT)
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603
        [
            mvn,
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact={ARTIFACT}",
            f"-DoutputDirectory={cache}",
            "-Dmdep.overWriteIfNewer=true",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0 or not archive.exists():
        tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise NodeError(f"mvn could not fetch {ARTIFACT}:\n" + "\n".join(tail))
    return archive


def unpack(archive: Path, cache: Path = CACHE) -> Path:
    home = cache / f"opensearch-{VERSION}"
    marker = home / ".unpacked"
    if marker.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f".unpacking-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(partial)
    (partial / f"opensearch-{VERSION}").rename(home)
    shutil.rmtree(partial, ignore_errors=True)
    for path in home.rglob("*"):  # zipfile drops modes: scripts must run, files be readable
        mode = 0o755 if path.is_dir() or path.parent.name == "bin" else 0o644
        path.chmod(mode)
    home.chmod(0o755)
    marker.touch()
    return home


def others_can_reach(path: Path) -> bool:
    """Whether every folder above `path` lets other users through (o+x)."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.resolve().parents)


def runnable_home(cache: Path = CACHE) -> Path:
    """The unpacked distribution, where the user that runs the node can read it: under root,
    a clone below a private folder (/root/...) is unpacked again into the temp folder."""
    archive = fetch(cache)
    home = unpack(archive, cache)
    if os.geteuid() != 0 or others_can_reach(home):
        return home
    return unpack(archive, Path(tempfile.gettempdir()) / "opsbundle-opensearch")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    url: str
    process: subprocess.Popen[bytes]
    workdir: Path
    started_in_s: float

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "console.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start(cache: Path = CACHE) -> Node:
    started = time.monotonic()
    home = runnable_home(cache)
    workdir = Path(tempfile.mkdtemp(prefix="opensearch-node-"))
    config, data, logs = workdir / "config", workdir / "data", workdir / "logs"
    shutil.copytree(home / "config", config)
    data.mkdir()
    logs.mkdir()
    (config / "jvm.options").write_text(JVM_OPTIONS.format(heap=HEAP, logs=logs))
    prefix: list[str] = []
    if os.geteuid() == 0:  # OpenSearch will not run as root
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, 65534, 65534)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    http_port, transport_port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENSEARCH_JAVA_HOME": java_home(),
        "OPENSEARCH_PATH_CONF": str(config),
        "HOME": str(workdir),
    }
    command = [
        *prefix,
        str(home / "bin" / "opensearch"),
        "-Ediscovery.type=single-node",
        "-Enetwork.host=127.0.0.1",
        f"-Ehttp.port={http_port}",
        f"-Etransport.port={transport_port}",
        f"-Epath.data={data}",
        f"-Epath.logs={logs}",
        "-Ecluster.name=opsbundle-test",
        "-Ecluster.routing.allocation.disk.threshold_enabled=false",
        "-Eaction.destructive_requires_name=false",
    ]
    console = (workdir / "console.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        command,
        cwd=workdir,
        env=env,
        stdout=console,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{http_port}"
    node = Node(url=url, process=process, workdir=workdir, started_in_s=0.0)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            tail = node.log_tail()
            node.stop()
            raise NodeError(f"OpenSearch exited with {process.returncode}:\n{tail}")
        try:
            health = f"{url}/_cluster/health?wait_for_status=yellow&timeout=1s"
            with urllib.request.urlopen(health, timeout=5) as answer:  # noqa: S310 - 127.0.0.1
                if json.load(answer).get("status") in ("green", "yellow"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            tail = node.log_tail()
            node.stop()
            raise NodeError(f"OpenSearch was not up after {START_TIMEOUT_S} s:\n{tail}")
        time.sleep(0.5)
    node.started_in_s = time.monotonic() - started
    return node
