#!/usr/bin/env python3
"""Edge-board load: a steady stream of gzip line-protocol writes at a fixed rate of field values per second,
while the server's RSS is sampled from /proc. Bounded: stops after --duration seconds. Loopback only.

  perf/edge/edge_load.py --url http://127.0.0.1:8086 --token T --org o --bucket b --pid PID \
      --rate 20000 --duration 300 --idle 30

Prints one JSON object: idle RSS, RSS percentiles during the load, first and last minute medians (growth),
values acknowledged, failed requests and write latency percentiles.
"""
import argparse, gzip, json, random, statistics, threading, time, urllib.request, urllib.error


def rss_kib(pid):
    """(VmRSS, RssAnon) in KiB: RssAnon leaves out file pages (memory-mapped TSM and index files), which the kernel reclaims."""
    rss = anon = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1])
    return rss, anon


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--org", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--pid", type=int, required=True, help="the process whose RSS is sampled (the server, or qemu running it)")
    ap.add_argument("--rate", type=int, default=20000, help="field values per second")
    ap.add_argument("--duration", type=int, default=300)
    ap.add_argument("--idle", type=int, default=30, help="seconds of idle sampling before the load")
    ap.add_argument("--batches-per-second", type=int, default=2)
    ap.add_argument("--boards", type=int, default=50)
    a = ap.parse_args()

    samples = []  # (phase, t, rss)
    stop = threading.Event()
    phase = ["idle"]
    t0 = time.time()

    def sampler():
        while not stop.is_set():
            samples.append((phase[0], time.time() - t0, rss_kib(a.pid)))
            stop.wait(1.0)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    time.sleep(a.idle)

    phase[0] = "load"
    fields = 5
    lines_per_batch = max(1, a.rate // fields // a.batches_per_second)
    url = f"{a.url}/api/v2/write?org={a.org}&bucket={a.bucket}&precision=ms"
    latencies, failures, values = [], 0, 0
    start = time.time()
    ts = int(start * 1000)
    n = 0
    while time.time() - start < a.duration:
        due = start + n / a.batches_per_second
        if due > time.time():
            time.sleep(due - time.time())
        body = []
        for i in range(lines_per_batch):
            board = (n * lines_per_batch + i) % a.boards
            ts += 1
            body.append(f"env,board=b{board},site=s{board % 5} temp={20 + random.random() * 5:.2f},hum={40 + random.random() * 20:.1f},"
                        f"pres={1000 + random.random() * 30:.1f},volt={3.2 + random.random() * 0.2:.3f},cur={random.randint(0, 500)}i {ts}")
        data = gzip.compress(("\n".join(body) + "\n").encode(), compresslevel=1)
        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Authorization": "Token " + a.token, "Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"})
        t = time.time()
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
            values += lines_per_batch * fields
        except urllib.error.HTTPError as e:
            failures += 1
        except OSError:
            failures += 1
        latencies.append((time.time() - t) * 1000)
        n += 1
    elapsed = time.time() - start
    phase[0] = "after"
    time.sleep(5)
    stop.set()
    th.join()

    anon_load = [(t, r[1]) for p, t, r in samples if p == "load"]
    idle = [r[0] for p, _, r in samples if p == "idle"]
    load = [(t, r[0]) for p, t, r in samples if p == "load"]
    load_rss = [r for _, r in load]
    lt = sorted(latencies)
    first_min = [r for t, r in load if t - load[0][0] < 60]
    last_min = [r for t, r in load if load[-1][0] - t < 60]
    mib = lambda k: round(k / 1024, 1)
    print(json.dumps({
        "idle_rss_mib_median": mib(statistics.median(idle)) if idle else None,
        "load_rss_mib_median": mib(statistics.median(load_rss)),
        "load_rss_mib_p95": mib(sorted(load_rss)[int(len(load_rss) * 0.95) - 1]),
        "load_rss_mib_max": mib(max(load_rss)),
        "first_minute_rss_mib_median": mib(statistics.median(first_min)),
        "last_minute_rss_mib_median": mib(statistics.median(last_min)),
        "load_anon_mib_first_minute_median": mib(statistics.median([r for t, r in anon_load if t - anon_load[0][0] < 60])),
        "load_anon_mib_last_minute_median": mib(statistics.median([r for t, r in anon_load if anon_load[-1][0] - t < 60])),
        "values_acknowledged": values,
        "values_per_second": round(values / elapsed),
        "failed_requests": failures,
        "write_ms_p50": round(lt[len(lt) // 2], 1),
        "write_ms_p99": round(lt[int(len(lt) * 0.99) - 1], 1),
        "duration_s": round(elapsed),
    }))


if __name__ == "__main__":
    main()
