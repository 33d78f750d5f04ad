from pybind11.setup_helpers import Pybind11Extension
from setuptools import setup

setup(ext_modules=[Pybind11Extension("pybinddemo._core", ["src/core.cpp"], cxx_std=17)])
