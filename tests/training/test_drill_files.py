"""Drill files: the shipped ones load, a municipality's folder adds and replaces, and a file
that cannot be used is named with its key in Norwegian (the others still load)."""

from __future__ import annotations

from pathlib import Path

from valgkiosk.training import drills as dr

OWN = '''
title = "Kommunens egen: velger med barnevogn"
order = 50
lead = "En velger med barnevogn."

[[voter]]
role = "ready"
says = "Hei!"

[[expect]]
do = "verdict:checked_off"
good = "Krysset av."
missed = "Ikke krysset av."
'''


def test_the_shipped_drills_cover_every_case_of_the_routine() -> None:
    catalogue = dr.load()
    assert catalogue.problems == []
    roles = {v.role for d in catalogue.drills for v in d.voters}
    assert roles == set(dr.ROLES)  # every voter of the training register is met in some drill
    events = {i.event for d in catalogue.drills for i in d.injections}
    assert {"router_power_off", "router_power_on", "printer_out_of_paper", "prelude_checkoff"} <= events


def test_a_municipality_adds_and_replaces_drills(tmp_path: Path) -> None:
    (tmp_path / "egen.toml").write_text(OWN, encoding="utf-8")
    (tmp_path / "erstatter.toml").write_text('id = "01-vanlig-avkrysning"\n'
                                             + OWN.replace("Kommunens egen", "Kommunens versjon"), encoding="utf-8")
    catalogue = dr.load([tmp_path])
    titles = [d.title for d in catalogue.drills]
    assert "Kommunens egen: velger med barnevogn" in titles
    assert catalogue.get("01-vanlig-avkrysning").title.startswith("Kommunens versjon")
    assert len(catalogue.drills) == len(dr.load().drills) + 1


def test_a_bad_drill_is_named_and_left_out(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(OWN.replace('do = "verdict:checked_off"', 'do = "dance"'), encoding="utf-8")
    (tmp_path / "b.toml").write_text(OWN.replace('role = "ready"', 'role = "ghost"'), encoding="utf-8")
    (tmp_path / "c.toml").write_text("title = [", encoding="utf-8")
    (tmp_path / "d.toml").write_text("colour = 3\n" + OWN, encoding="utf-8")
    (tmp_path / "e.toml").write_text(OWN + "shout = true\n", encoding="utf-8")
    catalogue = dr.load([tmp_path])
    problems = " ".join(catalogue.problems)
    assert "a.toml, [[expect]] nr. 1: «do = 'dance'» er ingen kjent handling" in problems
    assert "b.toml, [[voter]] nr. 1: «role = 'ghost'» er ingen kjent velger" in problems
    assert "c.toml: ikke gyldig TOML" in problems
    assert "d.toml: ukjent nøkkel «colour»" in problems
    assert "e.toml, [[expect]] nr. 1: ukjent nøkkel «shout»" in problems
    assert len(catalogue.drills) == len(dr.load().drills)


def test_a_missing_folder_is_said(tmp_path: Path) -> None:
    catalogue = dr.load([tmp_path / "nowhere"])
    assert catalogue.problems == [f"Finner ikke mappen med øvelser: {tmp_path / 'nowhere'}."]


def test_valgkiosk_train_lists_the_drills_and_refuses_an_unknown_one() -> None:
    import subprocess
    import sys

    listed = subprocess.run([sys.executable, "-m", "valgkiosk", "train", "--list"], capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0 and "09-strombrudd-beredskap" in listed.stdout and "Feilregistrering" in listed.stdout
    unknown = subprocess.run([sys.executable, "-m", "valgkiosk", "train", "--drill", "nope"], capture_output=True,
                             text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert unknown.returncode == 2 and "finner ingen øvelse «nope»" in unknown.stderr
