"""Modules that are also their main function (``pixinfo.assess``, ``pixinfo.predict``, ``pixinfo.study``)."""

from __future__ import annotations

import sys
import types


def make_module_callable(module_name: str, function: str) -> None:
    """Let the module ``module_name`` be called as its function ``function``.

    Importing a submodule rebinds the package attribute of the same name (``pixinfo.assess``) to
    the module, so ``pixinfo.assess(...)`` must work on the module itself.
    """

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(self, function)(*args, **kwargs)

    CallableModule.__doc__ = f"``{module_name}`` is this module and, called, its function ``{function}``."
    sys.modules[module_name].__class__ = CallableModule
