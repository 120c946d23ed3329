"""A real Patroni + etcd + PostgreSQL cluster on loopback, made and removed by a test.

Three PostgreSQL nodes, each managed by its own Patroni, one etcd; synchronous mode
strict with one synchronous standby, so an acknowledged commit is on two machines and
the cluster still takes writes after it loses one (with two nodes, strict mode blocks
every write until the lost node is back). Every process is started directly (as the
``postgres`` user when run as root), so a test can SIGKILL exactly the node it means.
Used by ``tests/register/test_failover.py`` and ``bench/register_failover.py``.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOOLS = ("patroni", "etcd")
DATABASE = "valgkiosk"


def missing_tools() -> list[str]:
    """What the cluster needs and this machine lacks (Debian: patroni, etcd-server, postgresql)."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        missing.append("postgresql")
    return missing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str, timeout: float = 1.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
        return json.loads(r.read())


@dataclass
class Node:
    """One PostgreSQL server and the Patroni that manages it."""

    name: str
    pg_port: int
    api_port: int
    data_dir: Path
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """SIGKILL the node as a machine would die: Patroni and its PostgreSQL at once."""
        pid = self.postmaster_pid()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)


@dataclass
class Cluster:
    """The cluster's processes and the connection string API nodes use."""

    root: Path
    bin_dir: str
    etcd_port: int = 0
    etcd_proc: subprocess.Popen[bytes] | None = None
    nodes: list[Node] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        """libpq multi-host: whichever node takes writes (the primary) answers."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return (f"postgresql://postgres@{hosts}/{DATABASE}"
                "?target_session_attrs=read-write&connect_timeout=2")

    def node_dsn(self, node: Node, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{node.pg_port}/{db}?connect_timeout=2"

    def members(self) -> list[dict[str, Any]]:
        """Patroni's view of the cluster (from any node that answers)."""
        for n in self.nodes:
            if n.proc is None or n.proc.poll() is not None:
                continue
            with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
                return list(_get_json(f"http://127.0.0.1:{n.api_port}/cluster")["members"])
        return []

    def role_of(self, role: str) -> Node | None:
        for m in self.members():
            if m.get("role") == role and m.get("state") in ("running", "streaming"):
                return next(n for n in self.nodes if n.name == m["name"])
        return None

    def wait_until(self, ready: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{what} within {timeout:.0f} s; members: {self.members()}\n{self.logs_tail()}")

    def wait_healthy(self, *, replicas: int, timeout: float = 90.0) -> None:
        """Wait for a leader, a synchronous standby and ``replicas`` nodes streaming in all."""
        def ok() -> bool:
            members = self.members()
            leader = any(m.get("role") == "leader" and m.get("state") == "running" for m in members)
            sync = any(m.get("role") == "sync_standby" and m.get("state") in ("running", "streaming")
                       for m in members)
            standbys = sum(m.get("role") in ("replica", "sync_standby")
                           and m.get("state") in ("running", "streaming") for m in members)
            return leader and sync and standbys >= replicas
        self.wait_until(ok, timeout, "no leader with a synchronous standby")

    def logs_tail(self, lines: int = 15) -> str:
        out = []
        for path in [self.root / "etcd.log", *(n.log for n in self.nodes)]:
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self) -> None:
        for n in self.nodes:
            n.kill()
        if self.etcd_proc is not None and self.etcd_proc.poll() is None:
            self.etcd_proc.kill()
            self.etcd_proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres() -> dict[str, Any]:
    """Popen arguments that run a child as the postgres user when we are root."""
    if os.getuid() != 0:
        return {}
    import pwd

    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def start_cluster(*, nodes: int = 3, ttl: int = 10) -> Cluster:
    """Start etcd and ``nodes`` Patroni nodes; return once a synchronous standby streams."""
    bin_dir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    root = Path(tempfile.mkdtemp(prefix="vk-patroni-"))
    run_as = _as_postgres()
    if run_as:
        os.chown(root, run_as["user"], run_as["group"])
    cluster = Cluster(root=root, bin_dir=bin_dir, etcd_port=_free_port())
    try:
        peer = _free_port()
        etcd_log = open(root / "etcd.log", "wb")  # noqa: SIM115 - closed with the process
        cluster.etcd_proc = subprocess.Popen(
            ["etcd", "--name", "e1", "--data-dir", str(root / "etcd"),
             "--listen-client-urls", f"http://127.0.0.1:{cluster.etcd_port}",
             "--advertise-client-urls", f"http://127.0.0.1:{cluster.etcd_port}",
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"e1=http://127.0.0.1:{peer}"],
            stdout=etcd_log, stderr=subprocess.STDOUT, **run_as)
        etcd_log.close()
        for i in range(1, nodes + 1):
            node = Node(name=f"pg{i}", pg_port=_free_port(), api_port=_free_port(),
                        data_dir=root / f"pg{i}", config=root / f"pg{i}.yml", log=root / f"pg{i}.log")
            node.config.write_text(json.dumps(_patroni_config(cluster, node, ttl=ttl), indent=1))
            cluster.nodes.append(node)
        for n in cluster.nodes:
            if run_as:
                os.chown(n.config, run_as["user"], run_as["group"])
            _start_node(n, run_as)
            if n is cluster.nodes[0]:  # let the first one bootstrap; the others clone it
                cluster.wait_until(lambda: cluster.role_of("leader") is not None, 60, "no leader")
        cluster.wait_healthy(replicas=nodes - 1)
        return cluster
    except BaseException:
        cluster.stop()
        raise


