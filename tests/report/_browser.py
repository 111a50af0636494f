"""Drive headless Chromium over the DevTools protocol with the standard library only.

A minimal WebSocket client (RFC 6455: masked client frames, fragmented server frames) talks to
the page target on the loopback debugging port. The page is opened only after the console,
log and network domains are enabled, so errors raised while the report loads are captured.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
    "--remote-debugging-port=0",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path is not None:
            return path
    return None


class WebSocket:
    """A blocking WebSocket client for text messages on a loopback connection."""

    def __init__(self, url: str, timeout: float) -> None:
        parsed = urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.reader = self.sock.makefile("rb")
        status = self.reader.readline()
        if b" 101 " not in status:
            raise ConnectionError(f"WebSocket handshake failed: {status!r}")
        while self.reader.readline() not in (b"\r\n", b""):
            pass

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([0x80 | length])
        elif length < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", length)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(length)
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("the browser closed the DevTools connection")
            message += payload
            if first & 0x80:
                return message.decode()

    def _read(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) != size:
            raise ConnectionError("the DevTools connection ended mid-frame")
        return data

    def close(self) -> None:
        self.sock.close()


@dataclass
class PageSession:
    """One page target: send commands, and keep every event that arrives meanwhile."""

    socket: WebSocket
    events: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} event within {timeout} s")
            self.events.append(json.loads(self.socket.receive()))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")


@dataclass
class PageReport:
    """What the browser saw: console errors, requested URLs and each figure's data size."""

    errors: list[str]
    requests: list[str]
    figures: list[dict[str, Any]]
    text: str


FIGURES_SCRIPT = """
JSON.stringify(Array.from(document.querySelectorAll('.plotly-graph-div')).map(function (div) {
  var traces = div._fullData || div.data || [];
  var points = 0;
  traces.forEach(function (t) {
    ['x', 'y', 'z', 'values'].forEach(function (k) {
      if (t[k] && t[k].length) { points += t[k].length; }
    });
    (t.dimensions || []).forEach(function (d) { points += (d.values || []).length; });
  });
  return {id: div.id, traces: traces.length, points: points,
          rendered: !!div._fullLayout && div.querySelector('.main-svg') !== null};
}))
"""


def collect_errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(json.dumps(params.get("args", []))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", "")[:500])
    return errors


@contextmanager
def chromium_page(binary: str, width: int = 1400, height: int = 1000) -> Iterator[PageSession]:
    """Start headless Chromium on a loopback debugging port and attach to its blank page."""
    profile = tempfile.mkdtemp(prefix="paretune-chromium-")
    process = subprocess.Popen(
        [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    session = None
    try:
        port = _devtools_port(process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t.get("type") == "page")
        session = PageSession(WebSocket(page["webSocketDebuggerUrl"], timeout=60))
        for domain in ("Runtime", "Log", "Network", "Page"):
            session.call(f"{domain}.enable")
        yield session
    finally:
        if session is not None:
            session.socket.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_port(process: subprocess.Popen[str]) -> int:
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        if "DevTools listening on ws://" in line:
            return int(urlparse(line.split("listening on ", 1)[1].strip()).port or 0)
    raise RuntimeError("Chromium did not print its DevTools address within 30 s")


def open_report(binary: str, html: Path, screenshot: Path, settle_s: float = 1.5) -> PageReport:
    """Load ``html`` from its file URL, wait for the figures, screenshot the whole page."""
    with chromium_page(binary) as page:
        page.call("Page.navigate", url=html.resolve().as_uri())
        page.wait_for("Page.loadEventFired", timeout=90)
        time.sleep(settle_s)
        figures = json.loads(page.evaluate(FIGURES_SCRIPT))
        text = page.evaluate("document.body.innerText")
        metrics = page.call("Page.getLayoutMetrics")["cssContentSize"]
        shot = page.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={
                "x": 0,
                "y": 0,
                "width": metrics["width"],
                "height": min(metrics["height"], 16000),
                "scale": 1,
            },
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        requests = [
            e["params"]["request"]["url"]
            for e in page.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
        return PageReport(collect_errors(page.events), requests, figures, text)


def network_requests(report: PageReport) -> list[str]:
    """Return the requested URLs that are not local (file, data, blob or about)."""
    return [url for url in report.requests if not url.startswith(LOCAL_SCHEMES)]
