"""The vision examples in examples/: the CNN on real digits reaches 98 %, the ImageFolder trainer runs."""
import os
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
sys.path.insert(0, EXAMPLES)


@pytest.mark.slow
def test_cnn_on_digits_reaches_98_percent():
    import cnn_digits

    assert cnn_digits.main(verbose=False) >= 0.98


def test_cats_vs_dogs_on_an_image_folder(tmp_path, capsys):
    import cats_vs_dogs

    root = cats_vs_dogs.generate_folder(str(tmp_path), per_class=12, size=16)
    assert sorted(os.listdir(root)) == ["cat", "dog"]
    accuracy = cats_vs_dogs.main(root, epochs=1, size=16)
    assert 0.0 <= accuracy <= 1.0
    assert "classes {'cat': 0, 'dog': 1}" in capsys.readouterr().out


def test_cats_vs_dogs_says_when_it_generates_images(capsys, monkeypatch):
    import cats_vs_dogs

    real = cats_vs_dogs.generate_folder
    monkeypatch.setattr(cats_vs_dogs, "generate_folder",
                        lambda root, seed=0: real(root, per_class=8, size=16, seed=seed))
    cats_vs_dogs.main(epochs=1, size=16)
    assert "GENERATED images" in capsys.readouterr().out
