"""Builds the C++ extension rdpt_fast._core (segmenter + token assignment) with pybind11."""

from glob import glob

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

ext_modules = [
    Pybind11Extension(
        "rdpt_fast._core",
        sources=[
            "csrc/unicode.cpp",
            "csrc/piece.cpp",
            "csrc/segmenter.cpp",
            "csrc/batch.cpp",
            "csrc/assign.cpp",
            "csrc/bindings.cpp",
        ],
        include_dirs=["csrc"],
        # headers and included sources: a change to any of them rebuilds the extension
        depends=sorted(glob("csrc/*.hpp") + glob("csrc/*.ipp") + glob("csrc/*.inc")),
        cxx_std=17,
        extra_compile_args=["-O3"],
    ),
]

setup(ext_modules=ext_modules, cmdclass={"build_ext": build_ext})
