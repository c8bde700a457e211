"""Command-line interface: ``mibound estimate|independence|sandwich|lautum|bench|matrix|...``.

The CLI is thin: every sub-command lives in ``mibound._commands.<name>`` as a
:class:`click.Command` named ``command`` and only parses arguments, calls the library and
prints. Sub-command modules are imported lazily so that ``mibound --help`` stays fast.

Errors a user can fix (bad arguments, bad files, bad data: :class:`mibound._checks.InputError`,
click's usage errors, operating-system errors such as a missing file) print one line on stderr
and exit with status 2, without a traceback; set ``MIBOUND_DEBUG=1`` to see the traceback. Any
other exception is a bug: its traceback is shown with a line asking to report it (status 1).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence

import click

from mibound._checks import InputError
from mibound._version import __version__

__all__ = ["UserError", "main"]

_COMMANDS: dict[str, str] = {
    "estimate": "Estimate MI between two arrays from samples only (black box).",
    "independence": "Permutation test of independence between two arrays (a p-value).",
    "sandwich": "Lower and upper bounds on MI of a latent-variable model (known densities).",
    "lautum": "Lower and upper bounds on the Lautum information of a latent-variable model.",
    "bench": "Run a benchmark suite of tasks with known MI (resumable).",
    "report": "Write tables and plots from a benchmark results file.",
    "demo": "Reproduce the talk's message in about three minutes; writes a report.",
    "tasks": "List the tasks with known MI.",
    "matrix": "MI between every pair of columns of a table (CSV matrix, heat map).",
}


class UserError(click.ClickException):
    """An error the user can fix; printed as one line, exit status 2."""

    exit_code = 2


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module = importlib.import_module(f"mibound._commands.{cmd_name}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(_COMMANDS.items()))


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mibound")
def cli() -> None:
    """mibound: bounds and estimates of mutual information, by what you know about p(x, z)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI and returns the exit status (0 ok, 1 internal error, 2 user error).

    Arguments:
        argv: The arguments without the program name; ``sys.argv[1:]`` when None.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("MIBOUND_DEBUG", "") not in ("", "0")
    try:
        rv = cli.main(args=args, prog_name="mibound", standalone_mode=False)
    except click.exceptions.Exit as err:
        return int(err.exit_code)
    except click.exceptions.Abort:
        click.echo("mibound: interrupted", err=True)
        return 130
    except click.ClickException as err:
        message = " ".join(err.format_message().split())
        click.echo(f"mibound: error: {message}", err=True)
        return 2
    except (InputError, OSError) as err:
        if debug:
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        click.echo(f"mibound: error: {message}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("mibound: interrupted", err=True)
        return 130
    except Exception:
        traceback.print_exc()
        click.echo(
            f"mibound: internal error: a bug in mibound {__version__} (unless the traceback ends "
            "in code you passed); please report it with the traceback above at "
            "https://github.com/mibound/mibound/issues",
            err=True,
        )
        return 1
    return int(rv) if isinstance(rv, int) else 0
