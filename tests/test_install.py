"""Installing munit-fast beside a PyTorch that is already there (NVIDIA's Jetson wheel, a CUDA
build) must not ask pip for another torch: a dry run in a fresh virtual environment that holds a
Jetson-versioned torch and the other requirements resolves to munit-fast alone."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESENT = {  # distribution -> version, as on a JetPack 6 machine after NVIDIA's wheels
    "torch": "2.5.0a0+872d972e41.nv24.8", "numpy": "1.26.4", "PyYAML": "6.0.1",
    "opencv-python-headless": "4.10.0.84", "pillow": "10.4.0", "safetensors": "0.4.5", "onnx": "1.16.0",
    "onnxruntime": "1.19.0", "onnxscript": "0.1.0",
}


def _mark_installed(venv) -> None:
    """A .dist-info per distribution: to pip, installed (no code is needed for a dry run)."""
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    for name, version in PRESENT.items():
        info = os.path.join(purelib, f"{name.replace('-', '_')}-{version}.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w") as handle:
            handle.write(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        open(os.path.join(info, "RECORD"), "w").close()


@pytest.mark.skipif(sysconfig.get_platform().startswith("win"), reason="a POSIX virtual environment layout")
def test_install_keeps_an_installed_torch(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    _mark_installed(venv)
    result = subprocess.run([str(venv / "bin" / "pip"), "install", "--dry-run", "-e", f"{ROOT}[export]"],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0 and "No matching distribution found for setuptools" in result.stderr:
        pytest.skip("no package index reachable for the build backend (setuptools) of the dry run")
    assert result.returncode == 0, result.stderr[-2000:]
    would = [line for line in result.stdout.splitlines() if line.startswith("Would install")]
    assert would == ["Would install munit-fast-0.1.0"], result.stdout[-2000:]
    assert f"torch>=2.1 in {venv}" in result.stdout  # the Jetson wheel satisfies the requirement


def test_wheel_ships_the_demo_model_with_its_one_config(tmp_path):
    """The built wheel holds the demo weights, the classifier and the one demo config (the file users
    train it with), the original masters, and the top-level folders installed inside munit_fast."""
    import zipfile

    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                             "-w", str(tmp_path), ROOT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("munit_fast-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("munit_fast/assets/shapes_demo_gen.pt", "munit_fast/assets/mode_classifier_shapes.pt",
                     "munit_fast/configs/shapes_demo.yaml", "munit_fast/configs/edges2shoes_folder.yaml",
                     "munit_fast/kernels/__init__.py", "munit_fast/export/__init__.py",
                     "munit_fast/training/__init__.py"):
        assert required in names, required
    assert [name for name in names if name.endswith("shapes_demo.yaml")] == ["munit_fast/configs/shapes_demo.yaml"]
