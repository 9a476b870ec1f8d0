"""The page a person lands on after a launch: who they are, which course, which role, and for a teacher what comes
next in their PLC cycle."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from lti_tool.services import notices
from lti_tool.services.actor import Actor
from lti_tool.services.admin import administers_the_platform
from lti_tool.services.programs import course_program
from lti_tool.web.access import course_scope
from lti_tool.web.session import database, require_session, session_url
from models.catalog import elements
from models.eligibility import current_cycle, eligibility, next_steps, program_facts
from models.facts import team_facts_and_cycles
from models.forms import TEAM_FORMS, form_templates, forms_filled
from models.people import course_members
from models.plan import PlcRole
from models.roles import AppRole, administers_the_site
from models.teams import program_and_team_of

bp = Blueprint("home", __name__)


@bp.get("/home")
def landing() -> str:
    with database().transaction() as db:
        app_session = require_session(db)
        role = AppRole(app_session.membership.app_role)
        scope = course_scope(app_session)
        # A teacher's team is read with the course's current program, in one statement.
        if role is AppRole.TEACHER:
            program, team = program_and_team_of(db, scope, app_session.membership_id)
        else:
            program, team = course_program(db, scope), None
        progress = steps = cycle = None
        my_roles: list[tuple[int, PlcRole | None]] = []
        if team is not None:
            # The team's cycles and plan come with its facts (one statement), not read again as objects.
            facts, cycle_ids = team_facts_and_cycles(db, team)
            progress = eligibility(app_session.membership_id, program_facts(team.program), facts)
            cycle = current_cycle(progress)
            opened = cycle_ids.get(cycle.number) if cycle else None
            filled = forms_filled(db, opened) if opened is not None else frozenset()
            steps = next_steps(progress, filled, TEAM_FORMS)
            my_roles = [(c.number, c.role) for c in progress.cycles]  # every planned cycle, with the plan's role
        return render_template(
            "landing.html",
            app_session=app_session,
            person=app_session.person,
            context=app_session.context,
            membership=app_session.membership,
            resource_link=app_session.resource_link,
            platform=app_session.context.platform,
            role=role,
            site_admin=administers_the_platform(app_session.membership),
            AppRole=AppRole,
            administers_the_site=administers_the_site,
            members=course_members(db, app_session.context_id) if role.sees_course_roster else [],
            program=program,
            team=team,
            progress=progress,
            cycle=cycle,
            steps=steps or [],
            forms=form_templates(),
            elements=elements(),
            my_roles=my_roles,
            endpoints=current_app.view_functions,
            session_url=session_url,
            unread_notices=notices.unread(db, Actor(app_session)),
        )
