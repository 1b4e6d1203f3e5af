"""`make run` for real: the script brings the stack up, bridges an S3 upload to the handler, stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config

from scripts.local_stack import JOIN

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_local_stack_serves_bridges_uploads_and_stops_cleanly() -> None:
    moto_port, api_port, web_port = _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {"MOTO_PORT": str(moto_port), "PORT": str(api_port), "WEB_PORT": str(web_port), "LOCAL_NIGHTLY_SECONDS": "3600"}
    )
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "local_stack.py")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()

    def wait_for(text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if any(text in line for line in lines):
                return True
            time.sleep(0.1)
        return any(text in line for line in lines)

    try:
        assert wait_for("Local stack is up"), "".join(lines)
        assert any("nightly nightly_loyalty" in line for line in lines) or wait_for("nightly nightly_tradein")
        assert "Bearer ey" in "".join(lines)

        health = requests.get(f"http://127.0.0.1:{api_port}/health", timeout=5)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        # chalice local answers Chalice's own errors in the contract's body too (issue 9, item 11)
        wrong_method = requests.delete(f"http://127.0.0.1:{api_port}/health", timeout=5)
        assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
        wrong_type = requests.post(
            f"http://127.0.0.1:{api_port}/members", data="{}", headers={"Content-Type": "text/plain"}, timeout=5
        )
        assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
        assert wrong_type.headers["Access-Control-Allow-Origin"] == "*"
        plain_get = requests.get(
            f"http://127.0.0.1:{api_port}/health", headers={"Content-Type": "text/plain"}, timeout=5
        )
        assert plain_get.status_code == 200

        # the web pages, configured for this API (scripts/web_server.py)
        config = requests.get(f"http://127.0.0.1:{web_port}/config.js", timeout=5)
        assert f'"apiUrl": "http://127.0.0.1:{api_port}"' in config.text
        assert requests.get(f"http://127.0.0.1:{web_port}/volg.html", timeout=5).status_code == 200

        member_line = next(line for line in lines if line.strip().startswith("member "))
        member_token = member_line.split()[-1]
        joined = requests.post(
            f"http://127.0.0.1:{api_port}/members",
            json=json.loads(JOIN.strip("'")),
            headers={"Authorization": f"Bearer {member_token}"},
            timeout=10,
        )
        assert joined.status_code == 201, joined.text
        # the welcome points' ledger entry went through the stream to the bus (scripts/stream_bridge.py)
        assert wait_for("event loyalty.points.earned", timeout=20), "".join(lines)

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{moto_port}",
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),  # as chalicelib.db signs
        )
        post = s3.generate_presigned_post("loyalty-dev-proofs", "proofs/SMOKE-1/receipt.pdf", ExpiresIn=300)
        upload = requests.post(post["url"], data=post["fields"], files={"file": ("r.pdf", b"%PDF-1.4\n")}, timeout=5)
        assert post["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
        assert upload.status_code == 204
        assert wait_for("bridge: delivered ['proofs/SMOKE-1/receipt.pdf']", timeout=20), "".join(lines)

        chalice_pids = _children(process.pid)
        chalice_pids += [grandchild for pid in chalice_pids for grandchild in _children(pid)]
        assert chalice_pids, "chalice local should run as a child of the script"
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    reader.join(timeout=5)
    assert code == 0, "".join(lines)
    assert any("stopped" in line for line in lines)
    assert not [pid for pid in chalice_pids if _alive(pid)], "chalice local outlived the stack"
    for port in (moto_port, api_port, web_port):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


def test_a_port_whose_last_connections_wait_in_time_wait_is_free_again() -> None:
    """`make run` right after Ctrl-C: the old server's connections linger in TIME_WAIT."""
    from scripts.local_stack import HOST, port_is_free

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the stack's servers bind
    server.bind((HOST, 0))
    server.listen()
    port = server.getsockname()[1]
    assert not port_is_free(port)  # something listens: in use
    peer = socket.create_connection((HOST, port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first, so the port's connection enters TIME_WAIT
    peer.recv(1)
    peer.close()
    server.close()
    time.sleep(0.1)
    tcp = Path("/proc/net/tcp").read_text()
    assert f":{port:04X} " in tcp  # the TIME_WAIT entry is there
    assert port_is_free(port)


def test_the_banner_names_the_projects_python_for_minting_tokens() -> None:
    from scripts.local_stack import banner, project_python

    text = banner("http://127.0.0.1:8000", "http://127.0.0.1:5001", [])
    assert f"`{project_python()} scripts/mint_token.py SUBJECT" in text
    assert Path(ROOT / project_python()).resolve() == Path(sys.executable).resolve()
    assert "`python scripts" not in text
