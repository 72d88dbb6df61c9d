"""The web view in a real browser: headless Chromium driven through WebDriver (selenium).

Run by ui.rs with: URL APP ADMINSH SHOTS SECRETS...
It starts the backfill from the scripts page (a dry run unless unticked), watches its progress
advance, pauses it from the page, checks that `adminsh --runs` agrees, resumes it and sees it
finish; no page ever holds a secret; screenshots of the main pages go to SHOTS. Prints the two
run ids as JSON on success; an assertion stops it with a traceback otherwise.
"""

import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, APP, ADMINSH, SHOTS = sys.argv[1:5]
SECRETS = sys.argv[5:]
BASE = URL.split("/?", 1)[0]
PATIENCE = 60


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(driver, what, probe):
    """Polls probe until it returns something true; fails naming what was awaited."""
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            seen = probe()
            if seen:
                return seen
        except Exception as error:  # an element not there yet
            seen = error
        if time.monotonic() > deadline:
            page = driver.find_element(By.TAG_NAME, "body").text[:2000]
            raise AssertionError(
                f"gave up waiting for {what}; last seen: {seen!r} at {driver.current_url}:\n{page}")
        time.sleep(0.1)


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def no_secret(driver):
    html = driver.page_source
    for secret in SECRETS:
        assert secret not in html, f"{driver.current_url} shows a secret"


def shot(driver, name):
    no_secret(driver)
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def start_backfill(driver):
    driver.get(BASE + "/scripts")
    form = driver.find_element(By.CSS_SELECTOR, "#script-backfill form")
    token = form.find_element(By.NAME, "p.api_token")
    assert token.get_attribute("type") == "password"
    token.send_keys(SECRETS[0])
    reason = form.find_element(By.NAME, "reason")
    assert reason.get_attribute("required") is not None, "the manifest requires a reason"
    reason.send_keys("ticket 812")
    dry_run = form.find_element(By.NAME, "dry_run")
    assert dry_run.is_selected(), "a dry run is the default"
    shot(driver, "scripts")
    dry_run.click()
    form.find_element(By.TAG_NAME, "button").click()
    wait(driver, "the new run's page", lambda: "/runs/backfill-" in driver.current_url)
    return driver.current_url.rsplit("/", 1)[1]


def main():
    driver = browser()
    try:
        driver.get(URL)
        wait(driver, "the runs page, the token gone from the address",
             lambda: driver.current_url == BASE + "/runs")
        run = start_backfill(driver)
        done = lambda: int(text(driver, "done") or "0")
        first = wait(driver, "progress", done)
        wait(driver, "the progress to advance", lambda: done() > first)
        wait(driver, "the walk to hold at 301", lambda: os.path.exists(os.path.join(APP, "at-301")))
        wait(driver, "the output", lambda: "the key is" in text(driver, "output"))
        assert "the key is ****" in text(driver, "output")
        shot(driver, "run-progress")
        driver.find_element(By.ID, "pause").click()
        wait(driver, "the run to be pausing", lambda: text(driver, "status").startswith("pausing"))
        os.remove(os.path.join(APP, "hold"))
        wait(driver, "the run to be paused", lambda: text(driver, "status") == "paused")
        wait(driver, "the resume button", lambda: driver.find_elements(By.ID, "resume"))
        wait(driver, "the step paused", lambda: text(driver, "steps").startswith("backfill: paused"))
        shot(driver, "run-paused")
        runs = subprocess.run([ADMINSH, "-C", APP, "--runs"], capture_output=True, text=True, check=True).stdout
        row = next(line for line in runs.splitlines() if line.startswith(run))
        assert row.split()[1:3] == ["paused", "148"], row
        driver.find_element(By.ID, "resume").click()
        wait(driver, "the resumed run's page", lambda: driver.current_url.rsplit("/", 1)[1] not in ("", run))
        resumed = driver.current_url.rsplit("/", 1)[1]
        wait(driver, "the resumed run to finish", lambda: text(driver, "status") == "succeeded")
        wait(driver, "its whole output", lambda: "done: 1000" in text(driver, "output"))
        assert "resuming after id = 310" in text(driver, "output")
        shot(driver, "run-finished")
        driver.get(BASE + "/runs")
        shot(driver, "runs")
        driver.get(BASE + "/audit?outcome=paused")
        rows = driver.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
        assert len(rows) == 1 and "backfill" in rows[0].text, [r.text for r in rows]
        driver.get(BASE + "/audit")
        shot(driver, "audit")
        print(json.dumps({"run": run, "resumed": resumed}))
    finally:
        driver.quit()


main()
