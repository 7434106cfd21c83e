"""Admin pages: editions (creation from a catalogue, windows, catalogue download, publication,
lock exceptions), user accounts and their log-in locks, and the ranking computed from the current
final points.

Everything here is the admin's (the computed results also a reviewer's); the store functions
check the role, so a route never decides.  Publication and lock exceptions ask for the password
again; the store checks it and records the security event.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Callable

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dti.errors import CatalogueError, Conflict, InputError, NotAllowed, Problem
from dti.messages import bilingual
from dti.scoring import CatalogueInfo, catalogue_from_bytes, illustrative_catalogue_for, write_catalogue_xlsx
from dti.services import assessments as changes
from dti.services import edition_setup
from dti.services import publication
from dti.store import edition_rows, users
from dti.store.access import require_role
from dti.store.assessments import catalogue_of
from dti.units import load_unit_set
from dti.units.bodies import GROUPS, group_name
from dti.web.assessment.deps import PostDep, StoreDep, UserDep, render, wants_json
from dti.web.assessment.review import jsonable
from dti.web.assessment.words import (edition_name, local_input, province_label, role_label,
                                      utc_from_local)
from dti.workflow import Role, State

router = APIRouter()
PILLARS = ("CQS", "KTS", "XHS")

TEXT = bilingual("app.admin")


def _words(lang: str) -> dict[str, str]:
    return TEXT["en" if lang == "en" else "vi"]


@router.get("/admin")
def admin_page(request: Request, ctx: UserDep, store: StoreDep):
    """Editions with their state counts, windows and catalogues; user accounts; the forms."""
    with store.reading() as session:
        require_role(ctx.actor, Role.ADMIN)
        rows = [{"code": e.code, "year": e.year, "name_vi": e.name_vi, "name_en": e.name_en,
                 "status": e.status, "opens_at": e.opens_at, "closes_at": e.closes_at,
                 "catalogue_id": e.catalogue.get("id"), "catalogue_name": _catalogue_name(
                     e.catalogue, ctx.lang), "catalogue_checksum": e.catalogue_checksum,
                 "illustrative": e.illustrative, "snapshot_checksum": e.snapshot_checksum,
                 "counts": edition_rows.state_counts(session, e.code)}
                for e in edition_rows.all_editions(session)]
        accounts = [{"username": u.username, "display_name": u.display_name, "role": u.role,
                     "province_code": u.province_code, "active": u.active,
                     "province_name": province_label(u.province_code, ctx.lang),
                     "role_name": role_label(u.role, u.province_code, ctx.lang),
                     "locked_until": u.locked_until} for u in users.list_users(session, ctx.actor)]
        locks = users.login_locks(session, ctx.actor)
    if wants_json(request):
        return JSONResponse(jsonable({"editions": rows, "users": accounts, "locks": locks}))
    return render(request, ctx, "app/admin.html", {
        "illustrative": any(r["illustrative"] for r in rows), "locks": locks,
        "window_input": local_input,
        "editions": rows, "users": accounts, "states": [s.value for s in State], "bases": _bases(ctx.lang),
        "roles": [r.value for r in Role if r is not Role.PUBLIC]}, extra_text=TEXT)


def _bases(lang: str) -> list[tuple[str, str]]:
    """What a new edition can take its method from (id, name), the 2022 provincial one first:
    the provincial editions, then the assessment methods of other levels (the ministries')."""
    from dti.editions import base_ids, load_edition

    ids = sorted(base_ids(), key=lambda b: (b != "dti-province-2022", b))
    return [(b, load_edition(b).name(lang)) for b in ids]


def _catalogue_name(catalogue: dict[str, Any], lang: str) -> str:
    """The catalogue by its name (its id only when it has none), in the page's language."""
    name = catalogue.get("name_en") if lang == "en" else None
    return name or catalogue.get("name_vi") or catalogue.get("id", "")


def _when(value: str, column: str, problems: list[Problem]) -> datetime | None:
    """A window's end as typed in the form, in Vietnam time (the field says so), as the store's
    UTC: officials set a deadline by their own clock, and 17:00 means 17:00 in Hà Nội."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return utc_from_local(value)
    except ValueError:
        problems.append(Problem("admin.bad_date", f"{value!r} is not a date and time; write "
                                "2026-03-31T17:00 (Vietnam time)", column=column, value=value))
        return None


def _catalogue(source: str, upload: UploadFile | None, data: bytes, base: str, code: str,
               names: tuple[str, str], problems: list[Problem]):
    """The chosen catalogue, or None with its problems added (every located problem): the
    shipped illustrative one of the base's framework, or the uploaded file."""
    from dti.editions import base_ids, load_edition

    if base not in base_ids():  # reported once, with the form's other problems
        problems.append(Problem("admin.unknown_base", f"there is no shipped edition or method "
                                f"{base!r} (known: {', '.join(base_ids())})",
                                column="base_edition", value=base))
        return None
    framework = load_edition(base).framework.id
    if source != "upload":
        shipped = illustrative_catalogue_for(framework)
        if shipped is None:
            problems.append(Problem("admin.no_illustrative", f"no illustrative catalogue is shipped "
                                    f"for the framework {framework!r} of {base!r}: upload the "
                                    "catalogue file", column="catalogue", value=base))
        return shipped
    if upload is None or not upload.filename or not data:
        problems.append(Problem("admin.no_catalogue_file", "choose the catalogue file (XLSX or "
                                "CSV in the ministry's layout) or the illustrative catalogue",
                                column="catalogue"))
        return None
    info = CatalogueInfo(id=code or "catalogue", name_vi=names[0], name_en=names[1],
                         framework_id=framework)
    try:
        return catalogue_from_bytes(data, upload.filename, info)
    except CatalogueError as exc:
        problems.extend(exc.problems)
        return None


@router.post("/admin/editions/new")
def create_edition(request: Request, ctx: PostDep, store: StoreDep, code: str = Form(""),
                   year: str = Form(""), name_vi: str = Form(""), name_en: str = Form(""),
                   base_edition: str = Form("dti-province-2022"), opens_at: str = Form(""),
                   closes_at: str = Form(""), source: str = Form("illustrative"),
                   previous: str = Form(""), catalogue: UploadFile | None = File(None)):
    """A new edition: every problem of the form and of the catalogue file is listed together
    (422) and nothing is created.  A plain ``def``: reading the catalogue, checking it and
    writing the edition run in a worker thread, never on the event loop (the upload is already
    spooled by the time the route runs, so reading its file does not wait on the network)."""
    with store.reading() as session:
        require_role(ctx.actor, Role.ADMIN)
    problems: list[Problem] = []
    code, name_vi, name_en = code.strip(), name_vi.strip(), name_en.strip()
    for column, value in (("code", code), ("name_vi", name_vi)):
        if not value:
            problems.append(Problem("admin.missing_field", f"fill in the field {column!r}",
                                    column=column))
    if not year.strip().isdigit() or not 2000 <= int(year) <= 2100:
        problems.append(Problem("admin.bad_year", f"{year!r} is not a year between 2000 and 2100",
                                column="year", value=year))
    opens, closes = _when(opens_at, "opens_at", problems), _when(closes_at, "closes_at", problems)
    data = catalogue.file.read() if catalogue is not None else b""
    chosen = _catalogue(source, catalogue, data, base_edition, code, (name_vi, name_en or name_vi),
                        problems)
    if problems:
        raise InputError(problems)
    with store.transaction() as session:
        edition_setup.create_edition(session, ctx.actor, chosen, code, int(year), name_vi,
                                       name_en or name_vi, base_edition, opens, closes,
                                       previous=previous.strip() or None)
    if wants_json(request):
        return JSONResponse({"edition": code}, 201)
    return RedirectResponse("/app/admin#e-" + code, 303)


@router.post("/admin/editions/{edition}/window")
def set_window(request: Request, edition: str, ctx: PostDep, store: StoreDep,
               opens_at: str = Form(""), closes_at: str = Form("")):
    problems: list[Problem] = []
    opens, closes = _when(opens_at, "opens_at", problems), _when(closes_at, "closes_at", problems)
    if problems:
        raise InputError(problems)
    with store.transaction() as session:
        row = edition_rows.set_window(session, ctx.actor, edition, opens, closes)
        result = {"edition": edition, "opens_at": row.opens_at, "closes_at": row.closes_at}
    if wants_json(request):
        return JSONResponse(jsonable(result))
    return RedirectResponse("/app/admin#e-" + edition, 303)


@router.get("/admin/editions/{edition}/catalogue.xlsx")
def catalogue_xlsx(edition: str, ctx: UserDep, store: StoreDep):
    """The edition's frozen catalogue in the ministry's layout (it reads back identically)."""
    with store.reading() as session:
        require_role(ctx.actor, Role.ADMIN)
        catalogue = catalogue_of(edition_rows.get(session, edition))
    out = io.BytesIO()
    write_catalogue_xlsx(catalogue, out)
    return Response(out.getvalue(), media_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{edition}-catalogue.xlsx"'})


def _guarded(store, call: Callable[[Any], Any]) -> Any:
    """Run a password-guarded store call.  A refusal (role, password, permission) is raised by the
    store before it changes anything, so the transaction still commits: the security event of a
    wrong password is kept.  Any other error rolls everything back."""
    refused: NotAllowed | None = None
    with store.transaction() as session:
        try:
            result = call(session)
        except NotAllowed as exc:
            refused = exc
    if refused is not None:
        raise refused
    return result


@router.post("/admin/editions/{edition}/publish")
def publish(request: Request, edition: str, ctx: PostDep, store: StoreDep,
            password: str = Form("")):
    """Freeze the edition (all provinces approved) and show it on the public portal at once."""
    def call(session):
        row = publication.publish(session, ctx.actor, edition, password)
        return row.snapshot_checksum, edition_name(row, ctx.lang)

    try:
        checksum, name = _guarded(store, call)
    except Conflict as exc:
        pending = exc.context.get("pending")
        if pending is None or wants_json(request):
            raise
        with store.reading() as session:
            row = edition_rows.get(session, edition)
            units, name = load_unit_set(row.unit_set), edition_name(row, ctx.lang)
        return render(request, ctx, "app/admin_publish.html", {
            "edition": edition, "edition_name": name, "pending": [(p, units.get(p)) for p in pending],
            "checksum": None, "message": exc.message}, status_code=409, extra_text=TEXT)
    from dti.web.app import refresh_public

    refresh_public(request.app)
    if wants_json(request):
        return JSONResponse({"edition": edition, "status": "published", "checksum": checksum})
    return render(request, ctx, "app/admin_publish.html", {
        "edition": edition, "edition_name": name, "pending": [], "checksum": checksum},
        extra_text=TEXT)


@router.post("/admin/editions/{edition}/{province}/reopen")
def reopen(request: Request, edition: str, province: str, ctx: PostDep, store: StoreDep,
           reason: str = Form(""), password: str = Form("")):
    """Lock exception: an approved assessment goes back to review, with the reason kept."""
    def call(session):
        a = changes.grant_lock_exception(session, ctx.actor, edition, province, reason, password)
        return {"edition": edition, "province_code": province, "state": a.state,
                "version": a.version}

    result = _guarded(store, call)
    if wants_json(request):
        return JSONResponse(result)
    return RedirectResponse(f"/app/review/{edition}/{province}", 303)


@router.post("/admin/editions/{edition}/reopen")
def reopen_form(request: Request, edition: str, ctx: PostDep, store: StoreDep,
                province: str = Form(""), reason: str = Form(""), password: str = Form("")):
    """The admin page's form, where the province is typed in rather than in the path."""
    return reopen(request, edition, province.strip(), ctx, store, reason, password)


@router.get("/admin/editions/{edition}/results")
def results(request: Request, edition: str, ctx: UserDep, store: StoreDep):
    """The ranking the engine computes from the current final points (not the published one)."""
    with store.reading() as session:
        require_role(ctx.actor, Role.ADMIN, Role.REVIEWER)
        row = edition_rows.get(session, edition)
        build = publication.results(session, row)
        info = {"code": row.code, "name_vi": row.name_vi, "name_en": row.name_en,
                "status": row.status, "snapshot_checksum": row.snapshot_checksum,
                "illustrative": row.illustrative, "unit_set": row.unit_set}
        mains = [(m.code, m.name_vi, m.name_en) for m in catalogue_of(row).mains]
    table = _ranking(build, info["unit_set"], [m[0] for m in mains], ctx.lang)
    published = info["status"] == "published"
    if wants_json(request):
        return JSONResponse({"edition": edition, "published": published,
                             "note": "computed from the current final points"
                             + ("" if published else " — not published"), "rows": table})
    note = (_words(ctx.lang)["published_note"].replace("{c}", info["snapshot_checksum"] or "")
            if published else _words(ctx.lang)["not_published"])
    return render(request, ctx, "app/results.html", {
        "edition": info, "rows": table, "mains": mains, "pillars": [p for p in PILLARS if p in build.codes], "note": note,
        "published": published, "illustrative": info["illustrative"],
        "grouped": any(r["group_rank"] is not None for r in table)}, extra_text=TEXT)


def _ranking(build, unit_set: str, mains: list[str], lang: str = "vi") -> list[dict[str, Any]]:
    """One row per unit, best first.  Where the method ranks within groups (the ministries and
    government bodies: with / without public services, as the ministry DTI is published), rows
    go by group, then by rank in the group; a body whose group our sources do not state has no
    rank in a group, only the overall one."""
    units = load_unit_set(unit_set)
    scores = {"DTI": build.published_score()}
    scores |= {c: build.published_score(c) for c in (*PILLARS, *mains) if c in build.codes}
    rank, in_group = build.rank(), build.group_ranks.get("group")
    groups = build.data.groups.get("group") if in_group is not None else None
    order, root = {g: i for i, g in enumerate(GROUPS)}, build.index(build.framework.root.code)
    rows = []
    for i, code in enumerate(build.units):
        unit, group = units.get(code), groups[i] if groups is not None else ""
        group_rank = in_group[i, root] if in_group is not None else float("nan")
        rows.append({"province_code": code, "name_vi": unit.name_vi, "name_en": unit.name_en,
                     "rank": int(rank[i]), "group": group, "group_name": group_name(group, lang),
                     "group_rank": None if group_rank != group_rank else int(group_rank),
                     **{c: (None if v[i] != v[i] else float(v[i])) for c, v in scores.items()}})
    return sorted(rows, key=lambda r: (order.get(r["group"], len(order)) if groups is not None else 0,
                                       r["group_rank"] or r["rank"], r["rank"], r["province_code"]))


@router.post("/admin/users/new")
def add_user(request: Request, ctx: PostDep, store: StoreDep, username: str = Form(""),
             password: str = Form(""), role: str = Form(""), province_code: str = Form(""),
             display_name: str = Form("")):
    problems = [Problem("admin.missing_field", f"fill in the field {c!r}", column=c)
                for c, v in (("username", username), ("password", password), ("role", role))
                if not v.strip()]
    if role and role not in {r.value for r in Role}:
        problems.append(Problem("admin.unknown_role", f"{role!r} is not a role", column="role",
                                value=role))
    if problems:
        raise InputError(problems)
    with store.transaction() as session:
        user = users.add_user(session, ctx.actor, username, password, role,
                              province_code.strip() or None, display_name)
        result = {"username": user.username, "role": user.role, "province_code": user.province_code}
    if wants_json(request):
        return JSONResponse(result, 201)
    return RedirectResponse("/app/admin#users", 303)


@router.post("/admin/users/{username}/active")
def set_active(request: Request, username: str, ctx: PostDep, store: StoreDep,
               active: str = Form(...)):
    with store.transaction() as session:
        user = users.set_active(session, ctx.actor, username, active in ("1", "true", "yes"))
        result = {"username": user.username, "active": user.active}
    if wants_json(request):
        return JSONResponse(result)
    return RedirectResponse("/app/admin#users", 303)


@router.post("/admin/locks/account")
def lift_account_lock(request: Request, ctx: PostDep, store: StoreDep, username: str = Form(""),
                      reason: str = Form("")):
    """Unlock an account before its 15 minutes are up; the reason is kept."""
    with store.transaction() as session:
        user = users.lift_account_lock(session, ctx.actor, username.strip(), reason)
        result = {"username": user.username, "locked_until": None}
    if wants_json(request):
        return JSONResponse(result)
    return RedirectResponse("/app/admin#locks", 303)


@router.post("/admin/locks/address")
def release_address(request: Request, ctx: PostDep, store: StoreDep, address: str = Form(""),
                    reason: str = Form("")):
    """Let a refused address try again before its 15 minutes are up; the reason is kept."""
    with store.transaction() as session:
        key = users.release_address(session, ctx.actor, address, reason)
    if wants_json(request):
        return JSONResponse({"address": key, "refused_until": None})
    return RedirectResponse("/app/admin#locks", 303)
