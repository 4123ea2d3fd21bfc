"""The query editor in a real browser: headless Chromium over `kg serve`, offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from kg.saved_queries import load_catalog
from server.assets import ASSETS, NODE_MODULES, assets_installed

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: The example the tests run, and the row of it they look for.
EXAMPLE = "military-events-timeline"
SOLEIMANI = "Killing of Qassem Soleimani"
#: The cells of the results table on the tab on show (column 0 is YASR's row number).
RESULT_CELLS = ".tabPanel.active .yasr table.dataTable tbody tr td"
#: What Chromium sends when it opens a page.
CHROME_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
                 "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
#: Chromium's own switches that keep it off the network and out of the shared profile.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--disable-quic",
         # The date test types in the US order (mm/dd/yyyy) a date input takes in en-US.
         "--lang=en-US")


def _require_assets() -> None:
    # Fail, never skip: a green run must mean the editor was tested.
    if not assets_installed():
        pytest.fail(f"the YASGUI files are missing from {NODE_MODULES}: run `npm ci` in "
                    f"{REPO}", pytrace=False)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, logging the console and the network."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not found: install Chromium and its driver "
                    "with `apt-get install -y chromium chromium-driver`", pytrace=False)
    _require_assets()
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # An explicit driver path: Selenium Manager would otherwise look for one on the internet.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, css: str, timeout: float = 30) -> WebElement:
    """The first element matching `css` once it is visible."""
    wait = WebDriverWait(driver, timeout)
    element: WebElement = wait.until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css)))
    return element


def take_log(driver: WebDriver, kind: str) -> list[dict[str, Any]]:
    """Chromium's `browser` (console) or `performance` (network) log since the last take."""
    # Selenium leaves get_log untyped.
    entries: list[dict[str, Any]] = driver.get_log(kind)  # type: ignore[no-untyped-call]
    return entries


def _open_editor(driver: WebDriver, live_server: str) -> None:
    driver.get(live_server + "/sparql")
    # A page the browser did not render (e.g. an RDF answer it downloaded) leaves the tab where
    # it was: say so, rather than time out waiting for the editor.
    assert driver.title == "crisiskg SPARQL endpoint", (
        f"{live_server}/sparql did not open as the editor page in Chromium; the tab shows "
        f"{driver.current_url!r}, titled {driver.title!r}")
    wait_for(driver, "#editor-ui .yasqe")
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return window.crisiskgEditor !== undefined"))


def _run_example(driver: WebDriver, name: str) -> list[list[str]]:
    """Choose an example and return the rows of its results table, row numbers dropped."""
    Select(driver.find_element(By.ID, "examples")).select_by_value(name)
    wait_for(driver, RESULT_CELLS)
    rows = driver.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr table.dataTable tbody tr")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")][1:] for row in rows]


