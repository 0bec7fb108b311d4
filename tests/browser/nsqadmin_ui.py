"""Drive nsqadmin's web UI in headless Chromium (selenium), against a real cluster.

Usage: nsqadmin_ui.py <json config>

The config (one JSON argument, written by tests/nsqadmin_browser.rs) holds:
  admin         nsqadmin's base URL, e.g. "http://127.0.0.1:4171/"
  nsqd          the HTTP addresses of the nsqd (host:port), the first one has the consumer
  topic, channel, client_id, user_agent   what the Rust side set up
  inactive      a topic nsqlookupd knows that no nsqd has (the Lookup page lists it)
  chromium, chromedriver   the browser and its driver
  shots         the directory for one PNG per page

Steps: Streams lists the topic; the Channel page shows the consumer's row; Pause,
confirmed in the page's <dialog>, pauses the channel on nsqd; Empty (confirmed)
brings its depth to 0; while messages keep arriving the topic page's rate is above
zero; every page is photographed. Each wait is bounded (WAIT seconds) and waits
for a condition, never for a fixed time.

Prints one JSON line: {"ok": true, "steps": [...]} or, on failure,
{"ok": false, "step": ..., "error": ..., "console": [...]} (exit 1). The browser's
console must stay free of errors.
"""

import json
import sys
import tempfile
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30  # seconds; generous, only turns a hang into a failure

CFG = json.loads(sys.argv[1])
ADMIN = CFG["admin"] if CFG["admin"].endswith("/") else CFG["admin"] + "/"
TOPIC, CHANNEL = CFG["topic"], CFG["channel"]
steps = []
console = []


# ---------------------------------------------------------------------------
# nsqd, read and written directly (what the UI's actions must have done)

def nsqd_channel(addr):
    """The channel's /stats entry on one nsqd (None when it has no such channel)."""
    url = f"http://{addr}/stats?format=json&topic={TOPIC}&channel={CHANNEL}"
    with urllib.request.urlopen(url, timeout=10) as r:
        stats = json.load(r)
    for t in stats.get("topics") or []:
        for c in t.get("channels") or []:
            if c["channel_name"] == CHANNEL:
                return c
    return None


def publish(addr, n):
    for i in range(n):
        req = urllib.request.Request(f"http://{addr}/pub?topic={TOPIC}", data=b"more %d" % i, method="POST")
        urllib.request.urlopen(req, timeout=10).read()


# ---------------------------------------------------------------------------
# the browser

def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CFG["chromium"]
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='nsqadmin-ui-')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # A driver path given: selenium does not run Selenium Manager (no download).
    return webdriver.Chrome(service=Service(CFG["chromedriver"]), options=options)


def wait(driver, what, condition, timeout=WAIT):
    """Waits until condition(driver) is truthy; stale elements (a part re-rendered) retry."""
    def check(d):
        try:
            return condition(d)
        except StaleElementReferenceException:
            return False
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(check, f"timed out waiting for {what}")


def page_loaded(driver, name):
    """Waits for <main id="page" data-page=name data-loaded="true">."""
    def ok(d):
        main = d.find_element(By.ID, "page")
        return main.get_attribute("data-page") == name and main.get_attribute("data-loaded") == "true"
    wait(driver, f"the {name} page to load", ok)


def open_page(driver, path, name):
    driver.get(ADMIN + path)
    page_loaded(driver, name)


def collect_console(driver):
    for entry in driver.get_log("browser"):
        console.append(entry)


def shot(driver, name):
    driver.save_screenshot(f"{CFG['shots']}/{name}.png")


def no_error_box(driver):
    errors = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".alert-error")]
    assert not errors, f"red error box: {errors}"


def click(driver, css):
    wait(driver, f"{css} to be clickable", lambda d: d.find_element(By.CSS_SELECTOR, css).is_enabled())
    wait(driver, f"a click on {css}", lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)


def confirm(driver, question):
    """Answers Yes in the page's <dialog id="confirm">, after checking its question."""
    dialog = wait(driver, "the confirmation dialog", lambda d: d.find_element(By.CSS_SELECTOR, "dialog#confirm[open]"))
    text = dialog.find_element(By.ID, "confirm-question").text
    assert text == question, f"dialog asks {text!r}, expected {question!r}"
    driver.find_element(By.ID, "confirm-yes").click()
    wait(driver, "the dialog to close", lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog#confirm[open]"))


def total_depth(driver):
    """The Total row's Depth cell of the channel page's per-node table."""
    return driver.find_element(By.CSS_SELECTOR, ".part-nodes tr.total td:nth-child(2)").text.replace(",", "")


# ---------------------------------------------------------------------------
# the steps

def streams(d):
    open_page(d, "", "streams")
    links = [a.text for a in d.find_elements(By.CSS_SELECTOR, "a.topic-link")]
    assert TOPIC in links, f"topic {TOPIC} not in the Streams list {links}"
    no_error_box(d)
    shot(d, "streams")


def topic_page(d):
    # Through the link, as a person would (client-side navigation).
    d.find_element(By.XPATH, f"//a[contains(@class,'topic-link')][text()='{TOPIC}']").click()
    page_loaded(d, "topic")
    assert d.current_url == f"{ADMIN}topics/{TOPIC}", d.current_url
    wait(d, "the channel link", lambda d: d.find_element(By.LINK_TEXT, CHANNEL))
    for series in ["rate", "depth"]:
        d.find_element(By.CSS_SELECTOR, f'svg.sparkline[data-series="{series}"]')
    no_error_box(d)
    shot(d, "topic")


def channel_page(d):
    d.find_element(By.LINK_TEXT, CHANNEL).click()
    page_loaded(d, "channel")

    def client_row(d):
        rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "tr.client")]
        return any(CFG["client_id"] in r and CFG["user_agent"] in r for r in rows)
    wait(d, f"a client row with {CFG['client_id']} and {CFG['user_agent']}", client_row)
    for series in ["rate", "depth", "in_flight"]:
        d.find_element(By.CSS_SELECTOR, f'svg.sparkline[data-series="{series}"]')
    no_error_box(d)
    shot(d, "channel")


