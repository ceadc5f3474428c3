#!/usr/bin/env python3
"""`make perf`: every performance figure of issue 15 measured in one run on this machine, printed
as one table (figure, measured, goal, ratio, pass/fail).

Runs inside `local-stack exec` with the release binaries (KEIRYOKU_BIN_DIR), after `make perf`
has built them and the benchmarks:

- start-up: `local-stack bench-startup` (30 interleaved rounds, every function next to the
  hello-world lambda_http binary; the applications function also with an authenticated read);
- CPU per request: `infra/load/run.sh`, the applicant mix of `make load`;
- certificate: `cargo bench -p keiryoku-pdf` (also the application PDF each submission renders,
  which the CPU rows count as work the mix asks for);
- pages: `cargo bench -p keiryoku-fn-web`;
- export: `infra/load/export.sh` with PERF_EXPORT_N records (the goal is for 200,000 and the
  extract is linear in N, so a smaller N is held to its share of 60 s; memory is not scaled).

Exits 1 when a row misses its goal. Environment: PERF_ROUNDS (30), PERF_LOAD_DURATION (20s),
PERF_EXPORT_N (20000; 0 skips the export rows).
"""

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

API = os.environ["KEIRYOKU_API_URL"]
BIN = os.environ["KEIRYOKU_BIN_DIR"]
CARGO = os.environ.get("CARGO", "cargo")
ROUNDS = os.environ.get("PERF_ROUNDS", "30")
LOAD_DURATION = os.environ.get("PERF_LOAD_DURATION", "20s")
EXPORT_N = int(os.environ.get("PERF_EXPORT_N", "20000"))

rows = []


def row(figure, value, unit, goal, limit, digits=2):
    """A row whose value must be at most `limit` (ratio = value / limit)."""
    ratio = value / limit
    rows.append((figure, f"{value:.{digits}f} {unit}", goal, f"{ratio:.2f}", "pass" if ratio <= 1 else "FAIL"))


def info(figure, value):
    rows.append((figure, value, "", "", ""))


def run(args, **kwargs):
    print("$", " ".join(a if len(a) < 80 else a[:60] + "…" for a in args), file=sys.stderr, flush=True)
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    sys.stderr.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{args[0]} failed ({done.returncode})")
    return done.stdout


def applicant_read(work):
    """An applicant's session cookie and the path of one of their drafts."""
    jar = os.path.join(work, "jar")
    run(["curl", "-sf", "-c", jar, "-b", jar, "-L", "-o", "/dev/null", f"{API}/auth/login?login_hint=applicant-tokyo"])
    cookies = {}
    for line in open(jar):
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 7:
            cookies[fields[5]] = fields[6]
    with open("shared/domain/tests/fixtures/complete_plan.json") as f:
        plan = json.load(f)
    created = run([
        "curl", "-sf", "-b", jar, "-H", f"X-CSRF-Token: {cookies['csrf_token']}",
        "-H", "Content-Type: application/json", "--data-binary", json.dumps({"plan": plan}),
        f"{API}/applications",
    ])
    return f"keiryoku_session={cookies['keiryoku_session']}", f"/applications/{json.loads(created)['id']}"


def startup(work):
    cookie, read = applicant_read(work)
    out = os.path.join(work, "startup.jsonl")
    run([f"{BIN}/local-stack", "bench-startup", ROUNDS, "--cookie", cookie, "--read", read, "--json", out])
    results = [json.loads(line) for line in open(out)]
    hello = results[0]
    info("start-up: hello-world lambda_http (the floor)", f"{hello['median_ms']:.2f} ms, {hello['bytes'] / 1048576:.1f} MB")
    sdk_cpu = runtime_cpu = None
    for r in results[1:]:
        if r["row"] == "sdk-cpu-per-call":
            sdk_cpu = r["cpu_ms_per_call"]
            continue
        if r["row"] == "runtime-cpu-per-invocation":
            runtime_cpu = r["cpu_ms_per_invocation"]
            continue
        if r["binary"] == "bench-hello-sdk":
            # The floors of a function that uses AWS: the SDK's set-up, and the service round
            # trips of a row, with nothing of ours around them.
            rows.append((f"  floor: hello-world + {r['row'].split('(', 1)[1].rstrip(')')}", f"{r['median_ms']:.2f} ms",
                         "(floor)", f"{r['ratio']:.2f}", ""))
            continue
        label = r["row"] if r["row"] != r["binary"] else f"{r['binary']} ({r['request']})"
        # How far from its floor (the SDK baseline doing the same round trips) a row is.
        measured = f"{r['median_ms']:.2f} ms"
        if r.get("ratio_to_floor"):
            measured += f" = {r['ratio_to_floor']:.2f}× floor"
        if "no tables check" in r["row"]:
            # What the published-tables check (one S3 HEAD to moto) adds, shown apart.
            rows.append((f"  {label}", measured, "(to compare)", f"{r['ratio']:.2f}", ""))
            continue
        rows.append((
            f"start-up: {label}",
            measured,
            "≤ 1.5× hello",
            f"{r['ratio']:.2f}",
            "pass" if r["ratio"] <= 1.5 else "FAIL",
        ))
    return hello["median_ms"], sdk_cpu, runtime_cpu


