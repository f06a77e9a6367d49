"""Hostlist expansion (pychami.core.hostlist)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pychami.core.hostlist import MAX_NAMES, HostlistError, expand, expand_all, split_top_level


def test_plain_name_is_itself() -> None:
    """A name without brackets expands to itself."""
    assert expand("x1000c0s0b0n0") == ["x1000c0s0b0n0"]


def test_xname_range() -> None:
    """A bracket range in the middle of an xname expands in order."""
    assert expand("x1000c0s0b[0-4]n0") == [f"x1000c0s0b{i}n0" for i in range(5)]


def test_zero_padding_and_list() -> None:
    """The lower bound's width sets zero padding; comma items and ranges mix."""
    assert expand("nid[001-004,006]") == ["nid001", "nid002", "nid003", "nid004", "nid006"]


def test_padding_crosses_width() -> None:
    """Padding keeps the lower bound's width even when numbers grow past it."""
    assert expand("n[08-11]") == ["n08", "n09", "n10", "n11"]


def test_several_brackets_are_a_cartesian_product() -> None:
    """Two brackets expand left to right as a product."""
    assert expand("x1000c0s[0-1]b0n[0-1]") == [
        "x1000c0s0b0n0", "x1000c0s0b0n1", "x1000c0s1b0n0", "x1000c0s1b0n1",
    ]  # fmt: skip


def test_top_level_commas_separate_names_and_dedupe() -> None:
    """Commas outside brackets separate names; duplicates are dropped keeping first order."""
    assert expand("b,a[1-2],a1") == ["b", "a1", "a2"]
    assert split_top_level("a[1,2],b") == ["a[1,2]", "b"]


def test_expand_all_joins_flag_values() -> None:
    """Repeated flags expand into one de-duplicated list."""
    assert expand_all(["n[1-2]", "n2,n3"]) == ["n1", "n2", "n3"]


def test_empty_parts_are_ignored() -> None:
    """Trailing or doubled commas do not create empty names."""
    assert expand("a,,b,") == ["a", "b"]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("n[1-2", "unbalanced '['"),
        ("n1-2]", "unbalanced ']'"),
        ("n[[1]]", "nested"),
        ("n[]", "empty brackets"),
        ("n[a-b]", "bad range"),
        ("n[5-1]", "goes backwards"),
        ("n[1-2-3]", "bad range"),
        (f"n[0-{MAX_NAMES}]", "too large"),
        ("a[0-999]b[0-9999]", "more than"),
    ],
)
def test_malformed_expressions_are_refused(expr: str, message: str) -> None:
    """Every malformed expression raises HostlistError saying what is wrong."""
    with pytest.raises(HostlistError, match=message.replace("[", r"\[")):
        expand(expr)


@given(st.integers(0, 500), st.integers(0, 50))
def test_range_size_and_bounds(lo: int, span: int) -> None:
    """A range lo-hi gives hi-lo+1 names, first lo and last hi."""
    names = expand(f"n[{lo}-{lo + span}]")
    assert len(names) == span + 1
    assert names[0] == f"n{lo}"
    assert names[-1] == f"n{lo + span}"
