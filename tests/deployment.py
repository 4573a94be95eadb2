"""The shop as deployed: `python -m shop serve` processes, Debian's nginx run with
deploy/nginx.conf, and several processes on one MongoDB and one Redis (a cluster)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import (
    ROOT,
    MongoThread,
    RedisServer,
    free_port,
    require,
    shop_env,
    wait_until,
)

NGINX_CONF = ROOT / "deploy" / "nginx.conf"


# ---- shop processes ----------------------------------------------------------------------


def http_status(port: int, path: str, timeout: float = 2.0) -> int:
    """The status of GET path on a local port, 0 when it does not answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return 0
    finally:
        connection.close()


@dataclass
class ShopProcess:
    """`python -m shop serve` on a free port, its stderr in a log file."""

    env: Mapping[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shop", "serve", "--port", str(self.port)],
                env=dict(self.env),
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )

    def wait_ready(self) -> None:
        """Until /readyz is 200: the store takes writes and the bus is subscribed."""

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the shop exited early:\n{self.log.read_text()}")
            return http_status(self.port, "/readyz") == 200

        wait_until(ready, f"the shop on port {self.port}")

    def stop(self) -> float:
        """SIGTERM, then SIGKILL after 15 s; how long it took to exit."""
        started = time.monotonic()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.monotonic() - started


def create_admin(env: Mapping[str, str], email: str, password: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "shop", "create-admin", "--email", email, "--password-stdin"],
        input=password + "\n",
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---- nginx ----------------------------------------------------------------------------------


def render_nginx_site(upstreams: list[int], listen: int) -> str:
    """deploy/nginx.conf with the test's ports: the same file the README documents."""
    lines: list[str] = []
    listed = False
    for line in NGINX_CONF.read_text().splitlines():
        server = re.fullmatch(r"(\s*)server 127\.0\.0\.1:\d+(.*;)", line)
        if server is None:
            lines.append(line)
        elif not listed:  # the processes' lines become the test's processes' lines
            lines += [f"{server[1]}server 127.0.0.1:{port}{server[2]}" for port in upstreams]
            listed = True
    assert listed, "deploy/nginx.conf lists no upstream `server 127.0.0.1:PORT;`"
    text, listens = re.subn(r"\blisten 80;", f"listen 127.0.0.1:{listen};", "\n".join(lines))
    assert listens == 1, "deploy/nginx.conf must have one `listen 80;`"
    return text + "\n"


@dataclass
class Nginx:
    """Debian's nginx, not as a daemon, with everything it writes under `directory`."""

    directory: Path
    upstreams: list[int]
    port: int = 0  # chosen at start, so nothing started meanwhile can take it
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        program = require("nginx")
        self.port = free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        site = self.directory / "shop.conf"
        site.write_text(render_nginx_site(self.upstreams, self.port))
        temp = {
            name: self.directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")
        }
        for path in temp.values():
            path.mkdir(exist_ok=True)
        # The main file a distribution ships (/etc/nginx/nginx.conf) includes sites like
        # ours inside `http`; this one does the same with test paths.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.directory / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.directory / 'nginx.pid'};\n"
            f"error_log {self.directory / 'error.log'} info;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"  access_log {self.directory / 'access.log'};\n"
            f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
            f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
            f"  scgi_temp_path {temp['scgi']};\n"
            f"  include {site};\n"
            "}\n"
        )
        with (self.directory / "stderr.log").open("ab") as out:
            self.process = subprocess.Popen(
                [program, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf")],
                stdout=out,
                stderr=out,
            )

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                log = (self.directory / "stderr.log").read_text()
                raise RuntimeError(f"nginx exited: {log}")
            return http_status(self.port, "/healthz") == 200

        wait_until(ready, "nginx")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---- several shop processes as one shop ----------------------------------------------------


class Cluster:
    """`processes` shops on one MongoDB (mongoeco, in a thread here) and one Redis, with an
    admin made by `shop create-admin`. start() returns once every /readyz is 200."""

    ADMIN = "admin@cluster.test"
    SECRET = "cluster-test-secret-key-0123456789-abcdef"

    def __init__(self, directory: Path, password: str, processes: int = 3) -> None:
        self.directory = directory
        self.password = password
        self.redis = RedisServer(directory / "redis")
        self.mongo = MongoThread()
        self.shops: list[ShopProcess] = []
        self._processes = processes

    def start(self) -> Cluster:
        self.redis.start()
        self.mongo.__enter__()
        env = shop_env(
            self.directory / "data",
            SHOP_DATABASE_URL=self.mongo.url(),
            SHOP_REDIS_URL=self.redis.url,
            SHOP_SECRET_KEY=self.SECRET,
            SHOP_TRUST_FORWARDED="1",
        )
        create_admin(env, self.ADMIN, self.password)
        names = "ABCDEFGHIJ"[: self._processes]
        self.shops = [ShopProcess(env, self.directory / f"shop-{name}.log") for name in names]
        for shop in self.shops:
            shop.start()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        for shop in self.shops:
            shop.wait_ready()

    def stop(self) -> None:
        for shop in self.shops:
            shop.stop()
        self.redis.kill()
        if self.mongo.port:  # started
            self.mongo.__exit__()
