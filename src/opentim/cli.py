"""The ``opentim`` command: serve, usersig, demo, migrate."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opentim.extras import MissingExtraError, require_extra
from opentim.protocol import DEFAULT_EXPIRE, make_usersig

# The server's modules are imported inside the commands that run it, after need("server"): on
# an SDK-only install (no `server` extra) `opentim usersig` works and `serve` says what to install.
from opentim.server.defaults import (
    DEFAULT_DATA_DIR,
    DEFAULT_PORT,
    DEFAULT_SDKAPPID,
    load_or_create_secret_key,
)

if TYPE_CHECKING:
    from opentim.server.app import Server

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


def read_config_file(path: Path) -> dict[str, Any]:
    """Settings from a TOML file, named as the flags (``store``, ``bus``, ``node-id`` …), at the
    top level or under ``[opentim]``.

    Raises:
        ConfigError: the file cannot be read, or names a setting that does not exist.
    """
    from opentim.server.config import ConfigError, ServerConfig

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    section = data.get("opentim", data)
    settings = {str(k).replace("-", "_"): v for k, v in section.items()}
    known = {f.name for f in fields(ServerConfig)} | {"log_level", "no_auto_register"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown settings in {path}: {', '.join(unknown)}")
    return settings


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


@app.command()
def serve(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Port = DEFAULT_PORT,
    data_dir: DataDir = Path(DEFAULT_DATA_DIR),
    sdkappid: SdkAppId = DEFAULT_SDKAPPID,
    secret_key: SecretKey = None,
    no_auto_register: Annotated[
        bool,
        typer.Option(
            "--no-auto-register",
            envvar="OPENTIM_NO_AUTO_REGISTER",
            help="Refuse logins of unknown users instead of creating their accounts.",
        ),
    ] = False,
    one_session_per_platform: Annotated[
        bool,
        typer.Option(
            "--one-session-per-platform",
            envvar="OPENTIM_ONE_SESSION_PER_PLATFORM",
            help="A login replaces the user's other session on the same platform.",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(envvar="OPENTIM_LOG_LEVEL")] = "WARNING",
    store: StoreUrl = "",
    bus: Annotated[
        str,
        typer.Option(
            envvar="OPENTIM_BUS",
            help="redis://… or nats://… to fan out between nodes (default: in-process).",
        ),
    ] = "",
    node_id: Annotated[
        str, typer.Option(envvar="OPENTIM_NODE_ID", help="This node's name (default: random).")
    ] = "",
    bus_prefix: Annotated[
        str,
        typer.Option(
            envvar="OPENTIM_BUS_PREFIX",
            help="Bus channel/subject prefix: one per deployment sharing a Redis or NATS.",
        ),
    ] = "opentim",
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
    need("server", "serve")
    from opentim.server.app import Server
    from opentim.server.config import ConfigError, ServerConfig

    given: dict[str, Any] = {
        "host": host,
        "port": port,
        "data_dir": data_dir,
        "sdkappid": sdkappid,
        "secret_key": secret_key,
        "no_auto_register": no_auto_register,
        "one_session_per_platform": one_session_per_platform,
        "log_level": log_level,
        "store": store,
        "bus": bus,
        "node_id": node_id,
        "bus_prefix": bus_prefix,
    }
    if config is not None:
        try:
            from_file = read_config_file(config)
        except ConfigError as exc:
            raise fail(str(exc)) from exc
        for name, value in from_file.items():
            source = ctx.get_parameter_source(name)
            if source is None or source.name == "DEFAULT":
                given[name] = Path(value) if name == "data_dir" else value
    logging.basicConfig(
        level=str(given["log_level"]).upper(), format="%(asctime)s %(levelname)s %(message)s"
    )
    server_config = ServerConfig(
        host=given["host"],
        port=int(given["port"]),
        data_dir=Path(given["data_dir"]),
        sdkappid=int(given["sdkappid"]),
        secret_key=given["secret_key"],
        auto_register=not given["no_auto_register"],
        one_session_per_platform=bool(given["one_session_per_platform"]),
        store=given["store"],
        bus=given["bus"],
        node_id=str(given["node_id"]),
        bus_prefix=given["bus_prefix"],
    )
    try:
        server = Server(server_config)
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    asyncio.run(_serve(server))


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
    except (StoreError, BusUnavailableError) as exc:
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


@app.command()
def migrate(data_dir: DataDir = Path(DEFAULT_DATA_DIR), store: StoreUrl = "") -> None:
    """Create or upgrade the database schema (SQLite in the data dir, or ``--store``), then exit.

    Nodes also migrate when they start; several starting at once migrate once.
    """
    need("server", "migrate")
    from opentim.server.app import make_store
    from opentim.server.config import ConfigError, ServerConfig
    from opentim.server.store.base import StoreError

    try:
        target = make_store(ServerConfig(data_dir=data_dir, store=store))
    except ConfigError as exc:
        raise fail(str(exc)) from exc

    async def run() -> None:
        await target.open()
        await target.close()

    try:
        asyncio.run(run())
    except StoreError as exc:
        raise fail(f"cannot migrate: {exc}") from exc
    typer.echo(f"schema up to date in {store or data_dir}")


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
    app()