def _expected_rows(live_server: str, name: str) -> list[dict[str, str]]:
    """The example's answer from the endpoint itself, to compare the table against."""
    text = (REPO / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    response = requests.post(f"{live_server}/sparql", data={"query": text}, timeout=30,
                             headers={"Accept": "application/sparql-results+json"})
    response.raise_for_status()
    return [{var: term["value"] for var, term in binding.items()}
            for binding in response.json()["results"]["bindings"]]


def test_an_example_runs_in_the_editor_and_shows_its_rows(browser: WebDriver,
                                                          live_server: str) -> None:
    expected = _expected_rows(live_server, EXAMPLE)
    soleimani = next(row for row in expected if row["label"] == SOLEIMANI)
    assert soleimani["earliest"] == "2020-01-03"
    _open_editor(browser, live_server)
    tabs_before = len(browser.find_elements(By.CSS_SELECTOR, ".tabsList .tab"))

    rows = _run_example(browser, EXAMPLE)

    assert len(browser.find_elements(By.CSS_SELECTOR, ".tabsList .tab")) == tabs_before + 1
    # The table shows every row, in the endpoint's order.
    assert len(rows) == len(expected)
    shown = rows[expected.index(soleimani)]
    assert SOLEIMANI in shown[1]
    assert any("2020-01-03" in cell for cell in shown)
    # The download links follow the tab on show.
    csv = browser.find_element(By.CSS_SELECTOR, '#downloads a[data-format="csv"]')
    answer = requests.get(str(csv.get_attribute("href")), timeout=30)
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert SOLEIMANI in answer.text


def test_the_editor_stays_on_loopback_and_logs_no_errors(browser: WebDriver,
                                                        live_server: str) -> None:
    # Reading the logs empties them: what follows is this page's alone.
    take_log(browser, "browser")
    take_log(browser, "performance")
    _open_editor(browser, live_server)
    _run_example(browser, EXAMPLE)

    requested = set()
    for entry in take_log(browser, "performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.add(message["params"]["request"]["url"])
    assert requested, "the performance log recorded no requests"
    outside = {url for url in requested
               if urlsplit(url).scheme not in ("data", "blob")
               and urlsplit(url).hostname != "127.0.0.1"}
    assert not outside
    assert f"{live_server}/assets/yasgui.min.js" in requested
    errors = [entry for entry in take_log(browser, "browser") if entry["level"] == "SEVERE"]
    assert not errors


def test_assets_are_served_from_an_allow_list(live_server: str) -> None:
    _require_assets()
    script = requests.get(f"{live_server}/assets/yasgui.min.js", timeout=30)
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=" in script.headers["Cache-Control"]
    revalidated = requests.get(f"{live_server}/assets/yasgui.min.js", timeout=30,
                               headers={"If-None-Match": script.headers["ETag"]})
    assert revalidated.status_code == 304
    style = requests.get(f"{live_server}/assets/yasgui.min.css", timeout=30)
    assert style.headers["Content-Type"].startswith("text/css")
    for path in ("/assets/package.json", "/assets/../pyproject.toml",
                 "/assets/%2e%2e%2fpyproject.toml", "/assets/yasgui.min.js.map"):
        assert requests.get(live_server + path, timeout=30).status_code == 404, path


def test_a_missing_asset_says_to_run_npm_ci(client: FlaskClient, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ASSETS, "yasgui.min.js", (tmp_path / "absent.js", "text/javascript"))
    response = client.get("/assets/yasgui.min.js")
    assert response.status_code == 404
    assert "run `npm ci` in the project folder" in response.get_json()["message"]
    # The page falls back to the plain form, and says why.
    page = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "/assets/" not in page
    assert "<code>npm ci</code>" in page
    assert '<textarea id="query" name="query"' in page


def test_chromes_navigation_accept_header_gets_the_editor(client: FlaskClient) -> None:
    # Chromium's own header: its `application/signed-exchange;v=b3;q=0.7` has a parameter, so
    # Werkzeug's `accept_mimetypes.best` ranks it first, and the page must not rely on that.
    response = client.get("/sparql", headers={"Accept": CHROME_ACCEPT})
    assert response.mimetype == "text/html"


def test_a_saved_query_s_form_is_filled_and_its_result_read(browser: WebDriver,
                                                             live_server: str) -> None:
    """Fill a saved query's form as a researcher would (a date picker, then Run) and read
    the rows the page renders."""
    browser.get(f"{live_server}/queries/events-between-dates")
    for field, day in (("p-from", "01/03/2020"), ("p-to", "01/03/2020")):
        date_input = wait_for(browser, f"#{field}")
        date_input.clear()
        date_input.send_keys(day)  # a date input takes keystrokes in the browser's locale
    browser.find_element(By.ID, "run").click()
    # The page shows the defaults' rows before Run: wait for the new page, not just for rows.
    WebDriverWait(browser, 30).until(lambda b: urlsplit(b.current_url).query)
    wait_for(browser, "#results tbody tr")
    assert urlsplit(browser.current_url).query == "from=2020-01-03&to=2020-01-03"
    # Each label cell: the label's text, then a note of its language.
    first_text = "return arguments[0].firstChild.textContent.trim()"
    labels = sorted(browser.execute_script(first_text, cell) for cell in
                    browser.find_elements(By.CSS_SELECTOR, "#results tbody td:nth-child(2)"))
    # The articles date exactly these two events to 3 January 2020.
    assert labels == ["John Bolton’s tweet on Soleimani’s killing", SOLEIMANI]
    assert browser.find_element(By.ID, "permalink").get_attribute("href").startswith(
        f"{live_server}/queries/events-between-dates?from=2020-01-03&to=2020-01-03&version=")


def test_a_bad_value_in_the_form_is_explained_beside_it(browser: WebDriver,
                                                        live_server: str) -> None:
    browser.get(f"{live_server}/queries/busiest-actors")
    minimum = wait_for(browser, "#p-minimum")
    minimum.clear()
    minimum.send_keys("2.5")
    # The number input allows only whole numbers: the browser itself stops the form.
    assert browser.execute_script("return arguments[0].checkValidity()", minimum) is False
    browser.get(f"{live_server}/queries/busiest-actors?minimum=many")
    assert wait_for(browser, "#error").text == (
        "parameter 'minimum' must be a whole number, such as 3, not 'many'")


def test_every_saved_query_is_offered_and_one_with_values_opens_its_form(
        browser: WebDriver, live_server: str) -> None:
    _open_editor(browser, live_server)
    offered = [o.get_attribute("value") for o in
               browser.find_elements(By.CSS_SELECTOR, "#examples option") if o.get_attribute(
                   "value")]
    catalog = load_catalog(REPO / "queries").queries
    assert sorted(offered) == sorted(n for n, q in catalog.items() if not q.needs_internet)
    Select(browser.find_element(By.ID, "examples")).select_by_value("events-between-dates")
    WebDriverWait(browser, 30).until(lambda d: "/queries/events-between-dates" in d.current_url)
    assert wait_for(browser, "#p-from").get_attribute("value") == "2020-01-01"


def test_a_resource_page_leads_from_a_fact_to_its_quote_in_the_document(
        browser: WebDriver, live_server: str) -> None:
    take_log(browser, "browser")
    browser.get(f"{live_server}/resource/qassem-soleimani")
    assert browser.title.startswith("Qassem Soleimani")
    # The first quote backing a fact, highlighted in its sentence.
    quote = wait_for(browser, "blockquote.quote")
    exact = quote.find_element(By.TAG_NAME, "mark").text
    assert exact
    quote.find_element(By.CSS_SELECTOR, "cite a").click()
    # The document page opens at the quote, marked in the text.
    WebDriverWait(browser, 30).until(lambda d: "?quote=" in d.current_url)
    wait_for(browser, "#text mark")
    # Marked piece by piece: mentions inside the quote keep their own links.
    marked = browser.find_elements(By.CSS_SELECTOR, "#text mark")
    assert "".join(m.text for m in marked) == exact
    assert browser.execute_script(
        "const r = document.querySelector('#text mark').getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight;"), "the quote is not scrolled to"
    # Mentions in the text link to their entities; one leads back to an entity page.
    mention = browser.find_element(By.CSS_SELECTOR, "#text a.mention")
    target = str(mention.get_attribute("href"))
    assert target.startswith(f"{live_server}/resource/")
    mention.click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url == target)
    wait_for(browser, "h1")
    errors = [entry for entry in take_log(browser, "browser") if entry["level"] == "SEVERE"]
    assert not errors
