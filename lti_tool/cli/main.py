"""`plc-bridge`: run the demo or the server, migrate the database, register platforms, rotate keys."""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lti_tool.cli import district as district_cli
from lti_tool.cli import evidence as evidence_cli
from lti_tool.cli import lrs as lrs_cli
from lti_tool.cli import policy as policy_cli
from lti_tool.cli import results as results_cli
from lti_tool.cli.context import open_database, settings_or_exit
from lti_tool.lti.service_tokens import ServiceClient
from lti_tool.settings import EVERY_ADDRESS, Settings
from lti_tool.workers.in_process import delivery_jobs, start_in_process, start_loops
from lti_tool.workers.retention import retention_pass
from models.database import Database
from models.keys import ensure_key, published_keys, rotate_keys
from models.migrate import current_revision, head_revision, prepare, upgrade
from models.platform import Deployment, Platform
from xapi import outbox as outbox_service


@click.group(help="PLC Bridge: an LTI 1.3 tool for Professional Learning Communities.")
def main() -> None:
    """Each command loads the settings (and configures logging from them) through cli/context.py."""


def _serve(settings: Settings, host: str, port: int, threads: int) -> None:
    from waitress import serve

    from lti_tool.web.app import create_app, settle_heap

    database = Database(settings.database_url)
    prepare(database)
    app = create_app(settings, database)
    workers = start_in_process(database, settings, app.extensions["plc_services"])
    settle_heap()
    click.echo(f"PLC Bridge is running on {settings.public_base_url}/")
    if settings.demo_enabled:
        click.echo(f"  Demo LMS (click through a real LTI launch): {settings.public_base_url}/demo/")
    click.echo(f"  Moodle set-up values: {settings.public_base_url}/setup")
    click.echo(f"  Database: {settings.database_url.split('@')[-1]}")
    try:
        serve(app, host=host, port=port, threads=threads, ident="plc-bridge")
    finally:
        workers.stop()


