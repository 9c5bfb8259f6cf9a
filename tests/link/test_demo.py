"""`make demo` as a user runs it (python -m tinydeploy.demo), on 20 images: flashes the digits CNN to the
emulated Cortex-M4, streams the images, reports accuracy next to LiteRT's and 20/20 bit-exact, and exits."""
import os
import re
import subprocess
import sys

import pytest


def demo(*args, project):
    return subprocess.run([sys.executable, "-m", "tinydeploy.demo", *args, "--project", str(project)],
                          capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200"})


@pytest.mark.slow
def test_demo_count_20(tmp_path):
    r = demo("--count", "20", project=tmp_path / "demo")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "20 test images from digits_test.npz" in out, out[-3000:]
    assert "bit-exact with LiteRT BUILTIN_REF: 20/20 samples" in out, out[-3000:]
    acc = re.search(r"on-device accuracy (\d+\.\d+)% \((\d+)/20\), host LiteRT accuracy (\d+\.\d+)% \((\d+)/20\)"
                    r" -> equal", out)
    assert acc, out[-3000:]
    assert acc.group(2) == acc.group(4) and int(acc.group(2)) >= 15  # a trained model: most digits right
    assert "demo done in" in out


def test_demo_bad_count_is_a_usage_error(tmp_path):
    r = demo("--count", "0", project=tmp_path / "demo")
    assert r.returncode == 2 and "at least 1" in r.stderr and not (tmp_path / "demo").exists()


@pytest.mark.parametrize("argv, count", [([], None), (["20"], 20), (["--count", "20"], 20), (["20", "--count", "20"], 20)])
def test_demo_count_forms(argv, count):
    from tinydeploy.demo import parse_args

    assert parse_args(argv).count == count
