"""The dashboard as code (bi_tool/dashboards.py) and its committed bundle, without Superset: fast checks.

- the committed bundle is exactly what the code generates (edit the code, then `make bi-bundle`);
- identities are fixed and unique, the layout shows every chart exactly once and carries each chart's UUID;
- every view column a chart reads is in the dbt contract of its `bi` model, with the same type;
- the bundle holds no secret and no numeric id; Superset is only ever bound to 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import sys
import uuid

import pytest
import yaml

from sharewhy import settings

sys.path.insert(0, str(settings.REPO_ROOT))  # bi_tool/ is a top-level folder, not an installed package

from bi_tool import dashboards, provision  # noqa: E402

BI_TOOL = settings.REPO_ROOT / "bi_tool"
BI_SCHEMA = dashboards.BI_SCHEMA


def committed_bundle() -> dict[str, str]:
    return {
        path.relative_to(dashboards.BUNDLE_DIR).as_posix(): path.read_text()
        for path in sorted(dashboards.BUNDLE_DIR.rglob("*"))
        if path.is_file()
    }


def test_committed_bundle_is_what_the_code_generates(tmp_path):
    dashboards.write(tmp_path)
    generated = {
        path.relative_to(tmp_path).as_posix(): path.read_text()
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file()
    }
    assert committed_bundle() == generated, "bi_tool/bundle/ is stale: run `make bi-bundle` and commit it"


def test_every_object_has_its_own_fixed_uuid():
    uuids = [dashboards.DATABASE_UUID, dashboards.DASHBOARD_UUID]
    uuids += [dataset.uuid for dataset in dashboards.DATASETS] + [chart.uuid for chart in dashboards.CHARTS]
    assert len(set(uuids)) == len(uuids)
    for value in uuids:
        assert str(uuid.UUID(value)) == value
    titles = [chart.title for chart in dashboards.CHARTS]
    assert len(set(titles)) == len(titles)


def test_the_layout_shows_every_chart_once_with_its_uuid():
    position = dashboards.position()
    charts = [item for item in position.values() if isinstance(item, dict) and item.get("type") == "CHART"]
    assert sorted(c["meta"]["uuid"] for c in charts) == sorted(chart.uuid for chart in dashboards.CHARTS)
    for row in (item for item in position.values() if isinstance(item, dict) and item.get("type") == "ROW"):
        assert sum(position[child]["meta"]["width"] for child in row["children"]) <= 12, row["id"]
    for item in position.values():
        if isinstance(item, dict):
            for child in item.get("children", []):
                assert position[child]["parents"][-1] == item["id"]


def test_every_column_a_chart_reads_is_in_the_dbt_contract():
    declared = dashboards.declared_bi_models()
    for dataset in dashboards.DATASETS:
        assert dataset.model in declared, f"no dbt model bi.{dataset.model} in dbt_project/models/bi/*.yml"
        contract = declared[dataset.model]
        for column in dataset.physical_columns():
            assert column.name in contract, f"bi.{dataset.model}.{column.name} is not in the dbt contract"
            assert column.type == contract[column.name], f"bi.{dataset.model}.{column.name}: {contract[column.name]}"
    for chart in dashboards.CHARTS:
        assert chart.columns_used(), chart.title
        assert chart.columns_used() <= set(declared[chart.dataset.model]), chart.title


def test_metrics_and_calculated_columns_name_only_contract_columns():
    declared = dashboards.declared_bi_models()
    for dataset in dashboards.DATASETS:
        expressions = [m.expression for m in dataset.metrics] + [c.expression for c in dataset.columns if c.expression]
        text = " ".join(expressions)
        # a subquery may read the dataset's own view (e.g. its latest complete month), under an alias
        aliases = set(re.findall(rf"\b{BI_SCHEMA}\.{dataset.model}\s+AS\s+([a-z_]+)", text))
        text = re.sub(rf"\b{BI_SCHEMA}\.{dataset.model}\b", " ", text)
        names = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", text)) - aliases
        sql_words = {
            "sum",
            "max",
            "nullif",
            "numeric",
            "case",
            "when",
            "then",
            "else",
            "end",
            "is",
            "null",
            "to_char",
            "fm990",
            "and",
            "or",
            "not",
        }
        literals = set(re.findall(r"'([^']*)'", " ".join(expressions)))
        literal_words = {w for text in literals for w in re.findall(r"\b[a-z_][a-z0-9_]*\b", text.lower())}
        unknown = names - sql_words - set(declared[dataset.model]) - literal_words
        assert not unknown, f"bi.{dataset.model}: {unknown}"


def test_every_chart_has_a_title_a_description_and_a_query():
    for chart in dashboards.CHARTS:
        assert chart.description and len(chart.title) <= 100
        context = dashboards.query_context(chart)
        assert context["queries"] and context["form_data"]["viz_type"] == chart.viz_type


def test_the_bundle_holds_no_secret_and_no_numeric_id():
    files = committed_bundle()
    database = yaml.safe_load(files[dashboards.DATABASE_FILE])
    assert database["sqlalchemy_uri"] == dashboards.PLACEHOLDER_URI
    assert "password" not in database
    assert yaml.safe_load(files["metadata.yaml"])["type"] == "assets"
    for name, text in files.items():
        content = yaml.safe_load(text)
        assert "id" not in content, name
        if name.startswith("charts/"):
            assert content["params"]["datasource"] == "0__table"
            assert json.loads(content["query_context"])["datasource"]["id"] == 0


def test_the_intro_states_the_confidentiality_rule():
    text = dashboards.INTRO_MARKDOWN
    assert "Confidentiality" in text and "5 respondents" in text and "suppressed" in text


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "postgresql://postgres:@/sharewhy?host=/work/.sharewhy/warehouse/pgdata",
            "postgresql+psycopg2://bi_reader@/sharewhy?host=/work/.sharewhy/warehouse/pgdata",
        ),
        (
            "host=/tmp/sock port=5433 dbname=dw user=x password=secret",
            "postgresql+psycopg2://bi_reader@/dw?host=/tmp/sock&port=5433",
        ),
        (
            "postgresql://sharewhy:secret@db.example.internal:5432/sharewhy?sslmode=require",
            "postgresql+psycopg2://bi_reader@db.example.internal:5432/sharewhy?sslmode=require",
        ),
    ],
)
def test_superset_connects_as_bi_reader_without_the_warehouse_credentials(url, expected):
    assert provision.sqlalchemy_uri(url) == expected


def test_superset_is_bound_to_loopback_only():
    sources = "\n".join(path.read_text() for path in BI_TOOL.glob("*.py"))
    assert "0.0.0.0" not in sources
    binds = re.findall(r'"--bind",\s*f"([^"]+)"', (BI_TOOL / "provision.py").read_text())
    assert binds == ["127.0.0.1:{port}"]


def test_screenshots_rewrite_the_readme_images_only_when_asked(tmp_path):
    default = provision.screenshot_paths(None, readme=False)
    assert set(default) == {provision.ADMIN_USER, provision.VIEWER_USER}
    assert all(path.parent == settings.STATE_DIR / "screenshots" for path in default.values())
    chosen = provision.screenshot_paths(tmp_path, readme=False)
    assert chosen[provision.VIEWER_USER] == tmp_path / "dashboard-viewer.png"
    readme = provision.screenshot_paths(None, readme=True)
    text = (settings.REPO_ROOT / "README.md").read_text()
    for path in readme.values():
        assert path.parent == BI_TOOL and f"]({path.relative_to(settings.REPO_ROOT)})" in text


def test_code_run_by_superset_imports_nothing_from_sharewhy():
    for name in ("superset_config.py", "import_assets.py", "screenshot.py"):
        source = (BI_TOOL / name).read_text()
        assert not re.search(r"^\s*(from|import)\s+(sharewhy|bi_tool|expectations)\b", source, re.M), name


def test_the_superset_lock_file_pins_every_package():
    lines = [
        line
        for line in (BI_TOOL / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^\s]+", line) for line in lines), lines
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in lines}
    assert {"apache-superset", "sqlalchemy", "flask-caching", "psycopg2-binary", "selenium"} <= pinned


# --- what the charts say: periods, intervals, whose clicks, filters --------------------------------------------------

MONTH_GRAIN = {dataset.model for dataset in dashboards.DATASETS if dataset.main_dttm_col == "month"}


def _where(chart) -> dict[str, str]:
    """column → operator of the chart's own filters (query and form data must agree)."""
    query = {f["col"]: f["op"] for f in chart.query["filters"] if f["op"] != "TEMPORAL_RANGE"}
    form = {f["subject"]: f["operator"] for f in chart.params["adhoc_filters"] if f["operator"] != "TEMPORAL_RANGE"}
    assert query == form, chart.title
    return query


