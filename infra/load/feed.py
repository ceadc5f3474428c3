"""The change-feed benchmark: N state changes made through the API (applications submitted by an
applicant, four at a time), then the SME Agency's client reads the whole feed in pages of 1,000,
several times over. Prints one JSON line: the time per full page (median, fastest, slowest) as
the client sees it through the local gateway, the bytes of a page, and the CPU per page read of
the export function's processes (the server's own time) and of moto, apart. Runs inside
`local-stack exec` (make bench-feed FEED_N=…).
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


def cpu_seconds(ending: str) -> float:
    """User + system CPU of the processes whose command line ends with `ending`."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode().strip()
            if command.endswith(ending):
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


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
    function = os.path.join(os.environ["KEIRYOKU_BIN_DIR"], "export")
    moto = "serve.py 127.0.0.1 " + os.environ.get("MOTO_PORT", "5000")
    requests = 0
    function_before, moto_before = cpu_seconds(function), cpu_seconds(moto)
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
            requests += 1
            page = json.loads(body)
            if len(page["events"]) == 1000:
                seconds.append(took)
                sizes.append(len(body))
            cursor = page.get("next_cursor")
            if not page.get("more"):
                break
    function_cpu = cpu_seconds(function) - function_before
    moto_cpu = cpu_seconds(moto) - moto_before
    print(json.dumps({
        "changes_made": n,
        "pages_read": requests,
        "full_pages_read": len(seconds),
        "page_ms_median": round(statistics.median(seconds) * 1000, 1),
        "page_ms_fastest": round(min(seconds) * 1000, 1),
        "page_ms_slowest": round(max(seconds) * 1000, 1),
        "page_bytes": int(statistics.median(sizes)),
        "function_cpu_ms_per_page": round(function_cpu / requests * 1000, 1),
        "moto_cpu_ms_per_page": round(moto_cpu / requests * 1000, 1),
    }))


if __name__ == "__main__":
    main()
