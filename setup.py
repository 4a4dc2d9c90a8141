"""Builds the C++ extension rdpt_fast._core (segmenter + token assignment) with pybind11."""

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
        cxx_std=17,
        extra_compile_args=["-O3"],
    ),
]

setup(ext_modules=ext_modules, cmdclass={"build_ext": build_ext})
