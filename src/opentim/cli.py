"""The ``opentim`` command: serve, usersig, demo, migrate."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from opentim.protocol import DEFAULT_EXPIRE, make_usersig
from opentim.server.app import Server
from opentim.server.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_PORT,
    DEFAULT_SDKAPPID,
    ServerConfig,
    load_or_create_secret_key,
)
from opentim.server.store.sqlite import SqliteStore

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


@app.command()
def serve(
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
) -> None:
    """Run a server on the embedded SQLite store until SIGINT or SIGTERM."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    config = ServerConfig(
        host=host,
        port=port,
        data_dir=data_dir,
        sdkappid=sdkappid,
        secret_key=secret_key,
        auto_register=not no_auto_register,
        one_session_per_platform=one_session_per_platform,
    )
    asyncio.run(_serve(config))


async def _serve(config: ServerConfig) -> None:
    server = Server(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
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
def migrate(data_dir: DataDir = Path(DEFAULT_DATA_DIR)) -> None:
    """Create or upgrade the database schema, then exit."""

    async def run() -> None:
        store = SqliteStore(ServerConfig(data_dir=data_dir).db_path)
        await store.open()
        await store.close()

    asyncio.run(run())
    typer.echo(f"schema up to date in {data_dir}")


@app.command()
def demo() -> None:
    """Start a server in a temporary directory, chat as three users, print their lists."""
    from opentim.demo import DemoError, run_demo

    try:
        run_demo()
    except DemoError as exc:
        typer.echo(f"demo failed: {exc}", err=True)
        raise typer.Exit(1) from exc


def main() -> None:
    app()