def test_every_month_grain_view_says_whether_its_month_is_complete():
    for dataset in dashboards.DATASETS:
        if dataset.model in MONTH_GRAIN:
            names = {column.name for column in dataset.columns}
            assert {"is_complete", "days_covered", "period"} <= names, dataset.model


def test_headline_tiles_and_their_comparisons_count_complete_months_only():
    tiles = [chart for chart in dashboards.CHARTS if chart.viz_type.startswith("big_number")]
    assert len(tiles) >= 6
    for tile in tiles:
        assert _where(tile).get("is_complete") == "IS TRUE", tile.title
        assert tile.params["compare_lag"] == 1 and "complete month" in tile.params["subheader"], tile.title


def test_monthly_charts_label_a_partial_month_or_leave_it_out():
    """A chart over a month-grain view either shows months through `period` ('… (partial: N days)') or keeps
    complete months only (or the latest complete one)."""
    partial = dashboards.PERIOD_EXPRESSION
    assert "partial" in partial and "days_covered" in partial and "is_complete" in partial
    for chart in dashboards.CHARTS:
        if chart.dataset.model not in MONTH_GRAIN:
            continue
        shows_months = "month" in chart.columns_used() or "period" in json.dumps(chart.queries)
        where = _where(chart)
        labelled = "period" in json.dumps([q["columns"] for q in chart.queries])
        only_complete = where.get("is_complete") == "IS TRUE" or where.get("is_latest_complete_month") == "IS TRUE"
        assert not shows_months or labelled or only_complete, chart.title
        if not only_complete:
            grouped = json.dumps([q["columns"] for q in chart.queries])
            assert '"month"' not in grouped, f"{chart.title}: group by `period`, which marks a partial month"


