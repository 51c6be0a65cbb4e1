"""The wheel carries a native library (libdermscan_ffi, loaded with ctypes, not a CPython
extension): tag it for the platform it was built for, any Python 3 (`py3-none-<platform>`),
instead of the pure-Python `py3-none-any` setuptools would pick. Everything else is in
pyproject.toml; `build-wheel.sh` builds the library and the wheel."""

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.dist import Distribution


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class NativeDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(cmdclass={"bdist_wheel": PlatformWheel}, distclass=NativeDistribution)
