"""Image uploads against the event loop: does the shop keep answering while it decodes?

Starts `python -m shop serve` over a fresh SQLite file with an admin, then times
`GET /api/products/:pid` one request after another: first idle, then while several clients
upload a 12-megapixel JPEG (just under 5 MB) back to back. The baseline, measured in the
same run, is how long the shop's own rendering takes for that file: were the decoding on
the event loop, a read arriving during an upload would wait for a whole rendering.

    .venv/bin/python bench/image_uploads.py [--duration 10] [--uploaders 4]

Target: p99 of the reads during uploads under half a rendering. Exits 1 when it is
missed or an answer was not 2xx; 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, CookieJar, FormData
from PIL import Image, ImageFilter
from servers import HOST, PYTHON, ROOT, BenchError, free_port, serving

from shop.service.imaging import MAX_BYTES, render

EMAIL = "bench-admin@example.com"
PASSWORD = "bench password 0123456789"  # noqa: S105 (a throwaway bench account)
SIZE = (4000, 3000)
TARGET = 0.5  # reads' p99 during uploads, as a share of one rendering


def photo() -> bytes:
    """A 12-megapixel JPEG with a photo's grain, as large as fits under the limit."""
    size = SIZE
    smooth = Image.effect_noise(size, 60).filter(ImageFilter.GaussianBlur(3))
    grain = Image.effect_noise(size, 25)
    picture = Image.merge("RGB", [smooth, grain, Image.blend(smooth, grain, 0.5)])
    for quality in (90, 85, 80, 75, 70, 60, 50):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        if out.tell() <= MAX_BYTES:
            return out.getvalue()
    raise BenchError("could not make a JPEG under the upload limit")


def rendering_seconds(data: bytes) -> float:
    """The best of three renderings of `data` in this process: the baseline."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        render(data)
        times.append(time.perf_counter() - started)
    return min(times)


async def reads(http: ClientSession, path: str, until: float) -> tuple[list[float], int]:
    """Latencies (seconds) of GETs sent one after another until `until`; failures."""
    latencies: list[float] = []
    failed = 0
    while time.perf_counter() < until:
        started = time.perf_counter()
        async with http.get(path) as response:
            await response.read()
            failed += response.status != 200
        latencies.append(time.perf_counter() - started)
    return latencies, failed


async def uploads(
    http: ClientSession, pid: str, data: bytes, origin: str, until: float
) -> tuple[list[float], int]:
    """Upload-and-remove, back to back, until `until`; each upload's seconds, failures."""
    times: list[float] = []
    failed = 0
    while time.perf_counter() < until:
        form = FormData()
        form.add_field("image", io.BytesIO(data), filename="photo.jpg")
        started = time.perf_counter()
        async with http.post(
            f"/api/products/{pid}/images", data=form, headers={"Origin": origin}
        ) as response:
            await response.read()
            ok = response.status == 201
            url = response.headers.get("Location")
        times.append(time.perf_counter() - started)
        failed += not ok
        if ok and url:  # keep the product under its 20 images
            async with http.get(f"/api/products/{pid}") as answer:
                position = (await answer.json())["payload"]["thumbnails"].index(url)
            async with http.delete(
                f"/api/products/{pid}/images/{position}", headers={"Origin": origin}
            ) as answer:
                failed += answer.status not in (200, 404)
    return times, failed


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


async def measure(port: int, data: bytes, args: argparse.Namespace) -> dict[str, float]:
    base = f"http://{HOST}:{port}"
    async with ClientSession(base_url=base, cookie_jar=CookieJar(unsafe=True)) as http:
        login = {"email": EMAIL, "password": PASSWORD}
        async with http.post("/api/sessions/login", json=login) as response:
            if response.status != 200:
                raise BenchError(f"login failed: {response.status}")
        body = {"title": "Bench", "code": "IMG-1", "price": 1, "stock": 1, "category": "Bench"}
        async with http.post("/api/products", json=body) as response:
            pid = (await response.json())["payload"]["_id"]
        path = f"/api/products/{pid}"
        idle, idle_failed = await reads(http, path, time.perf_counter() + args.duration / 2)
        until = time.perf_counter() + args.duration
        busy_task = reads(http, path, until)
        upload_tasks = [uploads(http, pid, data, base, until) for _ in range(args.uploaders)]
        (busy, busy_failed), *done = await asyncio.gather(busy_task, *upload_tasks)
    upload_times = [seconds for times, _ in done for seconds in times]
    return {
        "idle_p50": quantile(idle, 0.5),
        "idle_p99": quantile(idle, 0.99),
        "busy_p50": quantile(busy, 0.5),
        "busy_p99": quantile(busy, 0.99),
        "busy_max": max(busy),
        "uploads": len(upload_times),
        "upload_p50": statistics.median(upload_times) if upload_times else 0.0,
        "failed": idle_failed + busy_failed + sum(failed for _, failed in done),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds under uploads")
    parser.add_argument("--uploaders", type=int, default=4, help="clients uploading at once")
    args = parser.parse_args()
    try:
        data = photo()
        baseline = rendering_seconds(data)
        with tempfile.TemporaryDirectory(prefix="shop-bench-images-") as tmp:
            env = {
                **os.environ,
                "SHOP_DATA_DIR": tmp,
                "SHOP_DATABASE_URL": f"sqlite:///{Path(tmp) / 'shop.db'}",
            }
            subprocess.run(
                [PYTHON, "-m", "shop", "create-admin", "--email", EMAIL, "--password-stdin"],
                input=PASSWORD.encode(),
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            port = free_port()
            argv = [PYTHON, "-m", "shop", "serve", "--port", str(port)]
            with serving(argv, port, "/healthz", Path(tmp) / "server.log", env):
                figures = asyncio.run(measure(port, data, args))
    except (BenchError, subprocess.CalledProcessError) as exc:
        print(f"image_uploads: {exc}", file=sys.stderr)
        return 2
    ms = {name: value * 1000 for name, value in figures.items() if name != "uploads"}
    print(
        f"{os.cpu_count()} CPUs; {SIZE[0]}x{SIZE[1]} JPEG of {len(data) / 2**20:.2f} MiB;"
        f" one rendering {baseline * 1000:.0f} ms; {args.uploaders} uploaders"
    )
    print("| reads of one product | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|")
    print(f"| idle | {ms['idle_p50']:.1f} | {ms['idle_p99']:.1f} | |")
    busy = f"{ms['busy_p50']:.1f} | {ms['busy_p99']:.1f} | {ms['busy_max']:.1f}"
    print(f"| during uploads | {busy} |")
    rate = figures["uploads"] / args.duration
    print(f"uploads: {figures['uploads']:.0f} ({rate:.1f}/s), median {ms['upload_p50']:.0f} ms")
    ok = figures["failed"] == 0 and figures["busy_p99"] < TARGET * baseline
    verdict = "met" if ok else "MISSED"
    print(
        f"target {verdict}: p99 during uploads {ms['busy_p99']:.1f} ms < {TARGET:g} x one"
        f" rendering ({TARGET * baseline * 1000:.0f} ms); failed answers {figures['failed']:.0f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
