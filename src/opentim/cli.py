"""The ``opentim`` command: serve, usersig, demo, migrate, restore."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opentim.extras import MissingExtraError, require_extra
from opentim.protocol import DEFAULT_EXPIRE, make_usersig

# Only standard-library server modules here; the rest is imported inside the commands that run a
# server, after need("server"): on an SDK-only install (no `server` extra) `opentim usersig`
# works and `serve` says what to install.
from opentim.server.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_SDKAPPID,
    ENV_PREFIX,
    ConfigError,
    Limits,
    ServerConfig,
    load_or_create_secret_key,
    settable,
    setting_defaults,
)

if TYPE_CHECKING:
    from opentim.server.app import Server
    from opentim.server.store.base import Store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="opentim: a self-hosted IM server with Tencent IM's TIM conversation API.",
)

Host = Annotated[str, typer.Option(envvar="OPENTIM_HOST", help="Address to listen on.")]
Port = Annotated[
    int, typer.Option(envvar="OPENTIM_PORT", help="Port to listen on (0 picks a free one).")
]
DataDir = Annotated[
    Path, typer.Option(envvar="OPENTIM_DATA_DIR", help="Where the database and key live.")
]
SdkAppId = Annotated[int, typer.Option(envvar="OPENTIM_SDKAPPID", help="The app id served.")]
SecretKey = Annotated[
    str | None,
    typer.Option(
        envvar="OPENTIM_SECRET_KEY", help="UserSig secret key (default: kept in the data dir)."
    ),
]
StoreUrl = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="OPENTIM_STORE",
        help="postgresql://… to share state between nodes (default: SQLite in the data dir).",
    ),
]


def fail(message: str) -> typer.Exit:
    """Print one line on stderr; the exit to raise."""
    typer.echo(f"opentim: {message}", err=True)
    return typer.Exit(1)


def need(extra: str, command: str) -> None:
    """Exit with one line naming the extra to install when its packages are missing."""
    try:
        require_extra(extra, f"opentim {command}")
    except MissingExtraError as exc:
        raise fail(str(exc)) from None


SETTINGS = setting_defaults()


def flag(name: str, help: str, *names: str) -> Any:
    """A ``serve`` flag for the setting ``name``: not given is None, so the lower layers
    (``OPENTIM_*``, the file, the default) decide; help says its variable and default."""
    default = SETTINGS[name]
    shown = "none" if default is None else str(default) or '""'
    return typer.Option(
        *(names or [f"--{name.replace('_', '-')}"]),
        help=f"{help} (env {ENV_PREFIX}{name.upper()}, default {shown})",
        show_default=False,
    )


SERVE_EPILOG = (
    "Each setting comes from its flag, else its OPENTIM_<NAME> variable, else the --config "
    "TOML file (names as below, - or _), else its default; any other name is refused. "
    f"Settings: {', '.join(SETTINGS)}; and limits.NAME (a limits table in the file) for each "
    f"of: {', '.join(f.name for f in settable(Limits))}. See docs/configuration.md."
)


@app.command(epilog=SERVE_EPILOG)
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, flag("host", "Address to listen on.")] = None,
    port: Annotated[int | None, flag("port", "Port to listen on (0 picks a free one).")] = None,
    data_dir: Annotated[Path | None, flag("data_dir", "Where the database and key live.")] = None,
    sdkappid: Annotated[int | None, flag("sdkappid", "The app id served.")] = None,
    secret_key: Annotated[
        str | None, flag("secret_key", "UserSig secret key (none: kept in the data dir).")
    ] = None,
    auto_register: Annotated[
        bool | None,
        flag(
            "auto_register",
            "Create the account of an unknown user who logs in with a valid UserSig "
            "(--no-auto-register refuses them).",
            "--auto-register/--no-auto-register",
        ),
    ] = None,
    one_session_per_platform: Annotated[
        bool | None,
        flag(
            "one_session_per_platform",
            "A login replaces the user's other session on the same platform.",
            "--one-session-per-platform/--any-sessions-per-platform",
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        flag(
            "log_level",
            "DEBUG, INFO, WARNING, ERROR or CRITICAL. INFO shows logins, logouts and refused "
            "requests with their codes (a flood: one summary line per interval).",
        ),
    ] = None,
    store: Annotated[
        str | None,
        flag(
            "store", "postgresql://… to share state between nodes (none: SQLite in the data dir)."
        ),
    ] = None,
    bus: Annotated[
        str | None,
        flag("bus", "redis://… or nats://… to fan out between nodes (none: in-process)."),
    ] = None,
    node_id: Annotated[str | None, flag("node_id", "This node's name (none: random).")] = None,
    bus_prefix: Annotated[
        str | None,
        flag("bus_prefix", "Bus channel/subject prefix: one per deployment sharing a bus."),
    ] = None,
    tls_cert: Annotated[
        Path | None, flag("tls_cert", "PEM certificate chain: with --tls-key, serve wss://.")
    ] = None,
    tls_key: Annotated[Path | None, flag("tls_key", "The PEM private key of --tls-cert.")] = None,
    trusted_proxies: Annotated[
        list[str] | None,
        flag(
            "trusted_proxies",
            "A load balancer (address or network) whose PROXY protocol header names the client; "
            "repeat for several.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            envvar="OPENTIM_CONFIG",
            help="A TOML file of these settings (flags and environment variables win).",
        ),
    ] = None,
) -> None:
    """Run a server node until SIGINT or SIGTERM: SQLite by default; PostgreSQL with Redis or
    NATS to run several nodes."""
    # Every start-up failure is one line on stderr (exit code 1), and nothing is created before
    # the checks pass: settings here, the data directory and the port in Server.start().
    need("server", "serve")
    from opentim.server import settings  # pydantic-settings: only where it is needed
    from opentim.server.app import Server

    given = {k: v for k, v in ctx.params.items() if v not in (None, [], ()) and k != "config"}
    try:
        chosen = settings.load_settings(given, config)
        server = Server(settings.to_config(chosen))
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    configure_logging(chosen.log_level)
    asyncio.run(_serve(server))


def configure_logging(level: str) -> None:
    """Log lines name their logger (``opentim.server.refusals``, ``opentim.tim`` …)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _serve(server: Server) -> None:
    from opentim.server.bus.base import BusUnavailableError
    from opentim.server.store.base import StoreError

    config = server.config
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except (ConfigError, StoreError, BusUnavailableError) as exc:
        print(f"opentim: cannot start: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    if server.secret_key_created:
        print(f"opentim created a secret key in {config.secret_key_path}", flush=True)
    print(f"opentim listening on {server.url}", flush=True)
    await stop.wait()
    await server.stop()
    print("opentim stopped", flush=True)


@app.command()
def usersig(
    user_id: Annotated[str, typer.Argument(help="The user the sig is for.")],
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    secret_key: SecretKey = None,
    sdkappid: SdkAppId = DEFAULT_SDKAPPID,
    expire: Annotated[int, typer.Option(help="Seconds the sig stays valid.")] = DEFAULT_EXPIRE,
) -> None:
    """Print a UserSig (TLSSigAPIv2 format) for USER_ID."""
    key = secret_key
    if key is None:
        if not (data_dir / "secret_key").exists():
            typer.echo(
                f"no secret key in {data_dir}: start `opentim serve` once or pass --secret-key",
                err=True,
            )
            raise typer.Exit(2)
        key, _ = load_or_create_secret_key(data_dir)
    typer.echo(make_usersig(key, sdkappid, user_id, int(time.time()), expire))


def on_store(
    data_dir: Path,
    store: str,
    verb: str,
    work: Callable[[Store], Awaitable[object]] | None = None,
) -> None:
    """Open the store (migrating it), do ``work`` on it, close it; a failure is one line."""
    need("server", verb)
    from opentim.server.app import make_store
    from opentim.server.store.base import StoreError

    try:
        target = make_store(ServerConfig(data_dir=data_dir, store=store))
    except ConfigError as exc:
        raise fail(str(exc)) from exc

    async def run() -> None:
        await target.open()
        try:
            if work is not None:
                await work(target)
        finally:
            await target.close()

    try:
        asyncio.run(run())
    except StoreError as exc:
        raise fail(f"cannot {verb}: {exc}") from exc


@app.command()
def migrate(data_dir: DataDir = Path(DEFAULT_DATA_DIR), store: StoreUrl = "") -> None:
    """Create or upgrade the database schema (SQLite in the data dir, or ``--store``), then exit.

    Nodes also migrate when they start; several starting at once migrate once.
    """
    on_store(data_dir, store, "migrate")
    typer.echo(f"schema up to date in {store or data_dir}")


@app.command()
def restore(
    backup: Annotated[
        Path | None,
        typer.Argument(help="A SQLite backup to put in the data dir (not with --store)."),
    ] = None,
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    store: StoreUrl = "",
) -> None:
    """Restore a backup and give the database a new identity, so devices resync from it.

    Stop every server first. SQLite: ``opentim restore BACKUP_FILE [--data-dir D]`` puts the
    backup in place. PostgreSQL: restore with pg_restore, then run ``opentim restore --store
    postgresql://…``. See docs/operations.md.
    """
    need("server", "restore")
    from opentim.server.store.base import StoreError
    from opentim.server.store.restore import put_sqlite_backup

    if store and backup is not None:
        raise fail("with --store, restore the dump with pg_restore, then run this without a file")
    if not store and backup is None:
        raise fail("name the backup file: opentim restore BACKUP_FILE [--data-dir D]")
    if backup is not None:
        try:
            put_sqlite_backup(backup, ServerConfig(data_dir=data_dir).db_path)
        except StoreError as exc:
            raise fail(f"cannot restore: {exc}") from exc
    on_store(data_dir, store, "restore", lambda target: target.rotate_database_id())
    where = store or ServerConfig(data_dir=data_dir).db_path
    typer.echo(f"restored {where}: new database identity; devices resync when they reconnect")


@app.command()
def demo(
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print each user's list as TIMConvGetConvList JSON, not as a table."
        ),
    ] = False,
) -> None:
    """Start a server in a temporary directory, chat as three users, show their lists."""
    need("server", "demo")
    from opentim.demo import DemoError, run_demo

    try:
        run_demo(json_output)
    except DemoError as exc:
        typer.echo(f"demo failed: {exc}", err=True)
        raise typer.Exit(1) from exc


