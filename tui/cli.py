"""The ``voipbin-tui`` command: the console (default), ``watch``, ``sandbox`` and ``config``.

Start-up speed matters (the first screen should appear as fast as a bare Textual app's), so this
module imports only the standard library at the top; each command imports what it needs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tui.options import EXIT_ERROR, EXIT_OK, EXIT_USAGE, ConsoleOptions

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "ConsoleOptions", "build_parser", "main"]


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: $VOIPBIN_TUI_CONFIG or the user config dir)"
    )
    parser.add_argument("--profile", metavar="NAME", help="use [profiles.NAME] from the config file")


def build_parser() -> argparse.ArgumentParser:
    from tui import __version__

    parser = argparse.ArgumentParser(
        prog="voipbin-tui",
        description="Live-test VoIPBIN real-time voice calls from the terminal. With no credentials "
        "configured it runs on a built-in VoIPBIN sandbox.",
        epilog="Commands: watch (JSON lines of every call event), test (run scenario files), "
        "phone (a headless answering softphone), "
        "sandbox (run the sandbox server), "
        "config path|check|example. `voipbin-tui COMMAND --help` for details.",
    )
    parser.add_argument("--version", action="version", version=f"voipbin-tui {__version__}")
    _add_common(parser)
    parser.add_argument("--sandbox", action="store_true", help="use the embedded sandbox even if credentials are set")
    parser.add_argument("--dial", action="store_true", help="dial the configured defaults at once")
    parser.add_argument("--attach", metavar="CALL_ID", help="follow an existing call (or groupcall) by id")
    parser.add_argument("--theme", metavar="NAME", help="Textual theme, or 'ansi' for the terminal's own colours")
    parser.add_argument("--api-url", metavar="URL", help="REST base including /v1.0")
    parser.add_argument(
        "--script",
        metavar="FILE",
        help="run a scenario file on screen (each step in the transcript; exit 0 pass, 1 fail)",
    )
    parser.add_argument("--allow-real", action="store_true", help="let --script place calls on the real service")
    return parser


def build_watch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voipbin-tui watch",
        description="Follow every call of the account and print one JSON object per line: "
        "kind call|groupcall|transcribe|transcript|speech|unrecognised|connection|gap. "
        "Credentials may also come from the config file or VOIPBIN_* variables.",
    )
    _add_common(parser)
    parser.add_argument("--api-url", metavar="URL", help="REST base including /v1.0")
    creds = parser.add_mutually_exclusive_group()
    creds.add_argument("--accesskey", metavar="KEY", help="accesskey (prefer VOIPBIN_ACCESSKEY: flags show in ps)")
    creds.add_argument("--token", metavar="JWT", help="JWT (prefer VOIPBIN_TOKEN)")
    creds.add_argument("--username", metavar="USER", help="agent login; the password comes from --password-env")
    parser.add_argument("--password-env", metavar="VAR", help="name of the environment variable holding the password")
    parser.add_argument("--no-speech", action="store_true", help="leave out transcribe_speech_* activity lines")
    return parser


def build_config_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voipbin-tui config", description="Inspect the configuration.")
    parser.add_argument(
        "action",
        choices=["path", "check", "example"],
        help="path: where the file is; check: validate it; example: print a file documenting every key",
    )
    _add_common(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args and not args[0].startswith("-") else None
    try:
        if command == "sandbox":
            return _sandbox(args[1:])
        if command == "watch":
            from tui.watchcmd import run_watch

            return run_watch(build_watch_parser().parse_args(args[1:]))
        if command == "phone":
            from tui.phonecmd import build_phone_parser, run_phone

            return run_phone(build_phone_parser().parse_args(args[1:]))
        if command == "config":
            return _config(build_config_parser().parse_args(args[1:]))
        if command == "test":
            from tui.runner.cli import main as test_main

            return test_main(args[1:])
        if command is not None:
            build_parser().error(f"unknown command {command!r} (commands: watch, test, phone, sandbox, config)")
        ns = build_parser().parse_args(args)
    except KeyboardInterrupt:
        return EXIT_OK
    if ns.script:
        problem = _script_problem(ns.script)
        if problem:
            print(problem, file=sys.stderr)
            return EXIT_USAGE
    options = ConsoleOptions(
        script=ns.script,
        allow_real=ns.allow_real,
        config=ns.config,
        profile=ns.profile,
        sandbox=ns.sandbox,
        dial=ns.dial,
        attach=ns.attach,
        theme=ns.theme,
        api_url=ns.api_url,
    )
    from tui.console import run_console

    return run_console(options)


def _sandbox(args: list[str]) -> int:
    """The standalone sandbox, with the config file's [sandbox] table under the environment and flags."""
    pre = argparse.ArgumentParser(add_help=False)
    _add_common(pre)
    ns, rest = pre.parse_known_args(args)
    if "-h" in rest or "--help" in rest:
        from tui.sandbox.standalone import build_parser

        build_parser().print_help()
        print("\n  --config PATH, --profile NAME: read the [sandbox] table of that config file (flags win)")
        return EXIT_OK
    from tui.configfile import ConfigError, config_location, merge_profile, read_config_file, selected_profile

    try:
        raw = read_config_file(config_location(ns.config))
        table = merge_profile(raw, selected_profile(raw, ns.profile)).get("sandbox", {})
    except ConfigError as exc:
        print(_terminal_safe(f"voipbin-tui sandbox: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    from tui.sandbox.standalone import main as sandbox_main

    return sandbox_main(rest, base=table if isinstance(table, dict) else {})


def _script_problem(path: str) -> str:
    """A --script file that is not a valid scenario is refused before the screen opens (FILE:LINE:COL)."""
    from pathlib import Path

    from tui.runner.loader import ScenarioError, load_scenario

    try:
        load_scenario(Path(path))
    except ScenarioError as exc:
        return "\n".join(_terminal_safe(f"voipbin-tui --script: {p}") for p in exc.problems)
    return ""


def _terminal_safe(text: str) -> str:
    """Problems quote the config file, which may not be ours: its control characters are escaped."""
    from tui.voipbin.safetext import safe_text

    return safe_text(text, newlines=True, limit=4000)


def _config(ns: argparse.Namespace) -> int:
    from tui.config import check_config, config_location, example_toml, load_settings

    if ns.action == "example":
        print(example_toml(), end="")
        return EXIT_OK
    if ns.action == "path":
        location = config_location(ns.config)
        state = "exists" if location.exists else "does not exist yet (defaults apply)"
        print(f"{location.path}\n  source: {location.source}; {state}")
        return EXIT_OK
    location, problems = check_config(ns.config)
    if problems:
        print(f"{location.path}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(_terminal_safe(f"  - {problem}"), file=sys.stderr)
        return EXIT_ERROR
    from tui.config import ConfigError

    try:
        settings, _ = load_settings(ns.config, ns.profile)
    except ConfigError as exc:
        print(_terminal_safe(str(exc)), file=sys.stderr)
        return EXIT_ERROR
    where = str(location.path) if location.exists else f"{location.path} (not present: defaults)"
    mode = "VoIPBIN at " + settings.api_url if settings.has_credentials() else "embedded sandbox (no credentials)"
    if settings.use_sandbox == "always":
        mode = "embedded sandbox (use_sandbox = always)"
    profile = f", profile {settings.profile}" if settings.profile else ""
    print(f"{where}: OK{profile}\n  mode: {mode}")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