def pause(d):
    assert not d.find_elements(By.CSS_SELECTOR, ".part-header span.paused"), "paused before Pause"
    click(d, 'button[data-action="pause"]')
    confirm(d, f"Are you sure you want to pause {TOPIC}/{CHANNEL}?")
    first = CFG["nsqd"][0]
    wait(d, f"nsqd {first} to report the channel paused", lambda d: nsqd_channel(first)["paused"] is True)
    wait(d, "the paused label and the UnPause button", lambda d:
         d.find_elements(By.CSS_SELECTOR, ".part-header span.paused")
         and d.find_elements(By.CSS_SELECTOR, 'button[data-action="unpause"]'))
    no_error_box(d)


def empty(d):
    first = CFG["nsqd"][0]
    before = nsqd_channel(first)["depth"]
    assert before > 0, f"nothing to empty: depth {before} on {first}"
    click(d, 'button[data-action="empty"]')
    confirm(d, f"Are you sure you want to empty {TOPIC}/{CHANNEL}?")
    for addr in CFG["nsqd"]:
        wait(d, f"depth 0 on nsqd {addr}", lambda d, a=addr: (nsqd_channel(a) or {"depth": 0})["depth"] == 0)
    wait(d, "the page's total depth to show 0", lambda d: total_depth(d) == "0")
    no_error_box(d)
    steps.append(f"emptied {before} messages")


def rate(d):
    d.find_element(By.LINK_TEXT, TOPIC).click()  # the breadcrumb
    page_loaded(d, "topic")

    def rate_above_zero(d):
        publish(CFG["nsqd"][0], 5)  # keep messages coming while the sampler watches
        value = d.find_element(By.CSS_SELECTOR, "span.rate-now").get_attribute("data-value")
        return value not in ("", None) and float(value) > 0
    wait(d, "a messages/s rate above 0", rate_above_zero, timeout=60)
    now = d.find_element(By.CSS_SELECTOR, "span.rate-now").text
    assert float(now.replace(",", "")) > 0, f"span.rate-now shows {now!r}"
    assert d.find_elements(By.CSS_SELECTOR, 'svg.sparkline[data-series="rate"] polyline'), "no rate line drawn"
    steps.append(f"rate {now}/s")
    shot(d, "topic")


def nodes(d):
    d.find_element(By.CSS_SELECTOR, '.navbar a[data-section="nodes"]').click()
    page_loaded(d, "nodes")
    links = [a.text for a in d.find_elements(By.CSS_SELECTOR, ".part-list tbody tr td:nth-child(2) a")]
    assert len(links) == len(CFG["nsqd"]), f"nodes listed: {links}"
    no_error_box(d)
    shot(d, "nodes")


def node(d):
    open_page(d, f"nodes/{CFG['nsqd'][0]}", "node")
    wait(d, "the consumer on the node page", lambda d: any(
        CFG["client_id"] in r.text for r in d.find_elements(By.CSS_SELECTOR, "tr.client")))
    no_error_box(d)
    shot(d, "node")


def counter(d):
    d.find_element(By.CSS_SELECTOR, '.navbar a[data-section="counter"]').click()
    page_loaded(d, "counter")
    wait(d, "a counted total", lambda d: int(d.find_element(By.ID, "counter-total").get_attribute("data-value") or 0) > 0)
    no_error_box(d)
    shot(d, "counter")


def lookup(d):
    d.find_element(By.CSS_SELECTOR, '.navbar a[data-section="lookup"]').click()
    page_loaded(d, "lookup")
    wait(d, f"inactive topic {CFG['inactive']} in the tree", lambda d: CFG["inactive"] in d.find_element(By.CSS_SELECTOR, "ul.tree").text)
    assert d.find_elements(By.CSS_SELECTOR, "form#create"), "no create form for an admin"
    no_error_box(d)
    shot(d, "lookup")


def main():
    step = "start the browser"
    driver = None
    try:
        driver = browser()
        for fn in [streams, topic_page, channel_page, pause, empty, rate, nodes, node, counter, lookup]:
            step = fn.__name__
            fn(driver)
            steps.append(step)
            collect_console(driver)
        errors = [e for e in console if e.get("level") == "SEVERE"]
        assert not errors, f"browser console errors: {errors}"
        print(json.dumps({"ok": True, "steps": steps}))
        return 0
    except (AssertionError, WebDriverException, OSError, ValueError) as e:
        if driver is not None:
            try:
                collect_console(driver)
                shot(driver, f"failed-{step}")
            except WebDriverException:
                pass
        why = e.msg if isinstance(e, WebDriverException) else str(e)  # without the driver's stack
        print(json.dumps({"ok": False, "step": step, "error": f"{type(e).__name__}: {why}",
                          "steps": steps, "console": console}))
        traceback.print_exc()
        return 1
    finally:
        if driver is not None:
            driver.quit()


if __name__ == "__main__":
    sys.exit(main())