accounts_app = typer.Typer(
    no_args_is_help=True, help="Official accounts (until the REST API): create, change, delete."
)
app.add_typer(accounts_app, name="official-account")


@accounts_app.command("put")
def official_account_put(
    account_id: Annotated[str, typer.Argument(help="The account's id.")],
    name: Annotated[str, typer.Argument(help="Its name.")],
    face_url: Annotated[str, typer.Option(help="Its face URL.")] = "",
    owner: Annotated[str, typer.Option(help="The user id of its owner.")] = "",
    introduction: Annotated[str, typer.Option(help="Its introduction.")] = "",
    organization: Annotated[str, typer.Option(help="Its organization.")] = "",
    custom_data: Annotated[str, typer.Option(help="Its custom data.")] = "",
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    store: StoreUrl = "",
) -> None:
    """Create an official account, or change one (users subscribe with
    TIMSubscribeOfficialAccount). On SQLite, stop the server first; on PostgreSQL any time
    (devices read the change on their next call; a running server's own path,
    ``FriendService.put_account``, also pushes it to subscribers)."""
    from opentim.protocol.friendship import OfficialAccount
    from opentim.protocol.limits import MAX_OFFICIAL_ACCOUNT_ID_BYTES, valid_group_id

    if len(account_id.encode()) > MAX_OFFICIAL_ACCOUNT_ID_BYTES or not valid_group_id(account_id):
        raise fail(f"an account id is 1-{MAX_OFFICIAL_ACCOUNT_ID_BYTES} printable ASCII bytes")
    account = OfficialAccount(
        account_id=account_id,
        name=name,
        face_url=face_url,
        owner=owner,
        introduction=introduction,
        organization=organization,
        custom_data=custom_data,
        create_time=int(time.time()),
    )
    on_store(data_dir, store, "put the account", lambda target: target.friends.put_account(account))
    typer.echo(f"official account {account_id} saved")


