"""``hitl-console schema`` output, and configuration errors that name the key."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from hitl_console.cli import main
from hitl_console.commands.common import config_or_exit
from hitl_console.commands.schema import schema_document
from hitl_console.config import Config, ConfigError, load_config, parse_config
from hitl_console.protocol.events import EVENT_TYPES, KNOWN_TYPES

OPS = {"takeover", "send", "release", "approve", "deny", "end"}


def _consts(schema: Any, field: str, root: Any = None) -> set[str]:
    """Every ``const`` value of properties named ``field`` in a schema and in what its
    ``$ref``s reach (resolved in ``root``, the printed document; default the schema)."""
    root = schema if root is None else root
    found: set[str] = set()
    stack = [schema]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict) and isinstance(props.get(field), dict) and "const" in props[field]:
                found.add(props[field]["const"])
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                stack.append(_resolve(root, ref))
            stack.extend(v for k, v in node.items() if k != "$defs")
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _schema_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["schema", *argv]) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def test_schema_all_is_one_json_document_naming_every_type_and_op(capsys: pytest.CaptureFixture[str]) -> None:
    document = _schema_cli(capsys)
    assert set(document) == {"$defs", "events", "commands"}
    assert _consts(document["events"], "type", document) == set(KNOWN_TYPES)
    assert EVENT_TYPES <= _consts(document["events"], "type", document)
    assert _consts(document["commands"], "op", document) == OPS
    # discriminated unions, so that a validator picks the right branch by "type" / "op"
    assert document["events"]["discriminator"]["propertyName"] == "type"
    assert document["commands"]["discriminator"]["propertyName"] == "op"
    assert set(document["events"]["discriminator"]["mapping"]) == set(KNOWN_TYPES)


def test_schema_parts(capsys: pytest.CaptureFixture[str]) -> None:
    events = _schema_cli(capsys, "--part", "events")
    commands = _schema_cli(capsys, "--part", "commands")
    assert _consts(events, "type") == set(KNOWN_TYPES)
    assert _consts(commands, "op") == OPS
    everything = schema_document("all")
    assert {k: v for k, v in events.items() if k != "$defs"} == everything["events"]
    assert all(everything["$defs"][name] == definition for name, definition in events["$defs"].items())
    assert "events" not in commands


def test_schema_keeps_constraints_a_feed_author_needs() -> None:
    defs = schema_document("events")["$defs"]
    message = defs["Message"]
    assert set(message["required"]) >= {"seq", "ts", "conversation_id", "type", "role", "text"}
    confidence = json.dumps(message["properties"]["confidence"])
    assert '"maximum": 1.0' in confidence and '"minimum": 0.0' in confidence
    assert set(defs["ConversationEnded"]["properties"]["outcome"]["enum"]) == {
        "resolved",
        "unresolved",
        "abandoned",
        "transferred",
    }


def _refs(node: object) -> list[str]:
    """Every ``$ref`` anywhere in a JSON document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(document: dict, ref: str) -> object:
    """A local JSON pointer (``#/a/b``), followed through the document as printed."""
    assert ref.startswith("#/"), ref
    node: object = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and token in node, f"{ref} does not resolve (no {token!r})"
        node = node[token]
    return node


@pytest.mark.parametrize("part", ["all", "events", "commands"])
def test_every_ref_in_the_printed_schema_resolves(capsys: pytest.CaptureFixture[str], part: str) -> None:
    document = _schema_cli(capsys, "--part", part)
    refs = _refs(document)
    assert len(refs) >= (10 if part != "commands" else 3)  # the document does use references
    for ref in refs:
        target = _resolve(document, ref)
        assert isinstance(target, dict) and target, ref
    if part == "all":
        assert any(ref.startswith("#/$defs/") for ref in _refs(document["commands"]))
        assert set(document["$defs"]) == set(schema_document("events")["$defs"]) | set(schema_document("commands")["$defs"])


def test_schema_rejects_an_unknown_part() -> None:
    with pytest.raises(ValueError, match="unknown part"):
        schema_document("everything")


def test_schema_cli_refuses_an_unknown_part(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["schema", "--part", "nope"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# ------------------------------------------------------------------ config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_typo_names_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "[thresholds]\nlow_confidance = 0.4\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "thresholds.low_confidance: unknown key" in message
    assert str(path) in message


def test_a_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"thresholds": {"low_confidence": 1.7}, "alerts": {"silent_feed_s": "soon"}}, "test.toml")
    message = str(error.value)
    assert "thresholds.low_confidence:" in message and "less than or equal to 1" in message
    assert "alerts.silent_feed_s:" in message
    assert "2 problem(s)" in message


def test_a_bad_feed_entry_names_its_index() -> None:
    with pytest.raises(ConfigError, match=r"feeds\.0\.url: Field required"):
        parse_config({"feeds": [{"name": "prod"}]})


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "[thresholds\nlow_confidence = 0.4\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_a_missing_explicit_config_is_an_error_but_a_missing_default_is_not(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")
    assert load_config().thresholds.low_confidence == 0.55  # HITL_CONSOLE_CONFIG points at a missing file


def test_a_good_config_loads(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'agent = "ana"\n[thresholds]\nlow_confidence = 0.4\n[journal]\nretention_days = 7\n'
        '[[feeds]]\nurl = "ws://127.0.0.1:8765"\nname = "prod"\ntoken_env = "PROD_TOKEN"\n',
    )
    config = load_config(path)
    assert config.agent_name() == "ana"
    assert config.thresholds.low_confidence == 0.4
    assert config.journal.retention_days == 7
    assert config.feeds[0].name == "prod"