def restart_node(cluster: Cluster, node: Node) -> None:
    """Start a killed node's Patroni again (it rejoins as a standby)."""
    _start_node(node, _as_postgres())


def _start_node(node: Node, run_as: dict[str, Any]) -> None:
    log = open(node.log, "ab")  # noqa: SIM115 - closed with the process
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "HOME": str(node.config.parent)}
    node.proc = subprocess.Popen(["patroni", str(node.config)], stdout=log, stderr=subprocess.STDOUT,
                                 env=env, cwd=node.config.parent, **run_as)
    log.close()


def _patroni_config(cluster: Cluster, node: Node, *, ttl: int) -> dict[str, Any]:
    """One node's Patroni configuration (JSON is YAML)."""
    return {
        "scope": "valgkiosk-test",
        "name": node.name,
        "log": {"level": "INFO"},
        "restapi": {"listen": f"127.0.0.1:{node.api_port}", "connect_address": f"127.0.0.1:{node.api_port}"},
        "etcd3": {"hosts": [f"127.0.0.1:{cluster.etcd_port}"]},
        "bootstrap": {
            "dcs": {
                # Failover after a lost primary takes up to ttl; loop_wait + 2 x retry_timeout <= ttl.
                "ttl": ttl, "loop_wait": 1, "retry_timeout": max(2, (ttl - 1) // 2),
                "maximum_lag_on_failover": 1048576,
                "synchronous_mode": True, "synchronous_mode_strict": True, "synchronous_node_count": 1,
                "postgresql": {
                    "use_pg_rewind": True, "use_slots": True,
                    "parameters": {"wal_level": "replica", "hot_standby": "on", "max_wal_senders": 10,
                                   "max_replication_slots": 10, "wal_log_hints": "on",
                                   "max_connections": 100, "shared_buffers": "64MB"},
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, {"auth": "trust"}],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{node.pg_port}",
            "connect_address": f"127.0.0.1:{node.pg_port}",
            "data_dir": str(node.data_dir),
            "bin_dir": cluster.bin_dir,
            "pgpass": str(cluster.root / f"{node.name}.pgpass"),
            "authentication": {
                "superuser": {"username": "postgres", "password": "test"},
                "replication": {"username": "replicator", "password": "test"},
                "rewind": {"username": "postgres", "password": "test"},
            },
            "parameters": {"unix_socket_directories": str(cluster.root)},
            "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust",
                       "host replication replicator 127.0.0.1/32 trust"],
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }
