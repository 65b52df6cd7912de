"""The ``lrsearch`` command line: a table of small commands, each a thin wrapper.

Every command module exposes ``HELP`` (one line), ``DESCRIPTION``, ``add_arguments(parser)``
and ``run(args) -> int``; the work itself lives in importable functions of the package.
Heavy imports (TensorFlow, Optuna) happen inside ``run`` so ``--help`` stays fast.

Exit status: 0 on success; 1 with a one-paragraph message when something outside the input
failed (a worker process died, the storage went away: :class:`lrsearch.errors.WorkerError`,
:class:`lrsearch.errors.StorageError`); 2 with a one-paragraph message on a user's mistake
(:class:`lrsearch.errors.UsageError`); 130 after Ctrl-C; 143 after SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
import textwrap
import threading
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any
from typing import NoReturn

from lrsearch.errors import StorageError
from lrsearch.errors import Terminated
from lrsearch.errors import UsageError
from lrsearch.errors import WorkerError
from lrsearch.quiet import quiet_warnings

# name -> module under lrsearch.cli; add a command by adding a line.
_COMMANDS: dict[str, str] = {
    "tune": "_tune",
    "best": "_best",
    "export": "_export",
    "find-lr": "_find_lr",
    "compare": "_compare",
    "report": "_report",
    "dashboard": "_dashboard",
}


def _load(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"lrsearch.cli.{module}")
    except ModuleNotFoundError as exc:  # a command not shipped yet
        if exc.name == f"lrsearch.cli.{module}":
            return None
        raise


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one paragraph (problem and where the fix is)."""

    def error(self, message: str) -> NoReturn:
        text = message.rstrip(".")
        self.exit(2, f"{_paragraph(self.prog, f'{text}. See `{self.prog} --help`.')}\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per available command."""
    parser = _Parser(
        prog="lrsearch",
        description=(
            "Search learning-rate schedules (family and parameters) for a Keras model with "
            "Optuna, then hand the winner back for your own model.fit."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in _COMMANDS.items():
        module = _load(module_name)
        if module is None:
            continue
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        # Values such as "-1,1" or "-1e-3" reach the command's own check (one paragraph, exit
        # 2) instead of argparse's "expected one argument" (the matcher of Python >= 3.13).
        p._negative_number_matcher = re.compile(r"^-\.?\d")
        p.set_defaults(_run=module.run)
    return parser


def error_paragraph(command: str, message: str) -> str:
    """Format a user error as one wrapped paragraph."""
    return _paragraph(f"lrsearch {command}", message)


def _paragraph(prog: str, message: str) -> str:
    text = " ".join(message.split())
    return textwrap.fill(
        f"{prog}: error: {text}",
        width=99,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _check_study_name(args: argparse.Namespace) -> None:
    """``--study-name ''`` is a mistake, not a request for the default study."""
    name = getattr(args, "study_name", None)
    if name is not None and not name.strip():
        raise UsageError(
            f"--study-name is empty (received {name!r}). Pass a name, e.g. --study-name "
            "digits-e20, or leave the flag out for the default study 'lrsearch'."
        )


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextmanager
def _sigterm_raises(then_ignore: bool = False) -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` from the start of ``main`` (as Ctrl-C raises
    ``KeyboardInterrupt``), so one arriving while a command starts up (imports TensorFlow,
    reads data) ends it with exit 143 and one line too; commands that run trials install
    their own handler (:func:`lrsearch.runner.signals.interrupt_once`) inside this one.
    ``then_ignore``: afterwards SIGTERM is ignored instead of restored (the process is about
    to exit with the command's status)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if then_ignore:  # SIG_IGN: Python's finalisation resets Python handlers to SIG_DFL
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None, *, exiting: bool = False) -> int:
    """Run one ``lrsearch`` command; its exit status (see the module docstring).

    ``exiting``: the process exits right after (:func:`console_main`), so Ctrl-C or SIGTERM
    arriving once the command has finished, while Python and TensorFlow shut down, is
    ignored: the work is done and recorded, and the status is the command's, not a bare -2 or
    -15.
    """
    with _sigterm_raises(then_ignore=exiting):
        try:
            return _main(argv)
        except Terminated:  # before the command's own handling began
            print("lrsearch: terminated (SIGTERM).", file=sys.stderr)
            return 143


def _main(argv: Sequence[str] | None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    quiet_warnings()
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # named after the command they were given to, with that command's --help
        command = _Parser(prog=f"lrsearch {args.command}")
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        _check_study_name(args)
        code = int(args._run(args))
    except UsageError as exc:
        print(error_paragraph(args.command, str(exc)), file=sys.stderr)
        return 2
    except Terminated:
        print(f"lrsearch {args.command}: terminated (SIGTERM).", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"lrsearch {args.command}: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `lrsearch export | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (WorkerError, StorageError) as exc:
        print(error_paragraph(args.command, str(exc)), file=sys.stderr)
        return 1
    except Exception as exc:  # a storage fault met outside the places that expect one
        from lrsearch.storage_faults import describe_storage_fault

        text = describe_storage_fault(exc)
        if text is None:
            raise
        print(error_paragraph(args.command, text), file=sys.stderr)
        return 1
    return code


def console_main() -> NoReturn:
    """The ``lrsearch`` console script: :func:`main` on ``sys.argv``, then exit."""
    from lrsearch.quiet import ignore_signal_races

    ignore_signal_races()
    sys.exit(main(exiting=True))


if __name__ == "__main__":  # pragma: no cover
    console_main()
