"""`englog login` and `englog log`: log an entry from a terminal or a git hook.

They talk GraphQL over HTTP to a running EngLog with a personal access token
(`createAccessToken`), kept with the server's URL in `$XDG_CONFIG_HOME/englog/config.json`
(`~/.config/englog/config.json` without it), readable by its owner only (0600, in a 0700
folder). Only the standard library is used: the command must start fast in a hook, and must
not need the API's own libraries.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TYPES = (
    "MEETING",
    "CODE",
    "DEBUG",
    "DOCS",
    "MENTORING",
    "REVIEW",
    "PLANNING",
    "LEARNING",
    "OPS",
    "ADMIN",
)
TIMEOUT_SECONDS = 30.0
MAX_MINUTES = 24 * 60

ME = "{ me { email } }"
PROJECTS = "{ projects { id name } }"
CREATE_ENTRY = """mutation($input: CreateLogEntryInput!) {
  createLogEntry(input: $input) {
    id title type durationMinutes project { name } tags { name } } }"""


class CommandError(Exception):
    """What the command prints (on stderr) before it exits with 1."""


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "englog" / "config.json"


def read_config(path: Path | None = None) -> dict[str, str]:
    path = path or config_path()
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    if not isinstance(value, dict):
        raise CommandError(f"{path} is not a JSON object")
    return {key: item for key, item in value.items() if isinstance(item, str)}


def write_config(config: dict[str, str], path: Path | None = None) -> Path:
    """Writes the config readable by its owner only: the folder 0700, the file 0600 (set
    when it is created, so the token is never readable by others, not even for a moment)."""
    path = path or config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".json")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(config, file, indent=2)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def endpoint(server: str) -> str:
    """The GraphQL URL of a server given as `http://host:port` (or its /graphql URL)."""
    parts = urllib.parse.urlsplit(server.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(f"not an http(s) URL: {server!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/graphql"):
        path += "/graphql"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class Client:
    url: str
    token: str

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's data; CommandError with the API's code and fields when it failed."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(  # noqa: S310 - endpoint() allows http(s) only
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "englog-cli",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:  # a 4xx/5xx still carries GraphQL errors
            raw = exc.read()
            if not raw:
                raise CommandError(f"{self.url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CommandError(f"cannot reach {self.url}: {reason}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise CommandError(f"{self.url} did not answer JSON") from None
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if errors:
            raise CommandError(describe(errors))
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise CommandError(f"{self.url} answered no data")
        return data


def describe(errors: list[dict[str, Any]]) -> str:
    """`CODE: message`, then one `  field: message` line per field of each error."""
    lines = []
    for error in errors:
        extensions = error.get("extensions") or {}
        code = extensions.get("code", "ERROR")
        lines.append(f"{code}: {error.get('message', '')}")
        fields = extensions.get("fields") or {}
        lines.extend(f"  {field}: {message}" for field, message in fields.items())
    return "\n".join(lines)


def client_from(args: argparse.Namespace) -> Client:
    config = read_config()
    server = args.server or os.environ.get("ENGLOG_SERVER") or config.get("server")
    token = args.token or os.environ.get("ENGLOG_TOKEN") or config.get("token")
    if not server or not token:
        raise CommandError(
            "no server or token: run `englog login --server URL --token TOKEN` first "
            "(a token from createAccessToken)"
        )
    return Client(endpoint(server), token)


def project_id(client: Client, name: str) -> str:
    projects = client.data(PROJECTS)["projects"]
    wanted = name.strip().casefold()
    for project in projects:
        if project["name"].casefold() == wanted:
            return str(project["id"])
    known = ", ".join(sorted(project["name"] for project in projects)) or "none yet"
    raise CommandError(f"no project named {name!r} (your projects: {known})")


def entry_input(args: argparse.Namespace, project: str | None) -> dict[str, Any]:
    end = datetime.now(UTC).replace(microsecond=0)
    entry: dict[str, Any] = {
        "title": args.title,
        "type": args.type,
        "startTime": (end - timedelta(minutes=args.minutes)).isoformat(),
        "endTime": end.isoformat(),
    }
    if args.description:
        entry["description"] = args.description
    if project is not None:
        entry["projectId"] = project
    if args.tag:
        entry["tags"] = args.tag
    return entry


def summary(entry: dict[str, Any]) -> str:
    parts = [entry["type"], f"{entry['durationMinutes']} min"]
    if entry.get("project"):
        parts.append(entry["project"]["name"])
    parts.extend(f"#{tag['name']}" for tag in entry.get("tags") or [])
    return f"{entry['id']}  {' · '.join(parts)} · {entry['title']}"


def cmd_log(args: argparse.Namespace) -> int:
    try:
        client = client_from(args)
        project = project_id(client, args.project) if args.project else None
        data = client.data(CREATE_ENTRY, {"input": entry_input(args, project)})
    except CommandError as exc:
        print(f"englog log: {exc}", file=sys.stderr)
        return 1
    print(summary(data["createLogEntry"]))
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("ENGLOG_TOKEN") or getpass.getpass("Access token: ")
    try:
        client = Client(endpoint(args.server), token.strip())
        email = client.data(ME)["me"]["email"]
        path = write_config({"server": args.server, "token": client.token})
    except CommandError as exc:
        print(f"englog login: {exc}", file=sys.stderr)
        return 1
    print(f"Signed in to {args.server} as {email}; token kept in {path}")
    return 0


def _type(value: str) -> str:
    upper = value.upper()
    if upper not in TYPES:
        raise argparse.ArgumentTypeError(f"one of {', '.join(t.lower() for t in TYPES)}")
    return upper


def _minutes(value: str) -> int:
    try:
        minutes = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number of minutes") from None
    if not 1 <= minutes <= MAX_MINUTES:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_MINUTES}")
    return minutes


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`login` and `log`, on the CLI's subcommands."""
    login = commands.add_parser(
        "login", help="keep a server URL and personal access token for `englog log`"
    )
    login.add_argument("--server", required=True, help="e.g. https://englog.example.com")
    login.add_argument(
        "--token", default=None, help="a personal access token (else $ENGLOG_TOKEN, else asked)"
    )
    login.set_defaults(run=cmd_login)

    log = commands.add_parser("log", help="log a work entry that just ended, on the server")
    log.add_argument("title", help="what was done, e.g. 'Reviewed the payments PR'")
    log.add_argument("--type", type=_type, default="CODE", help="activity type (default code)")
    log.add_argument(
        "--minutes", type=_minutes, default=30, help="how long, ending now (default 30)"
    )
    log.add_argument("--project", default=None, help="an existing project, by name")
    log.add_argument("--tag", action="append", default=None, help="a tag name (repeatable)")
    log.add_argument("--description", default=None)
    log.add_argument("--server", default=None, help="default $ENGLOG_SERVER, else the config's")
    log.add_argument("--token", default=None, help="default $ENGLOG_TOKEN, else the config's")
    log.set_defaults(run=cmd_log)
