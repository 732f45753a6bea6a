"""The repository stands on its own: every link in a tracked Markdown file points at a file
inside the repository (no web page, nothing beside the checkout), and no tracked file names
a document a reader of the repository cannot open."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import ROOT

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# What points outside: the contract's and seeds' own files, by path or by name.
OUTSIDE = re.compile(r"\.\./shared|SPEC\.md|SPEC §|\b\d{3}_[0-9a-f]{16}\.txt\b")


def tracked(*patterns: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def links_outside(path: str, text: str) -> list[str]:
    """The link targets of one Markdown file that do not resolve to a file in the checkout."""
    bad = []
    base = (ROOT / path).parent
    for target in LINK.findall(text):
        if target.startswith("#"):
            continue  # an anchor on the same page
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:, file: ...
            bad.append(target)
            continue
        resolved = (base / target.split("#", 1)[0]).resolve()
        if not resolved.is_relative_to(ROOT.resolve()) or not resolved.exists():
            bad.append(target)
    return bad


def test_the_link_check_itself_catches_what_points_outside():
    text = "[a](docs/topics.md) [b](https://example.org/x) [c](../shared/SPEC.md) [d](nope.md)"
    assert links_outside("README.md", text) == [
        "https://example.org/x",
        "../shared/SPEC.md",
        "nope.md",
    ]


@pytest.mark.parametrize("path", tracked("*.md"))
def test_every_markdown_link_stays_inside_the_repository(path):
    text = (ROOT / path).read_text()
    assert links_outside(path, text) == [], path


def test_no_tracked_file_names_a_document_outside_the_repository():
    found = []
    for path in tracked():
        if path == "tests/test_docs.py":
            continue  # it names them to find them
        file = ROOT / path
        if file.suffix in {".png", ".jar", ".gz"} or not file.is_file():
            continue
        try:
            text = file.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{path}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert found == []


def test_every_setting_is_in_the_settings_page():
    from eventwire.settings import Settings

    page = (ROOT / "docs" / "settings.md").read_text()
    variables = {f"EVENTWIRE_{name.upper()}" for name in Settings.model_fields}
    variables.add("EVENTWIRE_ADMIN_URL")  # read by the CLI, not by the worker
    assert sorted(v for v in variables if f"`{v}`" not in page) == []


def test_the_compose_path_publishes_kafka_where_the_cli_looks():
    import yaml

    from eventwire.settings import Settings

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    host_port = Settings().kafka_bootstrap.rsplit(":", 1)[1]
    kafka = compose["services"]["kafka"]
    published = {p.split(":")[1] for p in kafka["ports"]}
    assert host_port in published
    assert f"HOST://127.0.0.1:{host_port}" in kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_the_first_steps_give_the_admin_token_before_the_admin_commands():
    readme = (ROOT / "README.md").read_text()
    assert readme.index("export EVENTWIRE_ADMIN_TOKEN") < readme.index("eventwire profiles get")
