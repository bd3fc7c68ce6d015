"""learning (issue 17): post-mortems, action items, known errors and suggestions, drills;
the drill marker on incidents; full-text index tables in each database's own form

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:43:47
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tocsin.db.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drill_scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('alert_title', sa.String(length=300), nullable=False),
    sa.Column('alert_text', sa.Text(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=4), nullable=False),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_drill_scenarios_service_id_services'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_scenarios')),
    sa.UniqueConstraint('name', name=op.f('uq_drill_scenarios_name'))
    )
    op.create_table('incident_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('used', sa.Boolean(), nullable=False),
    sa.Column('used_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_suggestions_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_suggestions'))
    )
    with op.batch_alter_table('incident_suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_incident_suggestions_incident', ['incident_id', 'rank'], unique=False)

    op.create_table('postmortems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('timeline', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('impact', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('impact_notes', sa.Text(), nullable=False),
    sa.Column('root_cause', sa.Text(), nullable=False),
    sa.Column('contributing_factors', sa.Text(), nullable=False),
    sa.Column('went_well', sa.Text(), nullable=False),
    sa.Column('could_improve', sa.Text(), nullable=False),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('published_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_postmortems_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_postmortems_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postmortems')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_postmortems_incident_id'))
    )
    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.create_index('ix_postmortems_status_due', ['status', 'due_at'], unique=False)

    op.create_table('problems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('symptoms', sa.Text(), nullable=False),
    sa.Column('workaround', sa.Text(), nullable=False),
    sa.Column('fix_status', sa.String(length=20), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('labels', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_problems_service_id_services'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problems'))
    )
    op.create_table('action_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('postmortem_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('external_kind', sa.String(length=20), nullable=True),
    sa.Column('external_ref', sa.String(length=200), nullable=True),
    sa.Column('external_status', sa.String(length=40), nullable=True),
    sa.Column('external_checked_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('done_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_action_items_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_action_items_owner_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['postmortem_id'], ['postmortems.id'], name=op.f('fk_action_items_postmortem_id_postmortems'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items'))
    )
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_items_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_action_items_owner_status', ['owner_id', 'status'], unique=False)

    op.create_table('drills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('finished_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_drills_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scenario_id'], ['drill_scenarios.id'], name=op.f('fk_drills_scenario_id_drill_scenarios'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_drills_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drills')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_drills_incident_id'))
    )
    op.create_table('postmortem_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('postmortem_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=40), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_postmortem_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['postmortem_id'], ['postmortems.id'], name=op.f('fk_postmortem_comments_postmortem_id_postmortems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_postmortem_comments'))
    )
    with op.batch_alter_table('postmortem_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postmortem_comments_postmortem_id'), ['postmortem_id'], unique=False)

    op.create_table('postmortem_reviewers',
    sa.Column('postmortem_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('approved_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['postmortem_id'], ['postmortems.id'], name=op.f('fk_postmortem_reviewers_postmortem_id_postmortems'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_postmortem_reviewers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('postmortem_id', 'user_id', name=op.f('pk_postmortem_reviewers'))
    )
    op.create_table('problem_incidents',
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_problem_incidents_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['problem_id'], ['problems.id'], name=op.f('fk_problem_incidents_problem_id_problems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('problem_id', 'incident_id', name=op.f('pk_problem_incidents'))
    )
    with op.batch_alter_table('problem_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_incidents_incident_id'), ['incident_id'], unique=False)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('drill', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('runbooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('review_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('matchers', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('source_path', sa.String(length=1000), nullable=True),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_runbooks_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbooks')),
    sa.UniqueConstraint('slug', name=op.f('uq_runbooks_slug'))
    )
    op.create_table('runbook_services',
    sa.Column('runbook_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['runbook_id'], ['runbooks.id'], name=op.f('fk_runbook_services_runbook_id_runbooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_runbook_services_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('runbook_id', 'service_id', name=op.f('pk_runbook_services'))
    )
    with op.batch_alter_table('runbook_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbook_services_service_id'), ['service_id'], unique=False)

    _create_fulltext()


# The full-text index (knownerrors/search.py): incidents and problems by their text. SQLite:
# FTS5 tables keyed by rowid = the row's id; PostgreSQL: a tsvector per row with a GIN index.
FTS_TABLES = ("fts_incidents", "fts_problems")


def _create_fulltext() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in FTS_TABLES:
            op.execute(f"CREATE VIRTUAL TABLE {name} USING fts5(doc, tokenize='unicode61')")
        return
    for name, parent in zip(FTS_TABLES, ("incidents", "problems"), strict=True):
        op.execute(f"CREATE TABLE {name} (id integer PRIMARY KEY REFERENCES {parent}(id) "
                   "ON DELETE CASCADE, doc tsvector NOT NULL)")
        op.execute(f"CREATE INDEX {name}_doc ON {name} USING gin (doc)")


def downgrade() -> None:
    for name in FTS_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {name}")
    op.drop_table('runbook_services')
    op.drop_table('runbooks')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('drill')

    with op.batch_alter_table('problem_incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_incidents_incident_id'))

    op.drop_table('problem_incidents')
    op.drop_table('postmortem_reviewers')
    with op.batch_alter_table('postmortem_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postmortem_comments_postmortem_id'))

    op.drop_table('postmortem_comments')
    op.drop_table('drills')
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_index('ix_action_items_owner_status')
        batch_op.drop_index(batch_op.f('ix_action_items_incident_id'))

    op.drop_table('action_items')
    op.drop_table('problems')
    with op.batch_alter_table('postmortems', schema=None) as batch_op:
        batch_op.drop_index('ix_postmortems_status_due')

    op.drop_table('postmortems')
    with op.batch_alter_table('incident_suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_suggestions_incident')

    op.drop_table('incident_suggestions')
    op.drop_table('drill_scenarios')
