"""plc programs: programs, teams and their plan, cycles, element sessions, observations, reflections, grades

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "plc_programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("agency", sa.String(length=255), nullable=False),
        sa.Column("school_or_network", sa.String(length=255), nullable=False),
        sa.Column("planned_cycles", sa.Integer(), nullable=False),
        sa.Column("min_hours", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("learning_area", sa.String(length=255), nullable=False),
        sa.Column("grade_level", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "approved",
                "running",
                "ended",
                "certificates_requested",
                "cancelled",
                name="program_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("certificates_requested_on", sa.Date(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_hours >= 0", name=op.f("ck_plc_programs_min_hours_not_negative")),
        sa.CheckConstraint("planned_cycles >= 3", name=op.f("ck_plc_programs_planned_cycles_at_least_3")),
        sa.ForeignKeyConstraint(
            ["context_id"], ["contexts.id"], name=op.f("fk_plc_programs_context_id_contexts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.id"], name=op.f("fk_plc_programs_platform_id_platforms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_programs")),
    )
    with op.batch_alter_table("plc_programs", schema=None) as batch_op:
        batch_op.create_index("ix_plc_programs_course", ["context_id", "platform_id"], unique=False)

    op.create_table(
        "plc_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["memberships.id"],
            name=op.f("fk_plc_teams_facilitator_id_memberships"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["plc_programs.id"], name=op.f("fk_plc_teams_program_id_plc_programs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_teams")),
        sa.UniqueConstraint("program_id", "name", name=op.f("uq_plc_teams_program_id_name")),
    )
    with op.batch_alter_table("plc_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_teams_program_id"), ["program_id"], unique=False)

    op.create_table(
        "plc_cycle_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("model", "buddy", name="plc_role", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.CheckConstraint("cycle_number >= 1", name=op.f("ck_plc_cycle_assignments_cycle_number_positive")),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_plc_cycle_assignments_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["plc_teams.id"], name=op.f("fk_plc_cycle_assignments_team_id_plc_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_cycle_assignments")),
        sa.UniqueConstraint(
            "team_id",
            "cycle_number",
            "membership_id",
            name=op.f("uq_plc_cycle_assignments_team_id_cycle_number_membership_id"),
        ),
    )
    with op.batch_alter_table("plc_cycle_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_cycle_assignments_membership_id"), ["membership_id"], unique=False)
        batch_op.create_index(
            "uq_plc_cycle_assignments_one_model",
            ["team_id", "cycle_number"],
            unique=True,
            sqlite_where=sa.text("role = 'model'"),
            postgresql_where=sa.text("role = 'model'"),
        )

    op.create_table(
        "plc_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("learning_area", sa.String(length=255), nullable=False),
        sa.Column("grade_level", sa.String(length=64), nullable=False),
        sa.Column("target_students", sa.Text(), nullable=False),
        sa.Column("baseline", sa.Text(), nullable=False),
        sa.Column("baseline_value", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("result_value", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_plc_cycles_number_positive")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["plc_teams.id"], name=op.f("fk_plc_cycles_team_id_plc_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_cycles")),
        sa.UniqueConstraint("team_id", "number", name=op.f("uq_plc_cycles_team_id_number")),
    )
    op.create_table(
        "plc_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_plc_team_members_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["plc_teams.id"], name=op.f("fk_plc_team_members_team_id_plc_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_team_members")),
        sa.UniqueConstraint("team_id", "membership_id", name=op.f("uq_plc_team_members_team_id_membership_id")),
    )
    with op.batch_alter_table("plc_team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_team_members_membership_id"), ["membership_id"], unique=False)

    op.create_table(
        "plc_element_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("element", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("element BETWEEN 1 AND 5", name=op.f("ck_plc_element_sessions_element_1_to_5")),
        sa.CheckConstraint("hours > 0 AND hours <= 24", name=op.f("ck_plc_element_sessions_hours_within_a_day")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["memberships.id"], name=op.f("fk_plc_element_sessions_created_by_id_memberships")
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["plc_cycles.id"],
            name=op.f("fk_plc_element_sessions_cycle_id_plc_cycles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_element_sessions")),
    )
    with op.batch_alter_table("plc_element_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_element_sessions_cycle_id"), ["cycle_id"], unique=False)

    op.create_table(
        "plc_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("buddy_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("lesson", sa.Text(), nullable=False),
        sa.Column("students_did", sa.Text(), nullable=False),
        sa.Column("students_learned", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("student_notes", sa.JSON(), nullable=False),
        sa.Column("suggestions", sa.Text(), nullable=False),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buddy_id"], ["memberships.id"], name=op.f("fk_plc_observations_buddy_id_memberships")
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["plc_cycles.id"], name=op.f("fk_plc_observations_cycle_id_plc_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["memberships.id"], name=op.f("fk_plc_observations_model_id_memberships")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_observations")),
        sa.UniqueConstraint("cycle_id", "buddy_id", name=op.f("uq_plc_observations_cycle_id_buddy_id")),
    )
    with op.batch_alter_table("plc_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_observations_buddy_id"), ["buddy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plc_observations_model_id"), ["model_id"], unique=False)

    op.create_table(
        "plc_reflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["plc_cycles.id"], name=op.f("fk_plc_reflections_cycle_id_plc_cycles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["memberships.id"], name=op.f("fk_plc_reflections_membership_id_memberships")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_reflections")),
        sa.UniqueConstraint("cycle_id", "membership_id", name=op.f("uq_plc_reflections_cycle_id_membership_id")),
    )
    with op.batch_alter_table("plc_reflections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_reflections_membership_id"), ["membership_id"], unique=False)

    op.create_table(
        "plc_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reflection_id", sa.Integer(), nullable=False),
        sa.Column("grader_id", sa.Integer(), nullable=False),
        sa.Column("rubric_id", sa.String(length=64), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("max_score", sa.Numeric(precision=8, scale=2), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("graded_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("max_score > 0", name=op.f("ck_plc_grades_max_score_positive")),
        sa.CheckConstraint("total >= 0 AND total <= max_score", name=op.f("ck_plc_grades_total_within_max")),
        sa.ForeignKeyConstraint(["grader_id"], ["memberships.id"], name=op.f("fk_plc_grades_grader_id_memberships")),
        sa.ForeignKeyConstraint(
            ["reflection_id"],
            ["plc_reflections.id"],
            name=op.f("fk_plc_grades_reflection_id_plc_reflections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plc_grades")),
    )
    with op.batch_alter_table("plc_grades", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plc_grades_reflection_id"), ["reflection_id"], unique=False)

    op.create_table(
        "plc_session_attendance",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_plc_session_attendance_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["plc_element_sessions.id"],
            name=op.f("fk_plc_session_attendance_session_id_plc_element_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "membership_id", name=op.f("pk_plc_session_attendance")),
    )


def downgrade() -> None:

    op.drop_table("plc_session_attendance")
    with op.batch_alter_table("plc_grades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_grades_reflection_id"))

    op.drop_table("plc_grades")
    with op.batch_alter_table("plc_reflections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_reflections_membership_id"))

    op.drop_table("plc_reflections")
    with op.batch_alter_table("plc_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_observations_model_id"))
        batch_op.drop_index(batch_op.f("ix_plc_observations_buddy_id"))

    op.drop_table("plc_observations")
    with op.batch_alter_table("plc_element_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_element_sessions_cycle_id"))

    op.drop_table("plc_element_sessions")
    with op.batch_alter_table("plc_team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_team_members_membership_id"))

    op.drop_table("plc_team_members")
    op.drop_table("plc_cycles")
    with op.batch_alter_table("plc_cycle_assignments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_plc_cycle_assignments_one_model",
            sqlite_where=sa.text("role = 'model'"),
            postgresql_where=sa.text("role = 'model'"),
        )
        batch_op.drop_index(batch_op.f("ix_plc_cycle_assignments_membership_id"))

    op.drop_table("plc_cycle_assignments")
    with op.batch_alter_table("plc_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plc_teams_program_id"))

    op.drop_table("plc_teams")
    with op.batch_alter_table("plc_programs", schema=None) as batch_op:
        batch_op.drop_index("ix_plc_programs_course")

    op.drop_table("plc_programs")