def load(hello_ms, sdk_cpu, runtime_cpu, application_render_ms):
    out = run(["bash", "infra/load/run.sh"], env={**os.environ, "LOAD_DURATION": LOAD_DURATION})
    m = re.search(r"our Lambda functions ([\d.]+) ms, local API gateway \+ runtime API ([\d.]+) ms, moto ([\d.]+) ms", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise SystemExit("load run: no CPU figures")
    ours, gateway, moto = (float(x) for x in m.groups())
    row("CPU per request, applicant mix: our functions", ours, "ms", "≤ 1 ms", 1.0)
    rows.append((
        "  the same ÷ hello-world start-up",
        f"{ours / hello_ms:.2f}",
        "≤ 0.5",
        f"{ours / hello_ms / 0.5:.2f}",
        "pass" if ours / hello_ms <= 0.5 else "FAIL",
    ))
    calls = re.search(r"AWS calls per request: our functions ([\d.]+)", out)
    invocations = re.search(r"Lambda invocations per request: our functions ([\d.]+)", out)
    if calls and sdk_cpu and invocations and runtime_cpu:
        # The floor: the Lambda invocations a request of the mix causes, at what one costs a
        # warm hello-world process, and the service calls it makes, at what one GetItem costs
        # the SDK alone in bench-hello-sdk's process.
        per_request, invoked = float(calls.group(1)), float(invocations.group(1))
        floor = invoked * runtime_cpu + per_request * sdk_cpu
        info("  floor: invocations × CPU of one (hello-world, warm)",
             f"{invoked:.2f} × {runtime_cpu:.3f} ms = {invoked * runtime_cpu:.2f} ms")
        info("  floor: AWS calls × CPU of one call (SDK alone)",
             f"{per_request:.2f} × {sdk_cpu:.3f} ms = {per_request * sdk_cpu:.2f} ms")
        info("  floor: both", f"{floor:.2f} ms; ours = {ours / floor:.2f}× floor")
        # Work the product asks of the mix besides: each submission's application PDF (申請書),
        # at what rendering it costs in the PDF benchmark.
        submissions = re.search(r"submissions per request: ([\d.]+)", out)
        if submissions and application_render_ms:
            share = float(submissions.group(1))
            work = share * application_render_ms
            info("  + the application PDF of each submission (effects)",
                 f"{share:.3f} × {application_render_ms:.2f} ms = {work:.2f} ms")
            info("  floor with that PDF", f"{floor + work:.2f} ms; ours = {ours / (floor + work):.2f}× that")
    info("  local gateway + runtime API emulation (not in AWS)", f"{gateway:.2f} ms")
    info("  moto (the emulated DynamoDB/S3, not in AWS)", f"{moto:.2f} ms")
    if rps:
        info("  throughput through the local stack", f"{float(rps.group(1)):.0f} requests/s")


def pdf_bench():
    """`cargo bench -p keiryoku-pdf`: its output, and the application PDF's median render (ms)."""
    out = run([CARGO, "bench", "-q", "-p", "keiryoku-pdf"])
    application = re.search(r"application render, median of \d+\s+([\d.]+) ms", out)
    return out, float(application.group(1)) if application else None


def certificate(out):
    median = float(re.search(r"certificate render, median of \d+\s+([\d.]+) ms", out).group(1))
    size = float(re.search(r"certificate size\s+([\d.]+) KB", out).group(1))
    row("certificate (認定書): size", size, "KB", "≤ 32 KB", 32.0, 1)
    row("certificate (認定書): render, median", median, "ms", "≤ 5 ms", 5.0)
    chromium = re.search(r"chromium HTML → PDF, median of \d+ \(process per print\)\s+([\d.]+) ms, ([\d.]+) KB", out)
    if chromium:
        info("  headless Chromium printing the same page", f"{float(chromium.group(1)):.0f} ms, {chromium.group(2)} KB")
    application = re.search(r"application render, median of \d+\s+([\d.]+) ms", out)
    application_size = re.search(r"application size\s+([\d.]+) KB", out)
    if application and application_size:
        info("  application PDF (申請書, effects on each submission)",
             f"{float(application.group(1)):.2f} ms, {application_size.group(1)} KB")


def pages():
    out = run([CARGO, "bench", "-q", "-p", "keiryoku-fn-web"])
    m = re.search(r"worst: ([\d.]+) ms \(budget 2 ms\), ([\d.]+) KB", out)
    count = len(re.findall(r"^\S.*\s[\d.]+ ms\s+[\d.]+ KB\s+[\d.]+ KB$", out, re.M))
    row(f"pages: slowest median render of {count} pages", float(m.group(1)), "ms", "≤ 2 ms", 2.0, 3)
    row("pages: heaviest page, HTML + CSS + JS", float(m.group(2)), "KB", "≤ 60 KB", 60.0, 1)


def export():
    out = run(["bash", "infra/load/export.sh", str(EXPORT_N)])
    result = json.loads(out.strip().splitlines()[-1])
    share = 60.0 * EXPORT_N / 200_000
    row(f"export: extract of {EXPORT_N:,} records, end to end", result["extract_seconds"], "s",
        f"≤ {share:g} s (60 s at 200,000)", share, 1)
    row(f"export: worker peak RSS at {EXPORT_N:,}", result["worker_peak_rss_mb"], "MB", "≤ 64 MB", 64.0, 1)


def machine():
    model = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} cores"


def main():
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as work:
        pdf, application_render_ms = pdf_bench()
        hello_ms, sdk_cpu, runtime_cpu = startup(work)
        load(hello_ms, sdk_cpu, runtime_cpu, application_render_ms)
        certificate(pdf)
        pages()
        if EXPORT_N > 0:
            export()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"make perf, {now}, commit {commit or '?'}, {machine()}, release build")
    print()
    widths = [max(len(r[i]) for r in rows + [("figure", "measured", "goal", "ratio", "")]) for i in range(5)]
    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(("figure", "measured", "goal", "ratio", "")))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    failed = [r[0] for r in rows if r[4] == "FAIL"]
    print()
    print(f"{len(failed)} of {sum(1 for r in rows if r[4])} rows miss their goal" if failed else "every row meets its goal")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
