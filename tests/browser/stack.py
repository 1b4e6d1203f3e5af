"""The local stack (scripts/local_stack.py) on free ports for the browser tests and
`make screenshots`, plus the few API calls that set up what a page then shows.

Everything goes over real HTTP on 127.0.0.1: the pages are served by the stack's web server, the
API is `chalice local`, S3 is moto's server (a cross-origin POST from the page's origin).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parents[2]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A minimal valid PDF and PNG: what `on_proof_uploaded` sniffs as a proof of purchase.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f80f0000010101005bd0e1f60000000049454e44ae426082"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    process: subprocess.Popen[str]
    api_url: str
    web_url: str
    moto_url: str
    lines: list[str] = field(default_factory=list)

    # --- tokens and calls -------------------------------------------------------------------
    def token(self, sub: str, role: str) -> str:
        if role == "pos":
            from chalicelib.auth import mint_dev_token

            return mint_dev_token(sub, ["pos"], secret=self.dev_secret())
        answer = requests.get(f"{self.web_url}/dev/token", params={"sub": sub, "role": role}, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["token"])

    @staticmethod
    def dev_secret() -> str:
        import json

        config = json.loads((ROOT / ".chalice" / "config.json").read_text())
        return str(config["stages"]["dev"]["environment_variables"]["AUTH_DEV_SECRET"])

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, f"{self.api_url}{path}", headers=headers, timeout=30, **kwargs)

    # --- what the pages need to exist ---------------------------------------------------------
    def laptop_receipt(self, days_ago: int = 35, member_id: str | None = None, price_cents: int = 89900) -> str:
        """A webshop receipt with a qualifying laptop bought `days_ago` days ago (Amsterdam)."""
        receipt_id = f"WEB-{uuid.uuid4().hex[:10].upper()}"
        bought = datetime.now(AMSTERDAM).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
        body: dict[str, Any] = {
            "channel": "webshop",
            "purchased_at": bought.isoformat(),
            "lines": [
                {
                    "line_id": "1",
                    "sku": "LNV-T14",
                    "description": "Lenovo ThinkPad T14",
                    "brand": "Lenovo",
                    "category": "laptop",
                    "kind": "product",
                    "seller": "retailer",
                    "unit_price_cents": price_cents,
                    "quantity": 1,
                }
            ],
        }
        if member_id:
            body["member_id"] = member_id
        answer = self.call("PUT", f"/receipts/{receipt_id}", self.token("web-tests-pos", "pos"), json=body)
        assert answer.status_code == 201, answer.text
        return receipt_id

    def campaign_id(self) -> str:
        items = self.call("GET", "/tradein/campaigns").json()["items"]
        today = datetime.now(AMSTERDAM)
        return next(c["campaign_id"] for c in items if datetime.fromisoformat(c["starts_at"]) <= today)

    def registration(
        self, receipt_id: str, postcode: str, email: str, house_number: int = 10, content_type: str = "image/png"
    ) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id(),
            "receipt_id": receipt_id,
            "laptop_line_id": "1",
            "participant": {
                "first_name": "Sanne",
                "last_name": "de Vries",
                "email": email,
                "phone": "0612345678",
                "birth_date": "1985-04-12",
                "address": {
                    "street": "Kalverstraat",
                    "house_number": house_number,
                    "postcode": postcode,
                    "city": "Amsterdam",
                    "country": "NL",
                },
                "iban": "NL91ABNA0417164300",
                "account_holder": "S. de Vries",
            },
            "old_device": {
                "brand": "HP",
                "model": "EliteBook 840",
                "screen_inches": 14.0,
                "purchased_on": (date.today() - timedelta(days=3 * 365)).isoformat(),
                "working": True,
                "complete": True,
                "undamaged": True,
                "battery_ok": True,
                "charger_included": True,
            },
            "declarations": {"legal_owner": True, "private_person": True, "not_employee": True, "data_removed": True},
            "proof_content_type": content_type,
        }

    def claim_with_proof(self, postcode: str, email: str) -> str:
        """A registered claim whose PNG proof was uploaded and checked: `awaiting_device`."""
        receipt_id = self.laptop_receipt()
        answer = self.call("POST", "/tradein/claims", json=self.registration(receipt_id, postcode, email))
        assert answer.status_code == 201, answer.text
        claim = answer.json()
        upload = claim["upload"]
        sent = requests.post(
            upload["url"], data=upload["fields"], files={"file": ("bon.png", PNG, "image/png")}, timeout=10
        )
        assert sent.status_code in (200, 201, 204), sent.text
        self.wait_for_status(claim["claim_number"], postcode, "awaiting_device")
        return str(claim["claim_number"])

    def wait_for_status(self, claim_number: str, postcode: str, status: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen: dict[str, Any] = {}
        while time.monotonic() < deadline:
            seen = self.call("GET", f"/tradein/claims/{claim_number}", params={"postcode": postcode}).json()
            if seen.get("status") == status:
                return seen
            time.sleep(0.3)
        raise AssertionError(f"claim {claim_number} did not reach {status}: {seen}")

    def member_with_points(self, sub: str, email: str) -> None:
        """A member with 2,299 available points (and the welcome points): a receipt past its return period, matured by a
        nightly loyalty run started from the back office (as an operator would)."""
        member = self.token(sub, "member")
        joined = self.call(
            "POST",
            "/members",
            member,
            json={
                "email": email,
                "first_name": "Sanne",
                "last_name": "de Vries",
                "newsletter": False,
                "partner_data_sharing": False,
            },
        )
        assert joined.status_code == 201, joined.text
        self.laptop_receipt(days_ago=40, member_id=sub, price_cents=229900)
        run = self.call(
            "POST", "/backoffice/jobs/nightly_loyalty/runs", self.token("web-tests-bo", "backoffice"), json={}
        )
        assert run.status_code in (200, 202), run.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.call("GET", "/members/me", member).json()["points"]["available"] >= 2299:
                return
            time.sleep(0.3)
        raise AssertionError("the member's points did not mature")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_stack(timeout: float = 120) -> Stack:
    moto_port, api_port, web_port = free_port(), free_port(), free_port()
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
    stack = Stack(
        process, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{moto_port}"
    )
    threading.Thread(target=lambda: stack.lines.extend(iter(process.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any("Local stack is up" in line for line in stack.lines):
            return stack
        time.sleep(0.2)
    stack.stop()
    raise RuntimeError("the local stack did not start:\n" + "".join(stack.lines))
