"""PROV-JSON exports read back with the prov package: the relations say who used and made what."""

from __future__ import annotations

import prov
import prov.model as pm

from sitegen.export import prov as prov_export
from sitegen.store.load import load_project

from test_lineage import SAMPLE

PREP, TRAIN = "feature-pipeline/20261102-081500-54f3c6", "cifar10-resnet/20261118-112026-56d8f2"
CIFAR = "sha256-4a0adfb540f30274c656506ba1e0222316d32622cf1eaa3025e818a99d65a725"


def relations(doc: pm.ProvDocument, cls) -> set[tuple[str, ...]]:
    out = set()
    for rec in doc.get_records(cls):
        args = tuple(str(a) if a is not None else None for a in rec.args)
        out.add(args)
    return out


def read(path) -> pm.ProvDocument:
    return prov.read(str(path), format="json")


def test_site_export_relations(sample_site):
    doc = read(sample_site.path("data/prov.json"))
    used = {(a, e) for a, e, *_ in relations(doc, pm.ProvUsage)}
    generated = {(e, a) for e, a, *_ in relations(doc, pm.ProvGeneration)}
    assert (f"sg:run/{TRAIN}", f"sg:data/{CIFAR}") in used
    assert (f"sg:data/{CIFAR}", f"sg:run/{PREP}") in generated
    assert ("sg:model/cifar10-classifier/2", f"sg:run/{TRAIN}") in generated
    derived = {(g, u) for g, u, *_ in relations(doc, pm.ProvDerivation)}
    assert any(g == "sg:model/cifar10-classifier/2" for g, _ in derived)
    assoc = relations(doc, pm.ProvAssociation)
    plans = {(a, ag, plan) for a, ag, plan in assoc}
    (train_user,) = [(ag, plan) for a, ag, plan in plans if a == f"sg:run/{TRAIN}" and ag.startswith("sg:user/")]
    assert train_user[1] == "sg:commit/5c212270429763a155731998ebb94cacbf67b6d4"
    agents = {str(r.identifier): r for r in doc.get_records(pm.ProvAgent)}
    assert pm.PROV["SoftwareAgent"] in agents["sg:agent/sitegen"].get_asserted_types()
    activities = {str(r.identifier) for r in doc.get_records(pm.ProvActivity)}
    assert len(activities) == 33


def test_per_run_and_per_version_exports(sample_site):
    run_doc = read(sample_site.path(f"runs/{TRAIN}/prov.json"))
    assert {str(r.identifier) for r in run_doc.get_records(pm.ProvActivity)} == {f"sg:run/{TRAIN}"}
    version_doc = read(sample_site.path("models/cifar10-classifier/2/prov.json"))
    generated = {(e, a) for e, a, *_ in relations(version_doc, pm.ProvGeneration)}
    assert ("sg:model/cifar10-classifier/2", f"sg:run/{TRAIN}") in generated
    attributed = relations(version_doc, pm.ProvAttribution)
    assert {ag for _, ag in attributed} and all(ag.startswith("sg:user/") for _, ag in attributed)


def test_exports_are_deterministic():
    project = load_project(SAMPLE)
    assert prov_export.site_document(project) == prov_export.site_document(load_project(SAMPLE))
