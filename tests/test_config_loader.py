from pathlib import Path

import pytest

from eventwire.config_loader import ConfigError, load_registry

ROOT = Path(__file__).resolve().parents[1]


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_the_shipped_config_loads():
    registry = load_registry(ROOT / "config")
    assert "web" in registry.sources
    assert registry.definition("order.completed") is not None


def test_yaml_and_json_lists_and_versions(tmp_path):
    write(tmp_path / "sources", "a.yaml", "- {id: one}\n- {id: two, secret: s}\n")
    write(tmp_path / "definitions", "a.v1.json", '{"name": "x", "fields": []}')
    write(
        tmp_path / "definitions",
        "a.v2.yml",
        "name: x\nfields: [{name: n, type: number}]\n",
    )
    registry = load_registry(tmp_path)
    assert sorted(registry.sources) == ["one", "two"]
    assert [d.version for d in registry.definitions["x"]] == [1, 2]


def test_every_problem_is_reported_and_nothing_applied(tmp_path):
    write(tmp_path / "sources", "a.yaml", "- {id: one}\n- {id: one}\n- {idd: x}\n")
    write(tmp_path / "definitions", "bad.yaml", "name: x\nfields: [{name: n, type: text}]\n")
    write(tmp_path / "definitions", "broken.json", "{nope")
    with pytest.raises(ConfigError) as caught:
        load_registry(tmp_path)
    problems = caught.value.problems
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "broken.json: cannot be read" in text
    assert "fields.0.type" in text
    assert "a.yaml[2]: id: required field is missing" in text
    assert "a.yaml[2]: idd: field is not allowed here" in text
    assert "source 'one' is defined twice" in text


def test_yaml_booleans_are_only_true_and_false(tmp_path):
    write(tmp_path / "sources", "a.yaml", "- {id: off}\n- {id: yes, allow_undeclared: true}\n")
    write(
        tmp_path / "triggers",
        "t.yaml",
        "id: t\non: order.completed\nactions: [{type: grant_badge, badge: on}]\n",
    )
    registry = load_registry(tmp_path)
    assert sorted(registry.sources) == ["off", "yes"]
    assert registry.sources["yes"].allow_undeclared is True
    trigger = registry.triggers.by_id["t"]
    assert trigger.on == {"order.completed"}
    assert trigger.actions[0].params({}) == {"badge": "on"}


def test_invalid_triggers_are_reported_with_their_file(tmp_path):
    write(tmp_path / "triggers", "bad.yaml", "id: t\non: x\nwhen: {$where: 1}\nactions: []\n")
    with pytest.raises(ConfigError) as caught:
        load_registry(tmp_path)
    assert any("bad.yaml" in p and "actions" in p for p in caught.value.problems)
