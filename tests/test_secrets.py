"""Secrets never reach the site: not a page, export, per-run file, model card, PROV document or search index.

The source puts secrets where people put them: values of keys named like secrets (built-in patterns and
one configured in sitegen.yaml), AWS-style access keys and private key blocks under innocent keys, and
credentials inside URLs. The whole output tree is then searched for every secret string.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

AWS = "AKIAQWERTYUIOPASDFGH"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretPEMbody0123456789\n-----END RSA PRIVATE KEY-----"
SECRETS = {
    "password": "hunter2-pw-0001",
    "nested": "nested-db-pw-0002",
    "api_key": "apikey-value-0003",
    "token": "tok-value-0004",
    "configured": "wandb-value-0005",
    "url_password": "urlpass0006",
    "url_user_token": "ghtokenuser0007",
    "tag": "tag-secret-0008",
    "card": "card-secret-0009",
    "dataset": "dataset-pass-0010",
    "credentials": "cred-value-0011",
    "aws": AWS,
    "pem": "MIIEowIBAAKCAQEAsecretPEMbody0123456789",
}


def dump(root: Path, rel: str, data) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def make_secret_source(root: Path) -> Path:
    dump(root, "sitegen.yaml", {"title": "Secrets", "redact": ["*wandb*"],
                                "card": {"required_sections": []}})
    dump(root, "runs/exp/experiment.yaml", {"format": "sitegen.experiment/1", "title": "Exp",
                                            "tags": {"slack_token": SECRETS["token"]}})
    dump(root, "runs/exp/r1/run.yaml", {
        "format": "sitegen.run/1", "id": "r1", "name": "leaky", "status": "finished",
        "start_time": "2026-01-01T00:00:00Z",
        "tags": {"deploy_token": SECRETS["tag"], "team": "a"},
        "params": {
            "password": SECRETS["password"], "db": {"host": "db", "password": SECRETS["nested"]},
            "API_KEY": SECRETS["api_key"], "auth": {"token": SECRETS["token"]}, "wandb": SECRETS["configured"],
            "aws_id": AWS, "tls": PEM, "lr": 0.1,
            "mirror": f"https://alice:{SECRETS['url_password']}@data.example.org/x",
            "credentials": {"user": "bob", "value": SECRETS["credentials"]},
        },
        "metrics": {"auc": 0.9},
        "provenance": {
            "code": {"repo": f"https://{SECRETS['url_user_token']}@github.com/o/r.git", "commit": "a" * 40},
            "environment": {"python": "3.11", "packages": {"x": "1"}},
            "inputs": [{"name": "d", "kind": "dataset", "uri": f"s3://k:{SECRETS['url_password']}@bucket/x"}],
        },
    })
    dump(root, "models/m/model.yaml", {"format": "sitegen.model/1", "name": "M", "aliases": {"prod": 1},
                                       "tags": {"registry_password": SECRETS["password"]}})
    dump(root, "models/m/versions/1.yaml", {
        "format": "sitegen.model-version/1", "version": 1, "source_run": "exp/r1",
        "created": "2026-01-02T00:00:00Z", "tags": {"hf_token": SECRETS["token"]},
        "hub": {"repo_id": "o/m", "token": SECRETS["token"]},
        "card": {"details": {"developers": "x", "api_key": SECRETS["card"], "contact": AWS},
                 "intended_use": "Ranking."},
    })
    dump(root, "datasets/d.yaml", {"format": "sitegen.dataset/1", "name": "D",
                                   "uri": f"https://u:{SECRETS['dataset']}@example.org/d.parquet",
                                   "collection": {"password": SECRETS["dataset"]}})
    return root


@pytest.fixture(scope="module")
def secret_site(tmp_path_factory):
    from sitegen.build import build

    root = make_secret_source(tmp_path_factory.mktemp("secrets") / "src")
    out = root.parent / "site"
    result = build(root, out)
    return out, result


def test_no_secret_anywhere_in_the_output(secret_site):
    out, result = secret_site
    assert not [d for d in result.diagnostics if d.is_error]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 5
    leaks = []
    for path in files:
        data = path.read_bytes()
        for name, secret in SECRETS.items():
            if secret.encode() in data:
                leaks.append(f"{name} in {path.relative_to(out)}")
        if b"PRIVATE KEY-----" in data:
            leaks.append(f"private key block in {path.relative_to(out)}")
    assert not leaks, "\n".join(leaks)


def test_run_page_says_values_were_redacted(secret_site):
    out, _ = secret_site
    html = (out / "runs/exp/r1/index.html").read_text()
    assert "redacted" in html
    assert "0.1" in html and "db" in html  # the harmless values are still shown
    assert "https://data.example.org/x" in html  # the URL stays, without its credentials


def test_exports_keep_redaction_marker(secret_site):
    out, _ = secret_site
    csv = (out / "data/runs.csv").read_text()
    assert "[redacted]" in csv
