"""The dashboard's page weight and load time on a published slate (default: the newest date, e.g. the one
`./dev demo` just produced), measured in headless Chromium (Debian's chromium + chromium-driver).

    .venv/bin/python bench/dashboard_page.py [--date D] [--loads 5] [--out reports/dashboard]

Serves the dashboard on a free loopback port in this process, then:
- page weight: the bytes of the served HTML (the whole page: CSS, JS and data inline; explanations are
  fetched per player), the same gzip-compressed as the server sends it to a browser, and the static
  copy's index.html (explanations of the slate embedded);
- load time: navigation start to the load event (Navigation Timing), median of --loads fresh loads, for
  both;
- a full-page screenshot of the served page with one player's explanation open.
Writes <out>/dashboard_<date>.png and <out>/dashboard_<date>.json (reports/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from minutes_live.api.server import make_server, url_of
    from minutes_live.dashboard import browser
    from minutes_live.dashboard.static import write_static
    from minutes_live.runs import catalog as run_catalog

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--date", type=date.fromisoformat, default=None)
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "dashboard")
    args = ap.parse_args()
    if browser.find_chromium() is None:
        print(browser.MISSING, file=sys.stderr)
        return 1
    day = args.date or (run_catalog.dates() or [None])[-1]
    if day is None:
        print("no published runs: run ./dev demo first", file=sys.stderr)
        return 1
    server = make_server("127.0.0.1", 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"{url_of(server)}?date={day}"
    served_bytes = len(urllib.request.urlopen(url).read())
    gz = urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"}))
    served_gzip_bytes = len(gz.read())
    assert gz.headers.get("Content-Encoding") == "gzip"
    static_dir = Path(tempfile.mkdtemp(prefix="ml-dashboard-static-"))
    write_static(static_dir, day)
    static_index = static_dir / "index.html"
    args.out.mkdir(parents=True, exist_ok=True)
    shot = args.out / f"dashboard_{day}.png"
    loads: dict[str, list[float]] = {"served": [], "static": []}
    with browser.headless_chromium() as d:
        for _ in range(args.loads):
            for name, target in (("served", url), ("static", static_index.as_uri())):
                d.get("about:blank")
                d.get(target)
                loads[name].append(browser.load_time_ms(d))
        d.get(url)
        from selenium.webdriver.common.by import By

        d.find_elements(By.CSS_SELECTOR, "#projections tr.player")[0].click()
        browser_wait = 0
        while not d.find_elements(By.CSS_SELECTOR, "tr.explain .contrib") and browser_wait < 100:
            threading.Event().wait(0.1)
            browser_wait += 1
        d.set_window_size(1400, min(4000, d.execute_script("return document.body.scrollHeight") + 150))
        d.save_screenshot(str(shot))
    server.shutdown()
    result = {
        "date": str(day),
        "served_html_bytes": served_bytes,
        "served_gzip_transfer_bytes": served_gzip_bytes,
        "static_index_html_bytes": static_index.stat().st_size,
        "load_ms_served_median": round(statistics.median(loads["served"]), 1),
        "load_ms_static_median": round(statistics.median(loads["static"]), 1),
        "loads": {k: [round(v, 1) for v in vs] for k, vs in loads.items()},
        "screenshot": str(shot),
        "chromium": str(browser.find_chromium()[0]),
    }
    (args.out / f"dashboard_{day}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
