"""Public argument vocabulary and the one-release acceptance of old names."""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any, TextIO, TypeVar

from evaltools.exceptions import SpecificationError

__all__ = ["renamed_arguments", "renamed_kwargs", "renamed_value", "warn_renamed"]

F = TypeVar("F", bound=Callable[..., Any])


def warn_renamed(old: str, new: str, where: str, *, what: str = "parameter", stacklevel: int = 3) -> None:
    """Emit the ``FutureWarning`` for a renamed parameter or option value.

    Parameters
    ----------
    old, new : str
        The old and the new name.
    where : str
        The function or method, e.g. ``"CoxPH.fit"``.
    what : str, default="parameter"
        What was renamed, e.g. ``"parameter"`` or ``"cov_type value"``.
    stacklevel : int, default=3
        Passed to :func:`warnings.warn` (3: the caller of the function that calls this).
    """
    warnings.warn(
        f"{where}: the {what} {old!r} is renamed {new!r}; the old name is accepted for one release. "
        f"Use {new!r}.",
        FutureWarning,
        stacklevel=stacklevel,
    )


def renamed_kwargs(
    kwargs: dict[str, Any],
    renames: Mapping[str, str],
    where: str,
    *,
    current: Mapping[str, Any] | None = None,
    stacklevel: int = 4,
) -> dict[str, Any]:
    """Pop old keyword names out of ``kwargs`` and return their values under the new names.

    Parameters
    ----------
    kwargs : dict
        The ``**kwargs`` a public function received; old names are removed from it.
    renames : mapping
        ``{old_name: new_name}``.
    where : str
        The function or method, for the warning and error messages.
    current : mapping, optional
        The values of the new-name parameters as passed; an old name given
        together with a new name that differs from its default (``None``
        marks "not given") is an error.
    stacklevel : int, default=4
        Passed to :func:`warnings.warn`.

    Returns
    -------
    dict
        ``{new_name: value}`` for every old name that was given.

    Raises
    ------
    SpecificationError
        When both the old and the new name are given.
    """
    out: dict[str, Any] = {}
    for old, new in renames.items():
        if old not in kwargs:
            continue
        value = kwargs.pop(old)
        if current is not None and current.get(new) is not None:
            raise SpecificationError(
                f"{where}: got both {old!r} (the old name) and {new!r}; pass only {new!r}."
            )
        warn_renamed(old, new, where, stacklevel=stacklevel)
        out[new] = value
    return out


def renamed_value(
    name: str, value: Any, renames: Mapping[Any, Any], where: str, *, stacklevel: int = 4
) -> Any:
    """Map an old option value to its new name with a ``FutureWarning`` (other values pass through).

    Parameters
    ----------
    name : str
        The parameter, e.g. ``"cov_type"``.
    value : Any
        The value given.
    renames : mapping
        ``{old_value: new_value}``.
    where : str
        The function or method.
    stacklevel : int, default=4
        Passed to :func:`warnings.warn`.

    Returns
    -------
    Any
        The new value.
    """
    if isinstance(value, str) and value in renames:
        warn_renamed(value, renames[value], where, what=f"{name} value", stacklevel=stacklevel)
        return renames[value]
    return value


@contextlib.contextmanager
def _warnings_at(caller: FrameType) -> Iterator[None]:
    """Show the warnings that land on the decorator's frame at ``caller``'s line instead.

    A warning raised in a decorated function with ``stacklevel`` counted for a
    direct call lands one frame short, on the wrapper of
    :func:`renamed_arguments`; it is shown (after the usual filters, with
    the caller's module and registry) where the function was called.  Other
    warnings pass through untouched.
    """
    at_file, at_line, globs = caller.f_code.co_filename, caller.f_lineno, caller.f_globals
    previous = warnings.showwarning

    def relay(
        message: Warning | str, category: type[Warning], filename: str, lineno: int,
        file: TextIO | None = None, line: str | None = None,
    ) -> None:
        if filename != _HERE:
            previous(message, category, filename, lineno, file, line)
            return
        warnings.warn_explicit(
            message,
            category,
            at_file,
            at_line,
            module=globs.get("__name__"),
            registry=globs.setdefault("__warningregistry__", {}),
            module_globals=globs,
        )

    warnings.showwarning = relay
    try:
        yield
    finally:
        if warnings.showwarning is relay:
            warnings.showwarning = previous


_HERE = warn_renamed.__code__.co_filename  # the file of the wrapper frame


def renamed_arguments(**renames: str) -> Callable[[F], F]:
    """Decorator: accept old keyword names of a public function with a ``FutureWarning``.

    Parameters
    ----------
    **renames : str
        ``old_name="new_name"`` pairs; the function's signature has the new names.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    >>> @renamed_arguments(maxiter="max_iter")
    ... def fit(*, max_iter=10):
    ...     return max_iter
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fit(maxiter=3)
    3
    """

    def decorate(func: F) -> F:
        where = func.__qualname__.replace(".__init__", "")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise SpecificationError(
                            f"{where}: got both {old!r} (the old name) and {new!r}; pass only {new!r}."
                        )
                    warn_renamed(old, new, where, stacklevel=3)
                    kwargs[new] = kwargs.pop(old)
            with _warnings_at(sys._getframe(1)):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