def test_the_lift_chart_draws_each_interval_as_a_bar_with_a_line_at_one():
    chart = next(c for c in dashboards.CHARTS if c.title == dashboards.LIFT_TITLE)
    assert chart.viz_type == "mixed_timeseries"
    bars, markers = chart.queries
    assert chart.params["seriesType"] == "bar" and chart.params["stack"] == "Stack"
    assert chart.params["seriesTypeB"] == "scatter" and chart.params["show_valueB"]
    below, width = (chart.dataset.metric(name) for name in bars["metrics"])
    assert below.expression == "MAX(engagement_rate_lift_lower)"
    assert width.expression == "MAX(engagement_rate_lift_upper) - MAX(engagement_rate_lift_lower)"
    assert dashboards.LABEL_COLORS[below.name] == "rgba(0, 0, 0, 0)"  # the visible bar starts at the lower end
    assert dashboards.LABEL_COLORS[width.name] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert [chart.dataset.metric(name).expression for name in markers["metrics"]] == ["MAX(engagement_rate_lift)"]
    [line] = chart.params["annotation_layers"]
    assert line["annotationType"] == "FORMULA" and line["value"] == "1" and line["show"]
    assert chart.params["y_axis_title"] and chart.params["x_axis"] == "motivation_label"


def test_the_click_tiles_say_whose_count_they_are():
    titles = {chart.title: chart for chart in dashboards.CHARTS}
    network = titles["Link clicks (network-reported)"]
    bitly = titles["Tracking-link clicks (Bitly)"]
    assert network.dataset.metric(network.params["metric"]).expression == "SUM(clicks)"
    assert bitly.dataset.metric(bitly.params["metric"]).expression == "SUM(tracking_link_clicks)"
    assert not [title for title in titles if title == "Link clicks"]


