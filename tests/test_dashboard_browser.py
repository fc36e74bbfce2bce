"""The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium) against a live server on the demo data: the token login, every page, the user page
against GetTopN, a rating through the API showing up as a RECOMPUTED list, and the retrain.

Screenshots go to $MOVIEREC_ARTIFACTS/dashboard (default var/test-artifacts/dashboard); the
pictures in docs/dashboard.md are copies of them. scripts/test sets MOVIEREC_REQUIRE_BROWSER=1,
so a missing browser fails CI instead of skipping these tests.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from rec_service.app.config import PROJECT_ROOT
from rec_service.app.service import Service

from .conftest import second_server

TOKEN = "browser-test-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("MOVIEREC_ARTIFACTS", PROJECT_ROOT / "var" / "test-artifacts"))
USER = "1"  # a demo user with a precomputed list
MOVIE = "1"  # Toy Story (1995)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        message = "Debian's chromium and chromium-driver are needed (scripts/install)"
        if os.environ.get("MOVIEREC_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1280,1500", "--no-first-run", "--disable-extensions",
    ):  # fmt: skip
        options.add_argument(arg)
    # An explicit driver path: Selenium Manager is not asked to download anything.
    driver = webdriver.Chrome(options=options, service=ChromeService(CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def live(
    demo_state: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, grpc.Channel]]:
    """A server on the demo model with the dashboard on; yields its base URL and a channel."""
    with (
        second_server(
            demo_state, tmp_path_factory.mktemp("dashboard"),
            admin_token=TOKEN, dashboard_port=0, retrain_interval_s=0,
            retrain_after_ratings=0, active_users=100, tuning_enabled=False,
        ) as (state, port),
        grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):  # fmt: skip
        yield f"http://127.0.0.1:{state.dashboard_port}", channel


@pytest.fixture()
def signed_in(browser: WebDriver, live: tuple[str, grpc.Channel]) -> tuple[str, grpc.Channel]:
    """The live server with the browser signed in to its dashboard (each test on its own: the
    order of the tests does not matter)."""
    url, _ = live
    browser.delete_all_cookies()
    sign_in(browser, url, TOKEN)
    assert browser.current_url == f"{url}/"
    return live


def shot(browser: WebDriver, name: str) -> None:
    folder = ARTIFACTS / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(folder / f"{name}.png"))


def submit(browser: WebDriver, button_id: str) -> None:
    """Clicks a form's button and waits for the page the form leads to.

    The old page is marked with a window property that a new document does not have. Waiting for
    an element of the old page to go stale is not enough: while a page is being replaced Chrome
    can answer "node does not belong to the document" instead of "stale" (a CI failure)."""
    browser.execute_script("window.movierecLeaving = true")
    browser.find_element(By.ID, button_id).click()
    WebDriverWait(browser, 120, ignored_exceptions=(WebDriverException,)).until(_on_a_new_page)


def _on_a_new_page(browser: WebDriver) -> bool:
    return bool(
        browser.execute_script(
            "return window.movierecLeaving === undefined && document.readyState === 'complete'"
        )
    )


def sign_in(browser: WebDriver, url: str, token: str) -> None:
    browser.get(f"{url}/login")
    browser.find_element(By.ID, "token").send_keys(token)
    submit(browser, "sign-in")


def text(browser: WebDriver, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def settled_text(browser: WebDriver, element_id: str) -> str:
    """The element's text, read again if the page reloaded itself while it was being read (stale,
    missing or "not in the document" while the page is replaced: all WebDriverExceptions)."""
    for _ in range(20):
        try:
            return text(browser, element_id)
        except WebDriverException:
            time.sleep(0.5)
    return text(browser, element_id)


def shown_top_n(browser: WebDriver) -> list[str]:
    return [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#top-n a.movie-id")]


def test_a_wrong_token_is_refused(browser: WebDriver, live: tuple[str, grpc.Channel]) -> None:
    url, _ = live
    browser.delete_all_cookies()
    sign_in(browser, url, "not-the-token")
    assert "wrong" in text(browser, "error")
    shot(browser, "login-refused")
    browser.get(f"{url}/user?id={USER}")
    assert browser.current_url == f"{url}/login"  # every page still asks for the token


def test_the_overview_shows_the_serving_model(
    browser: WebDriver, signed_in: tuple[str, grpc.Channel]
) -> None:
    _, channel = signed_in
    info = apb_grpc.AdminServiceStub(channel).GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)
    shot(browser, "overview-model")
    assert text(browser, "model-version") == info.model_version
    assert text(browser, "user-count") == f"{info.user_count:,}"
    assert "fresh" in text(browser, "freshness")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart")


def test_the_overview_charts_answers_and_ingestion_over_the_last_minutes(
    browser: WebDriver, signed_in: tuple[str, grpc.Channel]
) -> None:
    url, channel = signed_in
    stub = pb_grpc.RecommendationServiceStub(channel)
    deadline = time.monotonic() + 60
    while True:  # traffic until the sampler (every 5 s) has two samples that saw some
        for user in ("2", "3", "4", "chart-user"):
            stub.GetTopN(pb.GetTopNRequest(user_id=user, page_size=5))
        stub.IngestRatings(
            iter([pb.IngestRatingsRequest(
                events=[pb.RatingEvent(user_id="chart-user", movie_id="1", rating=4.0)]
            )])
        )  # fmt: skip
        browser.get(f"{url}/")
        lines = browser.find_elements(By.CSS_SELECTOR, "#sources-chart polyline")
        if lines and browser.find_elements(By.CSS_SELECTOR, "#ingest-chart polyline"):
            break
        assert time.monotonic() < deadline, "the overview drew no answer or ingestion chart"
        time.sleep(2)
    assert len(lines) == 4  # one line per GetTopN source
    shot(browser, "overview")


def test_the_user_page_matches_get_top_n_and_shows_a_rating_recomputed(
    browser: WebDriver, signed_in: tuple[str, grpc.Channel]
) -> None:
    url, channel = signed_in
    stub = pb_grpc.RecommendationServiceStub(channel)
    expected = stub.GetTopN(pb.GetTopNRequest(user_id=USER, page_size=10))
    browser.get(f"{url}/user?id={USER}")
    shot(browser, "user")
    assert shown_top_n(browser) == [m.movie_id for m in expected.movies]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#ratings tr")) > 1

    rated = expected.movies[0].movie_id
    answer = stub.IngestRatings(
        iter([pb.IngestRatingsRequest(
            events=[pb.RatingEvent(user_id=USER, movie_id=rated, rating=4.5)]
        )])
    )  # fmt: skip
    assert answer.accepted_count == 1
    browser.refresh()
    shot(browser, "user-recomputed")
    assert text(browser, "source") == "RECOMPUTED"
    after = shown_top_n(browser)
    assert rated not in after and len(after) == 10
    assert "since the model" in text(browser, "ratings")  # the new rating is listed

    # A movie rated again since the model is listed once, as rated last; times are in UTC.
    again = next(
        row.find_elements(By.TAG_NAME, "td")[0].text
        for row in browser.find_elements(By.CSS_SELECTOR, "#ratings tr")[1:]
        if row.find_elements(By.TAG_NAME, "td")[4].text == "training data"
    )
    stub.IngestRatings(
        iter([pb.IngestRatingsRequest(
            events=[pb.RatingEvent(user_id=USER, movie_id=again, rating=0.5)]
        )])
    )  # fmt: skip
    browser.refresh()
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#ratings tr")[1:]
    ]
    listed = [row for row in rows if row[0] == again]
    assert len(listed) == 1 and listed[0][2] == "0.5" and listed[0][4] == "since the model"
    assert rows and all(row[3].endswith(" UTC") for row in rows)


def test_the_movie_page_shows_its_facts_and_similar_movies(
    browser: WebDriver, signed_in: tuple[str, grpc.Channel]
) -> None:
    url, channel = signed_in
    similar = pb_grpc.RecommendationServiceStub(channel).GetSimilarMovies(
        pb.GetSimilarMoviesRequest(movie_id=MOVIE, page_size=10)
    )
    browser.get(f"{url}/movie?id={MOVIE}")
    shot(browser, "movie")
    assert text(browser, "title") == "Toy Story (1995)"
    assert "Animation" in text(browser, "genres")
    assert int(text(browser, "rating-count").replace(",", "")) > 200
    ids = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#similar td:first-child a")]
    assert ids == [m.movie_id for m in similar.movies]
    browser.get(f"{url}/movie?id=no-such-movie")
    assert "not in the catalogue" in text(browser, "error")


def test_the_sql_box_runs_a_query_and_keeps_the_rpcs_limits(
    browser: WebDriver, signed_in: tuple[str, grpc.Channel]
) -> None:
    url, _ = signed_in
    browser.get(f"{url}/sql")
    box = browser.find_element(By.ID, "sql")
    box.send_keys("SELECT genres, count(*) AS movies FROM movies GROUP BY genres ORDER BY 2 DESC")
    rows = browser.find_element(By.ID, "max-rows")
    rows.clear()
    rows.send_keys("5")
    submit(browser, "run")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result tr")) == 1 + 5
    shot(browser, "sql")
    box = browser.find_element(By.ID, "sql")
    box.clear()
    box.send_keys("SELECT * FROM parquet.`/etc`")
    submit(browser, "run")
    assert "INVALID_ARGUMENT" in text(browser, "error")


def test_a_retrain_is_started_and_watched_to_its_end(
    browser: WebDriver, signed_in: tuple[str, grpc.Channel]
) -> None:
    url, _ = signed_in
    browser.get(f"{url}/retrain")
    submit(browser, "trigger")
    assert settled_text(browser, "state") in ("RUNNING", "SUCCEEDED")
    shot(browser, "retrain-running")
    deadline = time.monotonic() + 600
    while (state := settled_text(browser, "state")) == "RUNNING":  # the page reloads itself
        assert time.monotonic() < deadline, "the retrain did not finish"
        time.sleep(2)
    assert state == "SUCCEEDED"
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "1"
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart")  # its stage times
    shot(browser, "retrain")
