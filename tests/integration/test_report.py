"""`churn report` end to end: a trained champion, the HTML page, MLflow, and a real browser."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import churn

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("report")]  # one report
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = [
    "headline",
    "risk-value",
    "why",
    "drivers",
    "call-list",
    "changes",
    "outcomes",
    "quality",
    "lineage",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-drivers.ipynb"


@pytest.fixture(scope="module")
def reported(small_trained_world, tmp_path_factory):
    """The shared small world's champion and its report, written into a folder of its own."""
    world = small_trained_world
    folder = tmp_path_factory.mktemp("report")
    reports, scores = folder / "reports", folder / "scores"
    scores.mkdir()
    shutil.copy(Path(world["data"]) / "warehouse.duckdb", scores / "warehouse.duckdb")
    for as_of in ("2025-05-01", "2025-06-01"):  # two weeks: what changed between them
        out = churn(
            "score",
            f"paths.data_dir={world['data']}",
            f"paths.scores_dir={scores}",
            f"mlflow.tracking_uri={world['uri']}",
            f"warehouse.path={scores}/warehouse.duckdb",
            f"score.as_of={as_of}",
        )
        assert out.returncode == 0, out.stderr
    out = churn(  # both lists' label windows have closed by the data's last day
        "outcomes",
        f"paths.data_dir={world['data']}",
        f"paths.scores_dir={scores}",
        f"paths.outcomes_dir={folder / 'outcomes'}",
        f"mlflow.tracking_uri={world['uri']}",
        f"warehouse.path={scores}/warehouse.duckdb",
        "outcomes.log_to_mlflow=false",  # the shared world's run stays as trained
    )
    assert out.returncode == 0, out.stderr
    out = churn(
        "report",
        f"paths.data_dir={world['data']}",
        f"paths.reports_dir={reports}",
        f"paths.scores_dir={scores}",
        f"paths.outcomes_dir={folder / 'outcomes'}",
        f"mlflow.tracking_uri={world['uri']}",
        "report.call_list_rows=10",
    )
    assert out.returncode == 0, out.stderr
    return reports / "retention_report.html", world["churn"], world["uri"]


def test_report_has_every_section_in_order_with_lineage(reported):
    path, objects, _ = reported
    html = path.read_text()
    positions = [html.index(f'<section id="{s}">') for s in SECTIONS]
    assert positions == sorted(positions)
    assert objects["run_id"] in html and f"<code>{objects['model_version']}</code>" in html
    assert "2025-06-01" in html  # the data cutoff scored
    call_list = html[html.index('id="call-list"') : html.index('id="changes"')]
    assert call_list.count("<tr><td>") == 10
    assert re.search(r"\(\+\d+ pts risk\)", call_list)
    assert "http://" not in html and "https://" not in html  # opens with no network


def test_report_embeds_its_plots_and_is_logged_with_the_run(reported):
    path, objects, uri = reported
    html = path.read_text()
    images = re.findall(r'<img alt="[^"]*" src="([^"]*)"', html)
    assert len(images) >= 8 and all(src.startswith("data:image/png;base64,") for src in images)
    mlflow.set_tracking_uri(uri)
    logged = [a.path for a in MlflowClient().list_artifacts(objects["run_id"], "report")]
    assert logged == ["report/retention_report.html"]


def test_report_without_a_model_says_how_to_get_one(tmp_path):
    out = churn(
        "report",
        f"paths.data_dir={tmp_path}",
        f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db",
    )
    assert out.returncode == 2
    assert "make train" in out.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.browser
def test_report_renders_in_headless_chromium(reported):
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        if os.environ.get("CHURN_REQUIRE_BROWSER"):
            pytest.fail("CHURN_REQUIRE_BROWSER is set but chromium is not installed")
        pytest.skip("needs Debian's chromium (apt-get install chromium; .ci/run installs it)")
    path, _, _ = reported
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
        page.goto(path.as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])"
        )
        segments = page.locator("#value-segments tr").all_inner_texts()
        jumps = page.locator("#risk-jumps tr").all_inner_texts()
        playbook = page.locator("#playbook tr").all_inner_texts()
        arms = page.locator("#outcome-arms tr").all_inner_texts()
        headline = page.locator("#outcome-headline").inner_text()
        outcome_plot = page.locator("#outcome-plot-arms").bounding_box()
        value_plot = page.locator("#value-plot").bounding_box()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "retention_report.png"), full_page=True)
        browser.close()
    assert len(images) >= 11
    assert all(ok for _, ok in images), [alt for alt, ok in images if not ok]
    assert errors == []
    # value segments by CLV, and predicted against realized value, are drawn on the page
    assert len(segments) >= 3 and "high performance" in " ".join(segments)
    assert value_plot is not None and value_plot["width"] > 300
    # what changed this week: the biggest risk jumps with their reason, and the playbook
    assert len(jumps) >= 2 and "since 2025-05-01" in jumps[1]
    assert any("senior agent call, resolve within 48 h" in row for row in playbook)
    # did last month's calls work: the groups of the latest measured list, with the pictures
    assert [row.split("\t")[0] for row in arms] == ["group", "call", "control", "none"]
    assert "held out" in headline and "2025-06-01" in path.read_text()
    assert outcome_plot is not None and outcome_plot["height"] > 50
    assert any(alt == "outcomes: arms" for alt, _ in images)


def test_drivers_notebook_runs_against_the_champion(reported, small_trained_world, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    path, _, uri = reported
    monkeypatch.setenv("CHURN_DATA_DIR", small_trained_world["data"])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    reasons = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert "reason_1" in reasons