@main.command(help="Run with embedded defaults (SQLite, generated keys) and the demo LMS at /demo.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    settings = settings_or_exit(demo_enabled=True, public_base_url=f"http://{host}:{port}")
    if settings.production:
        raise click.ClickException("PLC_PRODUCTION is set: the demo LMS cannot run in production")
    _serve(settings, host, port, threads=8)


@main.command(help="Run the tool (settings from PLC_* variables and PLC_CONFIG_FILE).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--production", is_flag=True, help="gunicorn with --workers processes; the schema must be migrated")
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes (--production)")
def serve(host: str, port: int, threads: int, production: bool, workers: int) -> None:
    settings = settings_or_exit()
    if not production:
        if host in EVERY_ADDRESS and not settings.public_base_url_is_set:
            click.echo(
                f"Listening on every address: set PLC_PUBLIC_BASE_URL to the address Moodle reaches "
                f"(e.g. http://10.0.0.5:{port}); until then links name {settings.served_at(host, port).public_base_url}"
            )
        _serve(settings.served_at(host, port), host, port, threads)
        return
    if not settings.production:
        raise click.ClickException("--production needs PLC_PRODUCTION=true and its settings (see README, Deploy)")
    open_database(settings)  # refuses to start on a schema that is not at the latest migration
    os.execv(sys.executable, gunicorn_command(host, port, workers, threads))


# How long gunicorn keeps an idle connection open: longer than nginx keeps its idle connections to it (upstream
# keepalive_timeout, 60 s in config/deploy/nginx.conf). With gunicorn's default of 2 s it closes connections nginx is
# about to reuse; a request sent on one as it closes fails, and nginx answers 502 to a form's POST, which it does not
# send again.
KEEP_ALIVE_SECONDS = 75


def gunicorn_command(host: str, port: int, workers: int, threads: int, access_log: bool = True) -> list[str]:
    """The production web server's command line (`plc-bridge serve --production`); the benchmarks run it without
    its access log."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "lti_tool.web.wsgi:app",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--keep-alive",
        str(KEEP_ALIVE_SECONDS),
        "--forwarded-allow-ips",
        "127.0.0.1",
        "--worker-tmp-dir",
        "/dev/shm",
    ]
    if access_log:
        # The path without the query string: links carry a signed session token (?s=…), which must not be logged.
        command += ["--access-logfile", "-", "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms']
    return command


@main.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply all migrations (safe to run again).")
def db_upgrade() -> None:
    database = open_database(settings_or_exit(), migrated=False)
    before = current_revision(database.engine)
    upgrade(database.engine)
    with database.transaction() as session:
        ensure_key(session)
    click.echo(
        f"database at revision {current_revision(database.engine)} (was {before or 'empty'}, head {head_revision()})"
    )


@main.group(help="Platform (LMS) registrations.")
def platform() -> None:
    pass


@platform.command("add", help="Register a platform, or add deployments to one already registered.")
@click.option("--issuer", required=True, help="Moodle: Platform ID")
@click.option("--client-id", required=True, help="Moodle: Client ID")
@click.option(
    "--deployment-id", "deployment_ids", multiple=True, required=True, help="Moodle: Deployment ID (repeatable)"
)
@click.option("--auth-login-url", help="Moodle: Authentication request URL")
@click.option("--auth-token-url", help="Moodle: Access token URL")
@click.option("--key-set-url", help="Moodle: Public keyset URL")
@click.option("--audience", default=None, help="Token audience, if the platform needs one other than the token URL")
@click.option("--name", default="", help="A name for people to read")
@click.option(
    "--share-email/--no-share-email",
    default=None,
    help="Identify this platform's people in learning records by email (mbox) instead of their LTI account",
)
def platform_add(
    issuer: str,
    client_id: str,
    deployment_ids: tuple[str, ...],
    auth_login_url: str | None,
    auth_token_url: str | None,
    key_set_url: str | None,
    audience: str | None,
    name: str,
    share_email: bool | None,
) -> None:
    database = open_database(settings_or_exit(), migrated=False)
    upgrade(database.engine)
    with database.transaction() as session:
        row = session.scalars(
            select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
        ).first()
        if row is None:
            missing = [
                flag
                for flag, value in (
                    ("--auth-login-url", auth_login_url),
                    ("--auth-token-url", auth_token_url),
                    ("--key-set-url", key_set_url),
                )
                if not value
            ]
            if missing:
                raise click.UsageError(f"a new platform needs {', '.join(missing)}")
            row = Platform(issuer=issuer, client_id=client_id)
            session.add(row)
        for flag, value in (
            ("--auth-login-url", auth_login_url),
            ("--auth-token-url", auth_token_url),
            ("--key-set-url", key_set_url),
        ):
            if value and not value.startswith(("https://", "http://")):
                raise click.UsageError(f"{flag} must be an http(s) URL, got {value!r}")
        row.auth_login_url = auth_login_url or row.auth_login_url
        row.auth_token_url = auth_token_url or row.auth_token_url
        if key_set_url and key_set_url != row.key_set_url:
            row.key_set_url, row.key_set_cache, row.key_set_fetched_at = key_set_url, None, None
        row.auth_audience = audience or row.auth_audience
        row.name = name or row.name
        if share_email is not None:
            row.share_email = share_email
        session.flush()
        known = {d.deployment_id for d in row.deployments}
        added = [d for d in deployment_ids if d not in known]
        for deployment_id in added:
            row.deployments.append(Deployment(deployment_id=deployment_id))
    click.echo(f"platform {issuer} (client_id {client_id}): deployments added {added or 'none'}")


@platform.command("list", help="Show registered platforms and deployments.")
def platform_list() -> None:
    database = open_database(settings_or_exit())
    with database.transaction() as session:
        rows = session.scalars(
            select(Platform).options(selectinload(Platform.deployments)).order_by(Platform.issuer, Platform.client_id)
        ).all()
        if not rows:
            click.echo("no platforms registered; add one with `plc-bridge platform add`")
        for row in rows:
            deployments = ", ".join(d.deployment_id for d in row.deployments) or "-"
            email = "share_email" if row.share_email else "account_only"
            click.echo(
                f"{row.issuer}\tclient_id={row.client_id}\tdeployments={deployments}\tjwks={row.key_set_url}\t{email}"
            )


@platform.command("remove", help="Remove a registration (or only some of its deployments).")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, help="Remove only these deployments")
def platform_remove(issuer: str, client_id: str, deployment_ids: tuple[str, ...]) -> None:
    database = open_database(settings_or_exit())
    with database.transaction() as session:
        row = session.scalars(
            select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
        ).first()
        if row is None:
            raise click.ClickException(f"no platform {issuer} with client_id {client_id}")
        if deployment_ids:
            removed = session.scalars(
                select(Deployment).where(Deployment.platform_id == row.id, Deployment.deployment_id.in_(deployment_ids))
            ).all()
            for deployment in removed:
                session.delete(deployment)
            click.echo(f"removed deployments {[d.deployment_id for d in removed]}")
        else:
            session.delete(row)
            click.echo(f"removed platform {issuer} (client_id {client_id}) and its people, courses and sessions")


@main.group(help="The tool's signing keys.")
def keys() -> None:
    pass


@keys.command("rotate", help="Make a new signing key; old keys stay in the JWKS for the grace period.")
@click.option(
    "--grace-days", type=int, default=None, help="Days the old key stays published (default PLC_KEY_GRACE_DAYS)"
)
def keys_rotate(grace_days: int | None) -> None:
    settings = settings_or_exit()
    database = open_database(settings, migrated=False)
    upgrade(database.engine)
    grace = timedelta(days=settings.key_grace_days if grace_days is None else grace_days)
    with database.transaction() as session:
        key = rotate_keys(session, grace)
        published = [k.kid for k in published_keys(session)]
    click.echo(f"new signing key {key.kid}; published keys: {', '.join(published)}")


@keys.command("list", help="Show the keys in the JWKS.")
def keys_list() -> None:
    database = open_database(settings_or_exit())
    with database.transaction() as session:
        for key in published_keys(session):
            state = (
                "signing"
                if key.retired_at is None
                else f"retired, published until {key.unpublish_at:%Y-%m-%d %H:%M} UTC"
            )
            click.echo(f"{key.kid}\t{state}")


@main.command(
    help="Deliver learning records to every configured LRS and grades to the LMS gradebooks (run any number on PostgreSQL)."
)
@click.option("--once", is_flag=True, help="One pass over every destination, then exit")
@click.option("--poll", default=1.0, show_default=True, help="Seconds to wait when there is nothing to send")
def worker(once: bool, poll: float) -> None:
    settings = settings_or_exit()
    database = open_database(settings)
    jobs = delivery_jobs(database, settings, ServiceClient(database))
    if once:
        if not settings.lrs:
            click.echo("no LRS is configured: learning records wait in the outbox (set PLC_LRS, see README)")
        for job in jobs:
            click.echo(job.run_once().summary())
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not settings.lrs:
        click.echo("no LRS is configured (PLC_LRS): delivering grades only; Ctrl-C or SIGTERM stops")
    else:
        click.echo(f"delivering to {', '.join(settings.lrs_names)} and grades to the LMS; Ctrl-C or SIGTERM stops")
    workers = start_loops(jobs, poll)
    try:
        while not stop.wait(poll):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        workers.stop(wait_seconds=60.0)  # let each loop finish and commit its current pass


@main.group(help="Grades on their way to the LMS gradebooks (LTI AGS score outbox).")
def scores() -> None:
    pass


@scores.command("status", help="Waiting, delivered and failed scores, and why each waiting or failed one is stuck.")
def scores_status() -> None:
    from models import scores as score_outbox

    with open_database(settings_or_exit()).transaction() as db:
        status = score_outbox.status(db)
        oldest = f"{status.oldest_pending_at:%Y-%m-%d %H:%M:%S} UTC" if status.oldest_pending_at else "-"
        click.echo(
            f"pending={status.pending}\tdelivered={status.delivered}\tfailed={status.failed}\toldest_pending={oldest}"
            f"\tsuperseded={status.superseded}\tdismissed={status.dismissed}"
        )
        for post in score_outbox.waiting(db, limit=1000):
            click.echo(f"{post.state}\t{post.id}\t{post.user_id}\tattempts={post.attempts}\t{post.last_error or '-'}")


@scores.command(
    "resend",
    help="Queue failed scores again (after the platform or its registration was fixed); those a newer delivered grade"
    " of the same reflection superseded are closed instead.",
)
@click.option("--id", "post_id", type=int, default=None, help="Only this score (see `scores status`)")
def scores_resend(post_id: int | None) -> None:
    from models import scores as score_outbox

    with open_database(settings_or_exit()).transaction() as db:
        superseded = score_outbox.close_superseded(db)
        count = score_outbox.resend(db, post_id=post_id)
    click.echo(f"{count} failed scores queued again")
    click.echo(f"{superseded} superseded by a newer grade of the same reflection: closed, not sent again")


@main.group(help="The learning-record outbox.")
def outbox() -> None:
    pass


@outbox.command("status", help="Waiting, delivered and refused records per LRS, and why each was refused.")
def outbox_status() -> None:
    settings = settings_or_exit()
    with open_database(settings).transaction() as db:
        rows = outbox_service.status(db, settings.lrs_names)
        waiting = outbox_service.unaddressed(db) if not settings.lrs else None
        if waiting is not None and waiting.count:
            age = f"{(datetime.now(UTC) - waiting.oldest_at).total_seconds():.0f}s" if waiting.oldest_at else "-"
            click.echo(f"no LRS\twaiting={waiting.count}\toldest={age}\t(set PLC_LRS: they are all sent once it is)")
        elif not rows:
            click.echo("the outbox is empty and no LRS is configured")
        for row in rows:
            age = row.oldest_pending_age_seconds()
            oldest = f"{age:.0f}s" if age is not None else "-"
            click.echo(
                f"{row.destination}\tpending={row.waiting}\tdelivered={row.delivered}\tdead={row.dead}\toldest_pending={oldest}"
                + (f"\tnot_yet_queued={row.not_queued}" if row.not_queued else "")
                + ("" if row.configured else "\tno longer configured")
            )
        for delivery in outbox_service.dead_letters(db):
            click.echo(f"dead\t{delivery.destination}\t{delivery.statement_id}\t{delivery.last_error}")


@outbox.command("retry", help="Queue refused (dead-letter) records again.")
@click.option("--destination", default=None)
def outbox_retry(destination: str | None) -> None:
    with open_database(settings_or_exit()).transaction() as db:
        count = outbox_service.retry_dead(db, destination)
    click.echo(f"{count} refused records queued again")


@outbox.command(
    "resend",
    help="Queue every record again for one LRS that lost data (a new LRS needs none: the worker sends it all).",
)
@click.option("--destination", required=True)
@click.option("--since", type=click.DateTime(), default=None, help="Only records written since (UTC)")
def outbox_resend(destination: str, since: datetime | None) -> None:
    settings = settings_or_exit()
    if destination not in settings.lrs_names:
        raise click.ClickException(
            f"{destination!r} is not a configured LRS ({', '.join(settings.lrs_names) or 'none'})"
        )
    with open_database(settings).transaction() as db:
        count = outbox_service.resend(db, destination, since.replace(tzinfo=UTC) if since else None)
    click.echo(f"{count} records queued for {destination}")


@main.group(help="Personal data kept no longer than the settings say (PDPA).")
def retention() -> None:
    pass


@retention.command(
    "run",
    help="Remove the free text and evidence files of programs ended more than PLC_RETENTION_DAYS_AFTER_END days ago,"
    " read-log entries older than PLC_READ_LOG_DAYS, and unsaved typed text (drafts) past its week (certificates,"
    " hours, roles and grades stay).",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be removed; change nothing")
def retention_run(dry_run: bool) -> None:
    settings = settings_or_exit()
    report = retention_pass(open_database(settings), settings, trigger="command", dry_run=dry_run)
    click.echo(report.summary())


for _command in (
    *district_cli.COMMANDS,
    *evidence_cli.COMMANDS,
    *lrs_cli.COMMANDS,
    *results_cli.COMMANDS,
    *policy_cli.COMMANDS,
):
    main.add_command(_command)

if __name__ == "__main__":
    sys.exit(main())