@accounts_app.command("delete")
def official_account_delete(
    account_id: Annotated[str, typer.Argument(help="The account's id.")],
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    store: StoreUrl = "",
) -> None:
    """Delete an official account and its subscriptions (on SQLite, stop the server first)."""
    on_store(data_dir, store, "delete the account", lambda t: t.friends.delete_account(account_id))
    typer.echo(f"official account {account_id} deleted")


capi_app = typer.Typer(no_args_is_help=True, help="The C library: libImSDK.so and its headers.")
app.add_typer(capi_app, name="capi")


@capi_app.command("build")
def capi_build(
    out: Annotated[
        Path, typer.Option("--out", help="Where libImSDK.so and include/ are written.")
    ] = Path("."),
    verbose: Annotated[bool, typer.Option(help="Show the compiler's commands.")] = False,
) -> None:
    """Build libImSDK.so and its C headers (in OUT/include); see docs/capi.md."""
    need("capi", "capi build")
    from opentim.capi.build import build

    try:
        built = build(out, verbose=verbose)
    except Exception as exc:  # the compiler's or cffi's own errors: one line, not a traceback
        raise fail(f"capi build failed: {exc}") from exc
    typer.echo(f"built {built.library}")
    typer.echo(f"headers in {built.include}")


def main() -> None:
    """The ``opentim`` command. A usage error (an unknown flag, a value of the wrong type) is
    one line on stderr too, not a framed message or a traceback."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # typer's (click's) usage errors
        message = exc.format_message()
        if type(exc).__name__ == "NoArgsIsHelpError":  # ``opentim`` alone: the help
            typer.echo(message)
            raise SystemExit(0) from None
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        typer.echo(f"opentim: {message}{hint}", err=True)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except typer.Abort:
        typer.echo("opentim: aborted", err=True)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
