"""A real Redis Cluster for the tests: three masters with one replica each, from the local binaries.

``MEET_TEST_REDIS_CLUSTER_URL`` (any node of a running cluster) wins. Otherwise six ``redis-server``
processes in cluster mode on free 127.0.0.1 ports, joined by ``redis-cli --cluster create``. There is
no testcontainers path: no stock image runs a six-node cluster. Without the binaries the run fails
and says what to install; it never skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.cluster import RedisCluster as SyncRedisCluster

from tests.support.services import ServiceNotFound, _binary, _stop, free_ports, wait_for_port

MASTERS = 3
CREATE_OPTIONS = ("--cluster-replicas", "1", "--cluster-yes")
READY_TIMEOUT = 60.0


@dataclass
class RedisClusterServer:
    """A Redis Cluster; ``url`` names one node (the seed). Local nodes can be killed to force a failover."""

    url: str
    ports: list[int] = field(default_factory=list)
    _binary: str | None = field(default=None, repr=False)
    _workdir: Path | None = field(default=None, repr=False)
    _node_timeout_ms: int = 5000
    _processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    # The cluster bus would default to port + 10000, which may be taken (or beyond 65535): each node's is
    # picked with the client ports (a bus port picked later could be a node's not yet listening).
    _bus_ports: dict[int, int] = field(default_factory=dict, repr=False)

    def client(self) -> SyncRedisCluster:
        return SyncRedisCluster.from_url(self.url)

    def start_node(self, port: int) -> None:
        if self._binary is None or self._workdir is None:
            raise ServiceNotFound("killing and restarting cluster nodes needs the local redis-server binary")
        directory = self._workdir / str(port)
        directory.mkdir(exist_ok=True)
        self._processes[port] = subprocess.Popen(
            [
                self._binary, "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "no",
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-port", str(self._bus_ports[port]),
                "--cluster-node-timeout", str(self._node_timeout_ms),
                "--save", "", "--appendonly", "no", "--dir", str(directory),
                "--repl-diskless-sync", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(port, process=self._processes[port])

    def kill_node(self, port: int) -> None:
        """SIGKILL, as in a crash: no goodbye to the clients or the other nodes."""
        process = self._processes.pop(port, None)
        if process is None:
            raise ServiceNotFound(f"node {port} was not started by this test run")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def master_of(self, key: str) -> int:
        """The port of the master that holds ``key``'s slot, as the cluster itself says."""
        with contextlib.closing(self.client()) as client:
            node = client.get_node_from_key(key)  # type: ignore[no-untyped-call]
            return int(node.port)

    def stop(self) -> None:
        for process in self._processes.values():
            _stop(process)
        self._processes.clear()


def _cluster_info(port: int) -> dict[str, str]:
    with contextlib.closing(redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)) as node:
        info = node.cluster("INFO")
    return {str(key): str(value) for key, value in dict(info).items()}


def _replication(ports: list[int]) -> list[str]:
    """Each node's role, and for a replica whether its link to its master is up (``slave:up``)."""
    found = []
    for port in ports:
        with contextlib.closing(redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)) as node:
            replication = node.info("replication")
        link = f":{replication.get('master_link_status')}" if replication.get("role") == "slave" else ""
        found.append(f"{replication.get('role')}{link}")
    return found


def _topology(port: int) -> dict[str, str]:
    """What one node knows of the cluster: each node's id, what it is (``master``, or the id of the master
    it replicates) and any doubt about it (a handshake, no address, a suspected failure)."""
    with contextlib.closing(redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)) as node:
        nodes = dict(node.cluster("NODES"))
    known = {}
    for about in nodes.values():
        flags = set(str(about["flags"]).split(","))
        doubts = ",".join(sorted({"handshake", "noaddr", "fail?", "fail"} & flags))
        known[str(about["node_id"])] = f"{'master' if 'master' in flags else about['master_id']} {doubts}".strip()
    return known


def wait_until_healthy(ports: list[int], *, timeout: float = READY_TIMEOUT) -> None:
    """Bounded polling until every node says ``cluster_state:ok`` and every replica is in sync."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            states = [_cluster_info(port).get("cluster_state") for port in ports]
            replication = _replication(ports)
            # Every node must also agree on the whole topology (as ``redis-cli --cluster check`` does): a
            # master that does not yet know a replica as its peer's would not vote for its failover.
            views = [_topology(port) for port in ports]
            agreed = all(view == views[0] for view in views) and len(views[0]) == len(ports)
            agreed = agreed and list(views[0].values()).count("master") == MASTERS
            synced = replication.count("slave:up") == len(ports) - MASTERS
            if all(state == "ok" for state in states) and synced and agreed:
                return
            last = f"cluster states {states}, replication {replication}"
        except (OSError, redis.RedisError) as error:  # while the nodes settle
            last = repr(error)
        time.sleep(0.2)
    raise ServiceNotFound(f"the Redis Cluster did not become healthy within {timeout:.0f} s ({last})")


@contextlib.contextmanager
def start_redis_cluster(*, node_timeout_ms: int = 5000) -> Iterator[RedisClusterServer]:
    if url := os.environ.get("MEET_TEST_REDIS_CLUSTER_URL"):
        yield RedisClusterServer(url=url)
        return
    with start_local_redis_cluster(node_timeout_ms=node_timeout_ms) as cluster:
        yield cluster


@contextlib.contextmanager
def start_local_redis_cluster(*, node_timeout_ms: int = 5000) -> Iterator[RedisClusterServer]:
    """Six local nodes (three masters, one replica each) that the test may kill and restart."""
    install = "apt-get install redis-server (it ships redis-server and redis-cli)"
    server_binary = _binary("redis-server", install=install)
    cli = _binary("redis-cli", install=install)
    workdir = Path(tempfile.mkdtemp(prefix="meet-redis-cluster-"))
    picked = free_ports(MASTERS * 2 * 2)
    ports, bus_ports = picked[: MASTERS * 2], picked[MASTERS * 2 :]
    cluster = RedisClusterServer(
        url=f"redis://127.0.0.1:{ports[0]}",
        ports=ports,
        _bus_ports=dict(zip(ports, bus_ports, strict=True)),
        _binary=server_binary,
        _workdir=workdir,
        _node_timeout_ms=node_timeout_ms,
    )
    try:
        for port in ports:
            cluster.start_node(port)
        created = subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports), *CREATE_OPTIONS],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            output = f"{created.stdout[-2000:]} {created.stderr[-2000:]}"
            raise ServiceNotFound(f"redis-cli --cluster create failed: {output}")
        wait_until_healthy(ports)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
