"""The change-feed benchmark: N state changes made through the API (applications submitted by an
applicant, four at a time), then the SME Agency's client reads the whole feed in pages of 1,000,
several times over. Prints one JSON line: the time per full page (median, fastest, slowest) as
the client sees it through the local gateway, and the bytes of a page. Runs inside
`local-stack exec` (make bench-feed N=…).
"""

import base64
import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "browser"))
from kit import BASE, Api, complete_plan  # noqa: E402

ROUNDS = 5


def submit_one(applicant: Api) -> None:
    _, created = applicant.call("POST", "/applications", {"plan": complete_plan()})
    applicant.call(
        "POST", f"/applications/{created['id']}/submit", None, {"idempotency-key": str(uuid.uuid4())}
    )


def token() -> str:
    clients = json.load(open(os.path.join(os.path.dirname(__file__), "..", "agency-clients.json")))
    secret = next(c["local"]["secret"] for c in clients if c["client_id"] == "chusho-kikakuka")
    request = urllib.request.Request(
        os.environ["KEIRYOKU_IDP_URL"] + "/oauth/token",
        data=b"grant_type=client_credentials",
        method="POST",
    )
    basic = base64.b64encode(f"chusho-kikakuka:{secret}".encode()).decode()
    request.add_header("authorization", f"Basic {basic}")
    with urllib.request.urlopen(request) as response:
        return json.load(response)["access_token"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    applicants = [Api("/auth/login?login_hint=applicant-tokyo") for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: submit_one(applicants[i % 4]), range(n)))
    bearer = token()
    seconds, sizes = [], []
    for _ in range(ROUNDS):
        cursor = None
        while True:
            url = f"{BASE}/export/v1/feed?limit=1000" + (f"&cursor={cursor}" if cursor else "")
            request = urllib.request.Request(url)
            request.add_header("authorization", f"Bearer {bearer}")
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                body = response.read()
            took = time.perf_counter() - start
            page = json.loads(body)
            if len(page["events"]) == 1000:
                seconds.append(took)
                sizes.append(len(body))
            cursor = page.get("next_cursor")
            if not page.get("more"):
                break
    print(json.dumps({
        "changes_made": n,
        "full_pages_read": len(seconds),
        "page_ms_median": round(statistics.median(seconds) * 1000, 1),
        "page_ms_fastest": round(min(seconds) * 1000, 1),
        "page_ms_slowest": round(max(seconds) * 1000, 1),
        "page_bytes": int(statistics.median(sizes)),
    }))


if __name__ == "__main__":
    main()