def test_config_or_exit_exits_2_with_the_message_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "[thresholds]\nlow_confidance = 0.4\n")
    with pytest.raises(SystemExit) as exit_info:
        config_or_exit(argparse.Namespace(config=str(path)))
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("hitl-console: ")
    assert "thresholds.low_confidance: unknown key" in captured.err


def test_config_or_exit_on_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        config_or_exit(argparse.Namespace(config=str(tmp_path / "absent.toml")))
    assert exit_info.value.code == 2
    assert "absent.toml: no such config file" in capsys.readouterr().err


def test_config_or_exit_without_config_option_uses_defaults() -> None:
    assert config_or_exit(argparse.Namespace()) == Config()


def test_false_switches_a_routing_limit_off_and_true_is_refused() -> None:
    from hitl_console.engine.routing import RoutingMatcher
    from hitl_console.engine.state import CustomerProfile

    config = parse_config({"routing": {"max_open_complaints": False, "min_lifetime_value": False}})
    assert config.routing.max_open_complaints is None and config.routing.min_lifetime_value is None
    unhappy = CustomerProfile(id="u", tier="silver", open_complaints=9, lifetime_value=1e6)
    assert RoutingMatcher(config.routing).flags(unhappy, None, "ai") == ()
    assert RoutingMatcher(Config().routing).flags(unhappy, None, "ai") == ("9 open complaints (more than 2) routed to AI",)
    with pytest.raises(ConfigError, match=r"routing\.max_open_complaints"):
        parse_config({"routing": {"max_open_complaints": True}})


def test_demo_and_replay_never_get_the_production_journal(tmp_path, monkeypatch) -> None:
    """Issue 9, item 5: which journal a session writes (``commands.console.journal_for``)."""
    import argparse

    from hitl_console.commands.console import Plan, UsageError, journal_for
    from hitl_console.config import Config, JournalConfig
    from hitl_console.paths import journal_path, sandbox_journal_path

    def args(**kw):
        return argparse.Namespace(**{"journal": None, "no_journal": False, **kw})

    plain = Config()
    assert journal_for(Plan("live", []), args(), plain) == str(journal_path())
    assert journal_for(Plan("demo", []), args(), plain) == str(sandbox_journal_path())
    assert journal_for(Plan("replay", []), args(), plain) == str(sandbox_journal_path())
    assert sandbox_journal_path() != journal_path() and sandbox_journal_path().parent == journal_path().parent
    assert journal_for(Plan("demo", []), args(no_journal=True), plain) == ":memory:"
    assert journal_for(Plan("replay", []), args(journal=str(tmp_path / "mine.sqlite3")), plain) == str(tmp_path / "mine.sqlite3")
    with pytest.raises(UsageError, match="never writes to the production journal"):
        journal_for(Plan("demo", []), args(journal=str(journal_path())), plain)
    configured = Config(journal=JournalConfig(path=tmp_path / "prod.sqlite3"))
    assert journal_for(Plan("live", []), args(), configured) == str(tmp_path / "prod.sqlite3")
    assert journal_for(Plan("demo", []), args(), configured) == str(sandbox_journal_path())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError):  # the same file, named relatively
        journal_for(Plan("replay", []), args(journal="prod.sqlite3"), configured)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--config", "F.toml", "analyze", "x.jsonl"], {"config": "F.toml"}),
        (["analyze", "--config", "G.toml", "x.jsonl"], {"config": "G.toml"}),
        (["--no-journal", "--agent", "zed", "demo"], {"no_journal": True, "agent": "zed"}),
        (["--agent", "zed", "demo", "--agent", "amy"], {"agent": "amy"}),  # the later, nearer one wins
        (["--journal", "j.db", "report"], {"journal": "j.db"}),
        (["report"], {"journal": None, "config": None}),
        (["--config", "F.toml", "review", "queue"], {"config": "F.toml"}),
        (["--token-env", "TOK", "check-feed", "ws://127.0.0.1:1"], {"token_env": "TOK"}),
    ],
)
def test_options_before_the_subcommand_are_honoured(argv: list[str], expected: dict[str, Any]) -> None:
    from hitl_console.cli import build_parser

    args = vars(build_parser().parse_args(argv))
    assert {key: args[key] for key in expected} == expected


def test_a_config_given_before_the_subcommand_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[signals]\nsentimnet = 'rules'\n", encoding="utf-8")
    sample = tmp_path / "empty.jsonl"
    sample.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(bad), "analyze", str(sample)])
    assert exited.value.code == 2
    assert "sentimnet" in capsys.readouterr().err


@pytest.mark.parametrize("agent", ["", "  "])
def test_the_console_refuses_a_blank_agent(agent: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-journal", "--agent", agent, "demo"]) == 2
    assert "--agent must name someone" in capsys.readouterr().err


def test_fail_masks_secrets_a_message_quotes(capsys: pytest.CaptureFixture[str]) -> None:
    from hitl_console.commands.common import fail

    assert fail("cannot reach wss://ops:hunter2@feed.example/x?token=abc123456#access_token=zzz999999", 2) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err and "abc123456" not in err and "zzz999999" not in err and "feed.example" in err