def test_native_filters_for_period_team_and_network_reach_every_chart_with_the_column():
    config = dashboards.native_filter_configuration()
    assert {(f["name"], f["targets"][0]["column"]["name"]) for f in config} == {
        ("Period (month)", "period"),
        ("Team", "team"),
        ("Network", "network"),
    }
    by_uuid = {dataset.uuid: dataset for dataset in dashboards.DATASETS}
    placeholder = {
        chart.uuid: item["meta"]["chartId"]
        for item in dashboards.position().values()
        if isinstance(item, dict) and item.get("type") == "CHART"
        for chart in dashboards.CHARTS
        if chart.uuid == item["meta"]["uuid"]
    }
    for native, spec in zip(dashboards.NATIVE_FILTERS, config, strict=True):
        [target] = spec["targets"]
        column = target["column"]["name"]
        assert column in {c.name for c in by_uuid[target["datasetUuid"]].columns}
        excluded = set(spec["scope"]["excluded"])
        for chart in dashboards.CHARTS:
            has_column = column in {c.name for c in chart.dataset.columns}
            in_scope = placeholder[chart.uuid] not in excluded
            assert in_scope == (has_column and chart.title not in native.not_on), (native.name, chart.title)
        assert native.charts(), native.name
    assert set(dashboards.NATIVE_FILTERS[0].not_on) == {dashboards.TEAM_CLICKS_TITLE}


def test_new_questions_have_their_charts():
    models = {chart.dataset.model for chart in dashboards.CHARTS}
    assert {"monthly_totals", "team_motivation_clicks", "content_obligation", "content_type_obligation"} <= models
    heatmap = next(c for c in dashboards.CHARTS if c.title == dashboards.TEAM_CLICKS_TITLE)
    assert heatmap.viz_type == "heatmap_v2" and _where(heatmap) == {"is_latest_complete_month": "IS TRUE"}
    assert {"motivation_label", "team"} <= set(heatmap.query["columns"])
    # totals come from bi.monthly_totals, never from the per-motivation rows
    for chart in dashboards.CHARTS:
        if chart.dataset.model == "motivation_attribution":
            assert not chart.columns_used() & {"shares", "impressions", "engagements", "clicks"}, chart.title


def test_tables_and_wide_charts_take_the_full_width():
    for chart in dashboards.CHARTS:
        if chart.viz_type == "table" or chart.dataset.model in ("obligation_signals", "salesy_risk"):
            assert chart.width == 12, chart.title
    for row in dashboards.LAYOUT:
        titles = [title for title in row if not title.startswith("markdown:")]
        assert sum(dashboards._chart_by_title(title).width for title in titles) <= 12, row


def test_bi_tool_reaches_the_warehouse_without_the_audit_package():
    """The BI tool provisions `bi_reader` through sharewhy.warehouse_access, as the publish does; it needs nothing
    of the quality gate (`expectations/`)."""
    importing_the_audit = [
        path.name
        for path in sorted(BI_TOOL.glob("*.py"))
        if re.search(r"^\s*(from|import)\s+expectations\b", path.read_text(), re.MULTILINE)
    ]
    assert importing_the_audit == []


def test_every_motivation_has_a_label():
    """The labels cover exactly the project's motivation constructs and `unattributed`, each with its colour."""
    assert list(dashboards.MOTIVATION_LABELS) == [*settings.MOTIVATION_CONSTRUCTS, "unattributed"]
    assert set(dashboards.MOTIVATION_LABELS.values()) <= set(dashboards.LABEL_COLORS)
