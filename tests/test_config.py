"""Config helpers: invalid values fail at construction, naming the field and what is allowed."""

import dataclasses

import pytest

from slmlab.config import (ConfigError, cache_dir, check_choice, check_positive, check_range,
                           runs_dir, to_dict)


@dataclasses.dataclass
class _Demo:
    mode: str = "interleave"  # one of the sequence modes
    p: float = 0.5  # probability of French per sentence

    def __post_init__(self):
        check_choice("mode", self.mode, ("mono", "interleave"))
        check_range("p", self.p, 0.0, 1.0)


def test_choice_error_names_field_and_allowed_values():
    with pytest.raises(ConfigError, match=r"mode must be one of mono, interleave; got 'bogus'"):
        _Demo(mode="bogus")


def test_range_error_names_field():
    with pytest.raises(ConfigError, match=r"p must be in \[0.0, 1.0\]; got 1.5"):
        _Demo(p=1.5)
    with pytest.raises(ConfigError, match="p must be"):
        _Demo(p="half")


def test_positive():
    check_positive("steps", 3)
    check_positive("steps", 0, allow_zero=True)
    with pytest.raises(ConfigError, match="steps must be a finite number > 0; got 0"):
        check_positive("steps", 0)


def test_config_error_is_value_error():
    assert issubclass(ConfigError, ValueError)


def test_to_dict_round_trip():
    assert _Demo(**to_dict(_Demo(p=0.1))) == _Demo(p=0.1)


def test_paths_follow_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SLMLAB_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("SLMLAB_RUNS", str(tmp_path / "r"))
    assert cache_dir() == tmp_path / "c"
    assert runs_dir() == tmp_path / "r"
    monkeypatch.delenv("SLMLAB_CACHE")
    monkeypatch.delenv("SLMLAB_RUNS")
    assert cache_dir().parts[-2:] == (".cache", "slmlab")
    assert str(runs_dir()) == "runs"
