"""`churn report` end to end: a trained champion, the HTML page, MLflow, and a real browser."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from churn.train import train
from tests.conftest import churn, featured_world, train_config

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = ["headline", "risk-value", "why", "drivers", "call-list", "quality", "lineage"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-drivers.ipynb"


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A small world, a trained champion and its report, all in a temporary folder."""
    root = tmp_path_factory.mktemp("report")
    data = featured_world(
        root / "data", 1500, 7, "2025-06-30", "cutoffs.start=2024-01-01", "cutoffs.end=2025-06-01"
    )
    _, objects = train(train_config(data, root, "model.estimator.n_estimators=60"))
    uri = f"sqlite:///{root}/mlflow.db"
    out = churn(
        "report",
        f"paths.data_dir={data}",
        f"paths.reports_dir={root}/reports",
        f"mlflow.tracking_uri={uri}",
        "report.call_list_rows=10",
    )
    assert out.returncode == 0, out.stderr
    return root / "reports" / "retention_report.html", objects, uri


def test_report_has_every_section_in_order_with_lineage(reported):
    path, objects, _ = reported
    html = path.read_text()
    positions = [html.index(f'<section id="{s}">') for s in SECTIONS]
    assert positions == sorted(positions)
    assert objects["run_id"] in html and f"<code>{objects['model_version']}</code>" in html
    assert "2025-06-01" in html  # the data cutoff scored
    call_list = html[html.index('id="call-list"') : html.index('id="quality"')]
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
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "retention_report.png"), full_page=True)
        browser.close()
    assert len(images) >= 8
    assert all(ok for _, ok in images), [alt for alt, ok in images if not ok]
    assert errors == []


def test_drivers_notebook_runs_against_the_champion(reported, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    path, _, uri = reported
    monkeypatch.setenv("CHURN_DATA_DIR", str(path.parents[1] / "data"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    reasons = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert "reason_1" in reasons
