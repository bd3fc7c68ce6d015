"""status pages: pages, components, posts, rendered files, subscribers; outbox messages to
addresses outside the users; stakeholder templates, distribution lists, updates, cadences

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:04:34.453566
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tocsin.db.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('distribution_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('severities', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('service_ids', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('executive', sa.Boolean(), nullable=False),
    sa.Column('targets', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_lists')),
    sa.UniqueConstraint('name', name=op.f('uq_distribution_lists_name'))
    )
    op.create_table('stakeholder_templates',
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', name=op.f('pk_stakeholder_templates'))
    )
    op.create_table('status_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('logo_url', sa.String(length=2000), nullable=False),
    sa.Column('brand_color', sa.String(length=7), nullable=False),
    sa.Column('links', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_pages')),
    sa.UniqueConstraint('slug', name=op.f('uq_status_pages_slug'))
    )
    op.create_table('status_components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('group_name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('override_status', sa.String(length=24), nullable=True),
    sa.Column('override_note', sa.String(length=500), nullable=False),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], name=op.f('fk_status_components_page_id_status_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_components'))
    )
    with op.batch_alter_table('status_components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_components_page_id'), ['page_id'], unique=False)

    op.create_table('status_page_states',
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('rendered_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], name=op.f('fk_status_page_states_page_id_status_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page_id', name=op.f('pk_status_page_states'))
    )
    op.create_table('status_renders',
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('etag', sa.String(length=80), nullable=False),
    sa.Column('rendered_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], name=op.f('fk_status_renders_page_id_status_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('page_id', 'name', name=op.f('pk_status_renders'))
    )
    op.create_table('status_subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=2000), nullable=False),
    sa.Column('component_ids', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('confirmed_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('unsubscribed_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], name=op.f('fk_status_subscribers_page_id_status_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_subscribers')),
    sa.UniqueConstraint('token', name=op.f('uq_status_subscribers_token'))
    )
    with op.batch_alter_table('status_subscribers', schema=None) as batch_op:
        batch_op.create_index('ix_status_subscribers_address_at', ['address', 'created_at'], unique=False)
        batch_op.create_index('ix_status_subscribers_client_at', ['client_address', 'created_at'], unique=False)
        batch_op.create_index('ix_status_subscribers_page_address', ['page_id', 'address'], unique=False)

    op.create_table('stakeholder_cadences',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('next_update_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('missed', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_stakeholder_cadences_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_stakeholder_cadences'))
    )
    op.create_table('stakeholder_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('next_update_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('sent_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_stakeholder_updates_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_stakeholder_updates_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder_updates'))
    )
    with op.batch_alter_table('stakeholder_updates', schema=None) as batch_op:
        batch_op.create_index('ix_stakeholder_updates_incident', ['incident_id', 'id'], unique=False)

    op.create_table('status_component_services',
    sa.Column('component_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['component_id'], ['status_components.id'], name=op.f('fk_status_component_services_component_id_status_components'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_status_component_services_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('component_id', 'service_id', name=op.f('pk_status_component_services'))
    )
    with op.batch_alter_table('status_component_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_component_services_service_id'), ['service_id'], unique=False)

    op.create_table('status_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('maintenance_window_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('impact', sa.String(length=12), nullable=False),
    sa.Column('component_ids', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('scheduled_for', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('scheduled_until', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('published_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_status_posts_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['maintenance_window_id'], ['maintenance_windows.id'], name=op.f('fk_status_posts_maintenance_window_id_maintenance_windows'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], name=op.f('fk_status_posts_page_id_status_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_posts'))
    )
    with op.batch_alter_table('status_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_posts_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_status_posts_page_id', ['page_id', 'id'], unique=False)

    op.create_table('status_post_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('component_ids', tocsin.db.base.JSONType(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('published_at', tocsin.db.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', tocsin.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_status_post_updates_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['status_posts.id'], name=op.f('fk_status_post_updates_post_id_status_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_post_updates'))
    )
    with op.batch_alter_table('status_post_updates', schema=None) as batch_op:
        batch_op.create_index('ix_status_post_updates_post_id', ['post_id', 'id'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=2000), nullable=True))
        batch_op.alter_column('user_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.alter_column('contact_method_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index('ix_messages_address_sent', ['address', 'sent_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_address_sent')
        batch_op.alter_column('contact_method_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.alter_column('user_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('address')
        batch_op.drop_column('channel')

    with op.batch_alter_table('status_post_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_status_post_updates_post_id')

    op.drop_table('status_post_updates')
    with op.batch_alter_table('status_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_status_posts_page_id')
        batch_op.drop_index(batch_op.f('ix_status_posts_incident_id'))

    op.drop_table('status_posts')
    with op.batch_alter_table('status_component_services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_component_services_service_id'))

    op.drop_table('status_component_services')
    with op.batch_alter_table('stakeholder_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_stakeholder_updates_incident')

    op.drop_table('stakeholder_updates')
    op.drop_table('stakeholder_cadences')
    with op.batch_alter_table('status_subscribers', schema=None) as batch_op:
        batch_op.drop_index('ix_status_subscribers_page_address')
        batch_op.drop_index('ix_status_subscribers_client_at')
        batch_op.drop_index('ix_status_subscribers_address_at')

    op.drop_table('status_subscribers')
    op.drop_table('status_renders')
    op.drop_table('status_page_states')
    with op.batch_alter_table('status_components', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_components_page_id'))

    op.drop_table('status_components')
    op.drop_table('status_pages')
    op.drop_table('stakeholder_templates')
    op.drop_table('distribution_lists')
