"""sitegen.redact: secret keys, secret-looking values, URL credentials, command lines."""

from __future__ import annotations

import pytest

from sitegen.redact import (DEFAULT_PATTERNS, REDACTED, is_secret_key, looks_like_secret_value, redact_command,
                            redact_mapping, redact_text, strip_url_credentials)


@pytest.mark.parametrize("key", ["password", "DB_PASSWORD", "db.password", "Api_Key", "apikey", "github_token",
                                 "aws_secret_access_key", "client_secret", "my.credentials", "ssh_private_key",
                                 "s3.access_key_id"])
def test_secret_keys_match_case_insensitively_on_last_part_or_full_key(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["lr", "optimizer.name", "batch_size", "epochs",
                                 "password_policy.min"])
def test_ordinary_keys_are_not_secret(key):
    # "password_policy.min": the last part is "min"; the full key matches *password* though
    assert is_secret_key(key) is (key == "password_policy.min")


def test_extra_patterns_add_to_the_defaults():
    assert not is_secret_key("wandb_entity")
    assert is_secret_key("WANDB_ENTITY", ["wandb_*"])
    assert "*password*" in DEFAULT_PATTERNS and "*api_key*" in DEFAULT_PATTERNS


def test_redact_mapping_is_recursive_reports_paths_and_leaves_input_alone():
    params = {"lr": 0.1, "db": {"host": "h", "Password": "hunter2"}, "API_KEY": "k",
              "items": [{"token": "t"}, "plain"], "n": None}
    new, paths = redact_mapping(params)
    assert new == {"lr": 0.1, "db": {"host": "h", "Password": REDACTED}, "API_KEY": REDACTED,
                   "items": [{"token": REDACTED}, "plain"], "n": None}
    assert paths == ["db.Password", "API_KEY", "items[0].token"]
    assert params["db"]["Password"] == "hunter2"


def test_redact_mapping_catches_secret_values_under_innocent_keys():
    new, paths = redact_mapping({"note": "AKIAABCDEFGHIJKLMNOP", "url": "https://bob:pw@example.org/x",
                                 "sk": "sk-" + "a" * 40})
    assert new == {"note": REDACTED, "url": "https://example.org/x", "sk": REDACTED}
    assert sorted(paths) == ["note", "sk", "url"]


@pytest.mark.parametrize("value, expected", [
    ("AKIAIOSFODNN7EXAMPLE", True),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", True),
    ("-----BEGIN PRIVATE KEY-----", True),
    ("sk-proj-" + "x" * 32, True),
    ("ghp_" + "A" * 36, True),
    ("https://user:pass@host/x", True),
    ("resnet50", False),
    ("https://example.org/data.csv", False),
    ("sk-short", False),
    (12, False),
])
def test_looks_like_secret_value(value, expected):
    assert looks_like_secret_value(value) is expected


@pytest.mark.parametrize("url, expected", [
    ("https://user:token@github.com/org/repo.git", "https://github.com/org/repo.git"),
    ("https://ghp_abc@github.com/org/repo.git", "https://github.com/org/repo.git"),
    ("http://u:p@h:8080/p?q=1#f", "http://h:8080/p?q=1#f"),
    ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
    ("ssh://me:pw@host/repo", "ssh://me@host/repo"),
    ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    ("s3://bucket/key", "s3://bucket/key"),
    ("not a url", "not a url"),
])
def test_strip_url_credentials(url, expected):
    assert strip_url_credentials(url) == expected


def test_redact_command_hides_secret_option_values():
    argv = ["python", "train.py", "--password", "pw", "--api-key=abc", "db.password=x", "--lr", "3e-4",
            "https://u:p@h/x", "--token", "--verbose", "AKIAABCDEFGHIJKLMNOP"]
    assert redact_command(argv) == ["python", "train.py", "--password", REDACTED, f"--api-key={REDACTED}",
                                    f"db.password={REDACTED}", "--lr", "3e-4", "https://h/x", "--token",
                                    "--verbose", REDACTED]


def test_redact_text_scrubs_diffs_and_logs():
    text = "+aws = 'AKIAABCDEFGHIJKLMNOP'\n+remote = https://me:tok@git.example.org/r.git\n+lr = 0.1\n"
    out = redact_text(text)
    assert "AKIA" not in out and "me:tok" not in out
    assert "https://git.example.org/r.git" in out and "+lr = 0.1" in out
