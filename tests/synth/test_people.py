"""Households and the census structure, on the pure population builder (no database)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from jiayi.residents.rules import age_on
from jiayi.synth import people, reference

AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="module")
def pop() -> people.Population:
    return people.build_population(np.random.default_rng(11), 50_000, AS_OF)


def test_age_structure_follows_the_2020_census(pop):
    for (lo, hi, sex), share in reference.AGE_SEX_2020.items():
        observed = np.mean((pop.age >= lo) & (pop.age <= hi) & (pop.male == (sex == "M")))
        assert observed == pytest.approx(share, abs=0.004), (lo, hi, sex)


def test_birth_dates_give_the_sampled_age(pop):
    sample = np.random.default_rng(0).choice(pop.n, 2_000, replace=False)
    for i in sample:
        born = pop.birth[i].astype(object)
        assert age_on(born, AS_OF) == pop.age[i]


def test_every_household_has_one_head_listed_first(pop):
    heads = np.flatnonzero(pop.relation == people.HEAD)
    assert heads.size == pop.h
    assert (pop.household[heads] == np.arange(pop.h)).all()
    starts = np.r_[0, np.cumsum(pop.hh_size)[:-1]]
    assert (starts == heads).all()
    assert (pop.age[heads] >= 18).all()


def test_mean_household_size_is_near_the_census(pop):
    assert 2.3 <= pop.n / pop.h <= 2.9
    assert 0.18 <= np.mean(pop.hh_size == 1) <= 0.32


def test_relationships_are_consistent_with_ages_and_sexes(pop):
    head_of = pop.hh_head[pop.household]
    head_age = pop.age[head_of].astype(int)
    age = pop.age.astype(int)
    spouse = pop.relation == people.SPOUSE
    assert (pop.male[spouse] != pop.male[head_of[spouse]]).all()
    assert (age[spouse] >= 20).all()
    assert (pop.spouse[spouse] == head_of[spouse]).all()
    child = pop.relation == people.CHILD
    assert (head_age[child] - age[child] >= 18).all()
    parent = pop.relation == people.PARENT
    assert (age[parent] - head_age[parent] >= 18).all()
    grandchild = pop.relation == people.GRANDCHILD
    assert (head_age[grandchild] - age[grandchild] >= 36).all()


def test_minors_never_live_alone(pop):
    assert not np.any((pop.age < 18) & (pop.hh_size[pop.household] == 1))


def test_couples_are_married_and_reciprocal(pop):
    paired = np.flatnonzero(pop.spouse >= 0)
    assert (pop.spouse[pop.spouse[paired]] == paired).all()
    assert (pop.marital[paired] == people.MARRIED).all()
    assert (pop.household[paired] == pop.household[pop.spouse[paired]]).all()


def test_same_seed_same_population():
    a = people.build_population(np.random.default_rng(5), 3_000, AS_OF)
    b = people.build_population(np.random.default_rng(5), 3_000, AS_OF)
    for field in ("age", "male", "birth", "household", "relation", "spouse"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
