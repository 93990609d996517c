#!/usr/bin/python3
"""The dashboard in headless Chromium (Selenium), against a daemon running fake agents.

Usage: dashboard_browser.py URL ROOT RUN SHOTS_DIR

Run "RUN", phase "1", four batches of two items: batch 1 merged (its agent logged
<script>alert(1)</script>), batch 2 running (its agent logs a line, then logs what this script writes into ROOT/live.fifo and
waits: this script drops its output),
batch 3 failed (agent exit 3), batch 4 failed with an item id '"><img src=x onerror=alert(1)>'.
Prints one line per check; exits 1 at the first failed check.
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, ROOT, RUN, SHOTS = sys.argv[1:5]
BASE = URL.split("/?")[0]
LOG = os.path.join(ROOT, "logs", "events.jsonl")
HOSTILE_LOG = "<script>alert(1)</script>"
HOSTILE_ERR = '"><img src=x onerror=alert(1)>'
HOSTILE_LIVE = "<img src=x onerror=alert(2)> a line logged while the page is open"
FIFO = os.path.join(ROOT, "live.fifo")


def fail(msg):
    print("FAIL " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok   " + msg, flush=True)


def records():
    with open(LOG, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def states_from_log():
    """Per phase: (merged, total) from the log alone."""
    last, totals = {}, {}
    for r in records():
        if r.get("event") == "run.started" and r.get("run") == RUN:
            for p in r["phases"]:
                totals[p] = r["batches"]
        if r.get("event") == "batch.transition" and r.get("run") == RUN:
            last[(r["phase"], r["batch"])] = r["to"]
    return {p: (sum(1 for (ph, _), s in last.items() if ph == p and s == "merged"), t) for p, t in totals.items()}


def no_alert(driver, where):
    try:
        text = driver.switch_to.alert.text
        fail(f"an alert opened on {where}: {text!r}")
    except NoAlertPresentException:
        print(f"ok   no alert on {where}", flush=True)


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name + ".png")
    driver.save_screenshot(path)
    print("shot " + path, flush=True)


def wait_live(driver):
    WebDriverWait(driver, 10, poll_frequency=0.05).until(
        lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))


opts = Options()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    # Overview: the printed URL sets the cookie; the figures equal the log's.
    driver.get(URL)
    check(driver.current_url.rstrip("/") == BASE, f"the token URL redirects to {BASE}/ (got {driver.current_url})")
    wait_live(driver)
    expected = states_from_log()
    check(len(expected) == 1, f"the log has the run's phases: {expected}")
    for phase, (merged, total) in expected.items():
        fig = driver.find_element(By.ID, f"fig-{RUN}--{phase}")
        got = (int(fig.get_attribute("data-merged")), int(fig.get_attribute("data-total")))
        check(got == (merged, total), f"overview phase {phase}: page {got} == log {(merged, total)}")
        bar = driver.find_element(By.ID, f"bar-{RUN}--{phase}")
        check(int(bar.get_attribute("value")) == merged, "the progress bar shows the merged count")
    needs = driver.find_element(By.ID, "needs").text
    check("batch 3" in needs and "batch 4" in needs, "the needs-you list names the failed batches")
    check(driver.find_element(By.ID, "daemon").get_attribute("data-up") == "true", "the daemon shows up")
    shot(driver, "overview")

    # Batch page of the running batch 2: its agent log follows live, as text.
    driver.get(f"{BASE}/batch/{RUN}/1/2")
    wait_live(driver)
    driver.execute_script("window.__noReload = 41;")
    try:
        WebDriverWait(driver, 10, poll_frequency=0.05).until(
            lambda d: d.find_element(By.ID, "agent-log").get_attribute("data-live") == "on")
    except TimeoutException:
        fail("the running attempt's log stream did not open")
    check("batch 2 started" in driver.find_element(By.ID, "agent-log").text, "the log's tail is on the page")
    t0 = time.monotonic()
    with open(FIFO, "w", encoding="utf-8") as f:
        f.write(HOSTILE_LIVE + "\n")
    try:
        WebDriverWait(driver, 5, poll_frequency=0.02).until(lambda d: HOSTILE_LIVE in d.find_element(By.ID, "agent-log").text)
    except TimeoutException:
        fail("the new log line did not appear: " + driver.find_element(By.ID, "agent-log").text)
    ms = (time.monotonic() - t0) * 1000
    check(driver.execute_script("return window.__noReload;") == 41, f"the new log line appeared {ms:.0f} ms after it was written, without a reload")
    print(f"measure log_line_to_page_ms {ms:.0f}", flush=True)
    text = driver.find_element(By.ID, "agent-log").text
    check(text.index("batch 2 started") < text.index(HOSTILE_LIVE), "in order, after the tail")
    check(len(driver.find_elements(By.CSS_SELECTOR, "main img")) == 0, "the logged markup stays text (no img)")
    no_alert(driver, "the live batch page")
    shot(driver, "batch-live")

    # Run page: the running cell counts its time; the dropped output turns it merged without a reload.
    driver.get(f"{BASE}/run/{RUN}")
    wait_live(driver)
    cell = driver.find_element(By.ID, "c-1-2")
    check(cell.get_attribute("data-state") == "running", f"batch 2 runs (cell {cell.get_attribute('data-state')})")
    check(cell.get_attribute("data-since") is not None, "the running cell knows its spawn time")
    first = cell.find_element(By.CSS_SELECTOR, ".el").text
    try:
        WebDriverWait(driver, 3, poll_frequency=0.05).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#c-1-2 .el").text != first)
    except TimeoutException:
        fail(f"the running cell's elapsed time stays {first!r}")
    check(True, f"the running cell's elapsed time moves in place: {first!r} -> {driver.find_element(By.CSS_SELECTOR, '#c-1-2 .el').text!r}")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#grid .el")) == 1, "only the running cell shows an elapsed time")
    shot(driver, "run-running")
    t4 = driver.find_element(By.ID, "c-1-4").get_attribute("title")
    check(HOSTILE_ERR in t4, f"the failed cell's title holds the error as text: {t4!r}")
    driver.execute_script("window.__noReload = 42;")
    outbox = os.path.join(ROOT, "mailbox", RUN, "outbox")
    os.makedirs(os.path.join(outbox, "tmp"), exist_ok=True)
    items = {f"i{k}": {"id": f"i{k}", "value": k, "word": f"w{k}"} for k in (3, 4)}
    tmp = os.path.join(outbox, "tmp", "dropped.json")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"results": items}, f)
    t0 = time.monotonic()
    os.rename(tmp, os.path.join(outbox, "1_batch_2.json"))
    try:
        WebDriverWait(driver, 2, poll_frequency=0.02).until(
            lambda d: d.find_element(By.ID, "c-1-2").get_attribute("data-state") == "merged")
    except TimeoutException:
        fail("the dropped batch's cell did not turn merged within 2 s")
    ms = (time.monotonic() - t0) * 1000
    check(driver.execute_script("return window.__noReload;") == 42, f"cell merged {ms:.0f} ms after the drop, without a reload")
    print(f"measure drop_to_merged_cell_ms {ms:.0f}", flush=True)
    check(len(driver.find_elements(By.CSS_SELECTOR, "main img")) == 0, "no injected img on the run page")
    no_alert(driver, "the run page")
    shot(driver, "run")

    # Batch page of the failed batch 3: retry from the page.
    driver.get(f"{BASE}/batch/{RUN}/1/3")
    wait_live(driver)
    check(driver.find_element(By.ID, "batch-state").get_attribute("data-state") == "failed", "batch 3 is failed")
    driver.find_element(By.ID, "retry").click()
    try:
        WebDriverWait(driver, 15, poll_frequency=0.05).until(
            lambda d: d.find_element(By.ID, "answer").get_attribute("data-result") in ("control.applied", "control.rejected"))
    except TimeoutException:
        fail("no answer to retry: " + driver.find_element(By.ID, "answer").text)
    check(driver.find_element(By.ID, "answer").get_attribute("data-result") == "control.applied",
          "retry answered control.applied: " + driver.find_element(By.ID, "answer").text)
    applied = [r for r in records() if r.get("event") == "control.applied" and r.get("command") == "retry"]
    check(len(applied) == 1, f"the log holds the control.applied of the retry ({len(applied)})")
    # Its agent fails again at once, so the state may be back to failed: the live event list
    # shows the way it went.
    try:
        WebDriverWait(driver, 5, poll_frequency=0.05).until(
            lambda d: "failed → pending" in d.find_element(By.ID, "batch-events").text)
    except TimeoutException:
        fail("the retry's transition did not appear on the batch page: " + driver.find_element(By.ID, "batch-events").text)
    check(True, "the retry's transitions appear in place; state now " + driver.find_element(By.ID, "batch-state").get_attribute("data-state"))
    shot(driver, "batch-retried")

    # Hostile text shows as text.
    driver.get(f"{BASE}/batch/{RUN}/1/1")
    log_text = driver.find_element(By.ID, "agent-log").text
    check(HOSTILE_LOG in log_text, f"the agent log line shows as text: {log_text.strip()!r}")
    check(len(driver.find_elements(By.CSS_SELECTOR, "main script")) == 0, "no script element from the log")
    no_alert(driver, "batch 1")
    shot(driver, "batch")
    driver.get(f"{BASE}/batch/{RUN}/1/4")
    msgs = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "ul.errors .msg"))
    check(HOSTILE_ERR in msgs, f"the error message shows as text: {msgs!r}")
    check(len(driver.find_elements(By.CSS_SELECTOR, "main img")) == 0, "no injected img on batch 4")
    no_alert(driver, "batch 4")
    shot(driver, "batch-hostile")

    driver.get(f"{BASE}/timeline/{RUN}")
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar")
    check(len(bars) >= 4, f"the timeline draws a bar per attempt ({len(bars)})")
    crit = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar.crit")
    count = int(driver.find_element(By.ID, "critical-count").text)
    check(len(crit) >= 1 and len(crit) == count, f"the critical path is outlined ({len(crit)} bars, legend {count})")
    idle = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.idle")
    check(len(idle) >= 1, f"idle slot stretches are drawn ({len(idle)})")
    check(len(driver.find_elements(By.CSS_SELECTOR, "svg.timeline polyline.critline")) <= 1, "one line joins the path")
    summary = driver.find_element(By.ID, "timeline-summary").text
    check("slots busy" in summary and "idle" in summary, f"the summary says where the time went: {summary!r}")
    shot(driver, "timeline")

    # Messages: two threads (translator -> reviewer query with body <b>look</b>; reviewer -> editor
    # feedback on web 1/3 with a hostile body), both waiting.
    driver.get(f"{BASE}/messages")
    main = driver.find_element(By.TAG_NAME, "main").text
    check("translator → reviewer [query]" in main and "reviewer → editor [feedback]" in main, f"the messages page shows the threads: {main!r}")
    totals = driver.find_element(By.ID, "totals").text
    check("per sender: reviewer 1 · translator 1" in totals, f"totals per sender: {totals!r}")
    check("per type: feedback 1 · query 1" in totals, f"totals per type: {totals!r}")
    bodies = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "pre.body")]
    check('{"text":"<b>look</b>"}' in bodies and '{"text":"<img src=x onerror=alert(3)> fix item i5"}' in bodies,
          f"the bodies show as text: {bodies!r}")
    check(len(driver.find_elements(By.CSS_SELECTOR, "main img, main pre b")) == 0, "no markup from a body")
    no_alert(driver, "the messages page")
    shot(driver, "messages")

    def summary():
        e = driver.find_element(By.ID, "msg-summary")
        return int(e.get_attribute("data-matching")), int(e.get_attribute("data-threads"))

    def choose(select_id, value, expect_in_url):
        Select(driver.find_element(By.ID, select_id)).select_by_value(value)
        WebDriverWait(driver, 10, poll_frequency=0.05).until(lambda d: expect_in_url in d.current_url)

    choose("f-agent", "editor", "agent=editor")
    check(summary() == (1, 1), f"agent=editor leaves its one message and thread: {summary()}")
    check("reviewer → editor" in driver.find_element(By.TAG_NAME, "main").text, "the feedback thread")
    driver.get(f"{BASE}/messages")
    choose("f-type", "query", "type=query")
    check(summary() == (1, 1) and "translator → reviewer" in driver.find_element(By.TAG_NAME, "main").text, f"type=query: {summary()}")
    driver.get(f"{BASE}/messages")
    choose("f-run", "web", "run=web")
    check(summary() == (1, 1) and "reviewer → editor" in driver.find_element(By.TAG_NAME, "main").text, f"run=web: {summary()}")
    driver.get(f"{BASE}/messages")
    choose("f-state", "waiting", "state=waiting")
    check(summary() == (2, 2), f"state=waiting: both threads wait: {summary()}")
    driver.get(f"{BASE}/messages")
    q = driver.find_element(By.ID, "f-q")
    q.send_keys("FIX ITEM")
    q.submit()
    WebDriverWait(driver, 10, poll_frequency=0.05).until(lambda d: "q=FIX+ITEM" in d.current_url)
    check(summary() == (1, 1) and "reviewer → editor" in driver.find_element(By.TAG_NAME, "main").text, f"text filter on the body: {summary()}")
    check(driver.find_element(By.ID, "f-q").get_attribute("value") == "FIX ITEM", "the filter stays in its field")
    shot(driver, "messages-filtered")
    driver.get(f"{BASE}/messages?agent=nobody")
    check(summary() == (0, 0) and "no message matches" in driver.find_element(By.TAG_NAME, "main").text, "an agent with no messages: none")

    driver.get(f"{BASE}/events")
    wait_live(driver)
    rows = driver.find_elements(By.CSS_SELECTOR, "#events tbody tr")
    check(len(rows) == len(records()) or len(rows) == 1000, f"the events page lists the log ({len(rows)} rows)")
    driver.find_element(By.ID, "f-event").send_keys("control.applied")
    visible = [r for r in driver.find_elements(By.CSS_SELECTOR, "#events tbody tr") if r.is_displayed()]
    check(len(visible) == 1, f"the event filter leaves the one control.applied ({len(visible)})")
    shot(driver, "events")

    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    check(not problems, f"no console errors or CSP violations: {problems}")
    print("OK", flush=True)
finally:
    driver.quit()
