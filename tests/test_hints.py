"""Classification hints of the default ruleset: repository paths -> file kinds -> asset kinds."""

from __future__ import annotations

import pytest

from rulesdsl.hints import match_path
from rulesdsl.ruleset import Ruleset


@pytest.fixture(scope="module")
def rs() -> Ruleset:
    return Ruleset.default()


@pytest.mark.parametrize(("path", "file_kind", "asset_kind"), [
    ("models/frontier-1/model-00001-of-00004.safetensors", "weights", "model_weights"),
    ("./model.gguf", "weights", "model_weights"),
    ("exports/pytorch_model-00001.bin", "weights", "model_weights"),
    ("ckpt/last.ckpt", "checkpoint", "checkpoint"),
    ("runs/a/checkpoint-500/optimizer.pt", "weights", "model_weights"),   # first matching hint wins
    ("runs/a/checkpoint-500/trainer_state.json", "checkpoint", "checkpoint"),
    ("configs/frontier-1/train.yaml", "training_config", "training_config"),
    ("train_7b.yml", "training_config", "training_config"),
    ("configs/ds_config_zero3.json", "training_config", "training_config"),
    ("exp/hparams.yaml", "hyperparameters", "hyperparameters"),
    ("secret/.regwatch-controlled", "marker", "model_weights"),
    ("secret/deep/notes.txt", "marker", "model_weights"),                 # below a marker
])
def test_default_hints(rs: Ruleset, path: str, file_kind: str, asset_kind: str) -> None:
    paths = [path, "secret/.regwatch-controlled", "README.md", "src/app.py"]
    got = rs.classify_paths(paths)
    key = path.removeprefix("./")
    assert got[key].file_kind == file_kind and got[key].asset_kind == asset_kind
    assert "README.md" not in got and "src/app.py" not in got


@pytest.mark.parametrize(("pattern", "path", "hit"), [
    ("*.pt", "a/b/c.pt", True),
    ("*.pt", "a/b/c.pth", False),
    ("a/*.pt", "a/b/c.pt", False),
    ("a/**/*.pt", "a/c.pt", True),
    ("a/**/*.pt", "a/b/c/d.pt", True),
    ("**/x/**", "x/y", True),
    ("model?.bin", "model1.bin", True),
    ("model[0-9].bin", "modelx.bin", False),
    ("weird[", "weird[", True),
])
def test_glob_semantics(pattern: str, path: str, hit: bool) -> None:
    assert match_path(pattern, path) is hit


def test_double_star_spans_newlines_in_paths() -> None:
    """A path may hold a newline; ``**`` must not stop at it (a file could otherwise escape its hint)."""
    from rulesdsl.hints import glob_regex

    assert glob_regex("**/checkpoint-*/**").match("ckpts/checkpoint-1/a\nb")
    assert glob_regex("models/**").match("models/x\ny/z.bin")
