"""The ``tongban`` command."""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TransferSpeedColumn,
)
from rich.table import Table
from sqlalchemy import func, select

from tongban.core import audit, clock
from tongban.core.config import Environment, Settings
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.db.session import session_scope
from tongban.core.errors import Problem
from tongban.core.permissions import Role

app = typer.Typer(help="通办 tongban: one government for a city or district.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
calendar_app = typer.Typer(help="Working days.", no_args_is_help=True)
registry_app = typer.Typer(help="Base registries: import, generate synthetic data.", no_args_is_help=True)
events_app = typer.Typer(help="Change events (outbox relay).", no_args_is_help=True)
supervision_app = typer.Typer(help="Electronic supervision (电子监察): deadline warnings.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(registry_app, name="registry")
app.add_typer(events_app, name="events")
app.add_typer(supervision_app, name="supervision")

console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            err.print(f"[red]配置错误[/red] {'.'.join(map(str, problem['loc'])) or 'TONGBAN_*'}: {problem['msg']}")
        raise typer.Exit(2) from None
    audit.configure(settings.secret_key)
    return settings


def _sessions(settings: Settings):
    return make_sessionmaker(make_engine(settings))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes, each with its own listening socket (one per core serves the most)")] = 1,
) -> None:
    """Serve the portal, the workbench and the API."""
    from tongban.core import serving
    from tongban.core.observability import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    console.print(f"通办 tongban 正在 http://{host}:{port} 提供服务（{settings.env.value}，{settings.database_url.split('@')[-1]}）")
    # By import string: each worker builds the app itself (tongban.app.served_app settles its heap).
    serving.run("tongban.app:served_app", host, port, workers, settings)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from tongban.core import migrate

    settings = _settings()
    engine = make_engine(settings)
    migrate.upgrade(engine, revision)
    console.print(f"[green]数据库已升级[/green] → {migrate.current(engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from tongban.core import migrate

    console.print(migrate.current(make_engine(_settings())) or "（空数据库）")


@demo_app.command("load")
def demo_load() -> None:
    """Create the demo district and one account per role (idempotent); print the accounts."""
    from tongban import demo

    settings = _settings()
    if settings.env == Environment.PRODUCTION:
        err.print("[red]生产环境不能加载演示数据[/red]")
        raise typer.Exit(2)
    sessions = _sessions(settings)
    with session_scope(sessions) as db:
        listing = demo.load(db, settings)
    with console.status("导入演示基础库（人口、法人、标准地址）……"):
        counts = demo.load_registries(sessions, settings)
    console.print("基础库：" + "，".join(f"{name} {count:,} 条" for name, count in counts.items()))
    with console.status("按基础库匹配惠企惠民政策……"):
        demo.match_policies(sessions)
    table = Table(title="演示账户 demo accounts")
    for column in ("角色", "用户名 / client_id", "密码 / secret", "部门"):
        table.add_column(column, overflow="fold")
    for row in listing:
        table.add_row(*row)
    console.print(table)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Sign-in name (lower-case letters, digits, . _ -)")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 王晓燕")],
    department: Annotated[str, typer.Option(help="Department code, e.g. PD-SCJG")],
    role: Annotated[list[Role], typer.Option(help="Role; repeat for several")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create a staff account."""
    from tongban.accounts import service as accounts
    from tongban.accounts.schemas import StaffCreate

    settings = _settings()
    try:
        StaffCreate(username=username, display_name=name, password=password, department_code=department, roles=role)
        with session_scope(_sessions(settings)) as db:
            dept = accounts.department_by_code(db, department)
            user = accounts.create_staff(db, settings, username=username, display_name=name, password=password,
                                         department=dept, roles=role)
            audit.record(db, actor=audit.SystemActor(actor_name="tongban users create"), action="users.create",
                         object_type="user", object_id=str(user.id), details={"username": username, "roles": user.roles})
    except ValidationError as error:
        for problem in error.errors():
            err.print(f"[red]{'.'.join(map(str, problem['loc']))}[/red]: {problem['msg']}")
        raise typer.Exit(2) from None
    except Problem as problem:
        err.print(f"[red]{problem.title}[/red]: {problem.detail}")
        raise typer.Exit(2) from None
    console.print(f"[green]已创建[/green] {username}（{name}，{department}，{', '.join(r.value for r in role)}）")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name the first altered, inserted or deleted entry (exit 1 if any)."""
    from tongban.core.audit import AuditEvent

    settings = _settings()
    with session_scope(_sessions(settings)) as db:
        total = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
        with Progress(TextColumn("校验审计日志"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("verify", total=total)
            result = audit.verify(db, progress=lambda n: progress.update(task, completed=n) if n % 500 == 0 else None)
    brk = result.first_break
    if brk is None:
        console.print(f"[green]审计日志完整[/green]：共 {result.entries} 条，哈希链无断点")
        return
    console.print(f"[red]审计日志被改动[/red]：{brk.message}  (first bad entry: seq={brk.seq}, kind={brk.kind})")
    raise typer.Exit(1)


@calendar_app.command("deadline")
def calendar_deadline(
    start: Annotated[str, typer.Argument(help="Start date, YYYY-MM-DD")],
    working_days: Annotated[int, typer.Argument(help="Limit in working days")],
) -> None:
    """Compute a statutory deadline in working days."""
    from tongban.core.workdays import WorkingCalendar

    settings = _settings()
    with session_scope(_sessions(settings)) as db:
        result = WorkingCalendar.load(db).add_working_days(date.fromisoformat(start), working_days)
    console.print(f"{result.start} + {result.working_days} 个工作日 → [bold]{result.due}[/bold]"
                  + (f" [yellow]（暂定：{result.note}）[/yellow]" if result.provisional else ""))


@supervision_app.command("scan")
def supervision_scan() -> None:
    """Raise today's deadline warnings and notify (the server also does it every TONGBAN_DEADLINE_SCAN_SECONDS)."""
    from tongban.supervision import service

    settings = _settings()
    with session_scope(_sessions(settings)) as db:
        result = service.scan(db, actor=audit.SystemActor(actor_name="tongban supervision scan"))
    console.print(f"{result.today}：新增黄色预警 {result.yellow:,} 项、红色预警 {result.red:,} 项，发出通知 {result.notifications:,} 条")


@registry_app.command("import")
def registry_import(
    registry: Annotated[str, typer.Argument(help="persons | legal_entities | addresses")],
    file: Annotated[Path, typer.Argument(help="UTF-8 CSV or XLSX; header = field names or Chinese labels", exists=True,
                                         dir_okay=False, readable=True)],
    department: Annotated[str, typer.Option(help="Code of the source department, e.g. PD-GA")],
    encoding: Annotated[str | None, typer.Option(help="utf-8 (default, BOM allowed) or gbk / gb18030")] = None,
    batch_size: Annotated[int, typer.Option(min=100, max=100_000)] = 20_000,
    rejected: Annotated[Path | None, typer.Option(help="Where to write the rejected-rows CSV (default: FILE.rejected.csv)")] = None,
) -> None:
    """Import a file; killed and re-run, it resumes and ends as one clean run would."""
    from tongban.registry import importer
    from tongban.registry.schemas import REGISTRIES

    settings = _settings()
    if registry not in REGISTRIES:
        err.print(f"[red]没有名为 {registry} 的基础库[/red]（可用：{'、'.join(REGISTRIES)}）")
        raise typer.Exit(2)
    sessions = _sessions(settings)
    actor = audit.SystemActor(actor_name=f"tongban registry import ({department})", department_code=department)
    size = file.stat().st_size
    with Progress(TextColumn("导入 {task.fields[name]}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TextColumn("已接受 {task.fields[accepted]:,} · 未变 {task.fields[unchanged]:,} · 拒绝 {task.fields[rejected]:,}"),
                  TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("import", total=size, name=file.name, accepted=0, unchanged=0, rejected=0)

        def show(job, read: int) -> None:
            progress.update(task, completed=read, accepted=job.rows_accepted, unchanged=job.rows_unchanged,
                            rejected=job.rows_rejected)

        # This process only imports: the cyclic collector would only re-scan the batches'
        # short-lived rows, which reference counting frees (about a tenth of the time).
        gc.disable()
        try:
            job = importer.run(sessions, registry=REGISTRIES[registry], path=file, department_code=department,
                               actor=actor, encoding=encoding, batch_size=batch_size, progress=show,
                               lock_dir=settings.data_dir / "imports")
        except importer.ImportRefused as refusal:
            err.print(f"[red]导入被拒绝[/red]：{refusal}")
            raise typer.Exit(2) from None
        finally:
            gc.enable()
        show(job, size if job.status == "completed" else job.bytes_read)
    report = rejected or file.with_name(file.name + ".rejected.csv")
    if job.rows_rejected:
        with session_scope(sessions) as db, open(report, "w", encoding="utf-8", newline="") as out:
            for chunk in importer.rejected_csv(db, job.id):
                out.write(chunk)
    console.print(f"任务 {job.id}：{ {'completed': '完成', 'failed': '中断', 'refused': '被拒绝'}.get(job.status, job.status)}；"
                  f"接受 {job.rows_accepted:,} 行，未变 {job.rows_unchanged:,} 行，拒绝 {job.rows_rejected:,} 行"
                  + (f"（原因见 {report}）" if job.rows_rejected else "")
                  + (f"\n{job.message}" if job.message else ""))
    if job.status != "completed":
        raise typer.Exit(1)


@registry_app.command("generate")
def registry_generate(
    out: Annotated[Path, typer.Option(help="Folder for persons.csv, legal_entities.csv, addresses.csv")] = Path("var/synthetic"),
    people: Annotated[int, typer.Option(min=1)] = 100_000,
    enterprises: Annotated[int, typer.Option(min=0)] = 10_000,
    addresses: Annotated[int, typer.Option(min=1)] = 30_000,
    seed: Annotated[int, typer.Option(help="Same seed, same district")] = 1,
) -> None:
    """Write a synthetic district (valid check digits; legal representatives exist in the population)."""
    from tongban.demo import synthetic

    out.mkdir(parents=True, exist_ok=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err) as progress:
        for name, count in (("addresses", addresses), ("persons", people), ("legal_entities", enterprises)):
            task = progress.add_task(name, total=count)

            def advance(n: int, task: TaskID = task) -> None:
                progress.update(task, completed=n)

            synthetic.write_csv(out / f"{name}.csv", name, seed, count, people=people, addresses=addresses,
                                progress=advance)
            progress.update(task, completed=count)
    console.print(f"已生成：{out}/addresses.csv、persons.csv、legal_entities.csv")


@events_app.command("relay")
def events_relay(once: Annotated[bool, typer.Option(help="Deliver what is waiting, then stop")] = False) -> None:
    """Deliver outbox events (to NATS JetStream when TONGBAN_NATS_URL is set)."""
    import time

    from tongban.core.events import OutboxRelay, make_transport

    settings = _settings()
    relay = OutboxRelay(_sessions(settings), make_transport(settings))
    try:
        if once:
            console.print(f"已投递 {relay.drain():,} 条事件")
            return
        relay.start()
        console.print("事件投递中（Ctrl-C 停止）")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        relay.stop()


@app.command()
def backup(
    directory: Annotated[Path, typer.Argument(help="Where backups are kept (one data file and one .json manifest each)")],
    keep: Annotated[int | None, typer.Option(help="Then delete all but the newest KEEP backups there (e.g. 30 for daily)",
                                             min=1)] = None,
) -> None:
    """Back the database up, online and consistent (SQLite backup API; pg_dump for PostgreSQL)."""
    from tongban.core import backup as backups

    settings = _settings()
    try:
        with Progress(TextColumn("备份数据库"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("backup", total=None)
            manifest = backups.backup(settings, directory, now=clock.now(),
                                      progress=lambda done, total: progress.update(task, completed=done, total=total))
        deleted = backups.prune(directory, keep) if keep else []
    except backups.BackupError as error:
        err.print(f"[red]备份失败[/red]：{error}")
        raise typer.Exit(1) from None
    rows = sum(manifest.counts.values())
    head = manifest.audit_head["seq"] if manifest.audit_head else 0
    console.print(f"[green]已备份[/green] {directory / manifest.data_file}（{manifest.created_at}，{manifest.engine}，"
                  f"迁移版本 {manifest.revision}，{len(manifest.counts)} 张表 {rows:,} 行，审计链至第 {head} 条）")
    if deleted:
        console.print(f"按保留 {keep} 份的规定删除了较早的备份：{'、'.join(deleted)}")


@app.command()
def restore(
    manifest: Annotated[Path, typer.Argument(help="The backup's .json manifest", exists=True, dir_okay=False)],
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a database that already holds tables")] = False,
) -> None:
    """Restore a backup into the configured database, then verify it (counts, audit chain)."""
    from tongban.core import backup as backups

    settings = _settings()
    try:
        with Progress(TextColumn("恢复并校验"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("restore", total=None)
            result = backups.restore(settings, manifest, replace=replace,
                                     progress=lambda done, total: progress.update(task, completed=done, total=total))
    except backups.BackupError as error:
        err.print(f"[red]恢复失败[/red]：{error}")
        raise typer.Exit(1) from None
    if not result.ok:
        for problem in result.problems:
            err.print(f"[red]校验未通过[/red]：{problem}")
        raise typer.Exit(1)
    console.print(f"[green]已恢复并校验[/green]：{len(result.counts)} 张表 {sum(result.counts.values()):,} 行与备份清单一致，"
                  f"审计日志 {result.audit_entries:,} 条哈希链完整")


if __name__ == "__main__":
    app()
