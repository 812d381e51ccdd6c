"""indexes for the recent-window load, the newest observation per period, and a subject's values near a new one

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:20:00

* ``ix_articles_fetched_at``: the related-story window (``queries.RecentValues``) is loaded by
  fetch time, and retention prunes old bodies by it.
* ``ix_figures_subject_value`` (subject_key, unit, value) and ``ix_figures_subject_equivalent``
  (subject_key, equivalent_unit, equivalent_value): a subject's known values are read by value
  range instead of all of them (``queries.known_figures_by_subject``). They replace
  ``ix_figures_subject_key``, which they lead with.
* ``ix_figures_base_period`` (base_key, period, observed_at, id) replaces ``ix_figures_base_key``:
  the newest observation of each period is ranked from the index alone.
* ``ix_figures_unit_value`` is dropped: "which recent article stated this value" is answered from
  memory now, and the index cost every figure insert.
"""
from __future__ import annotations

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_fetched_at'), ['fetched_at'], unique=False)
    with op.batch_alter_table('figures', schema=None) as batch_op:
        batch_op.drop_index('ix_figures_unit_value')
        batch_op.drop_index(batch_op.f('ix_figures_subject_key'))
        batch_op.drop_index(batch_op.f('ix_figures_base_key'))
        batch_op.create_index('ix_figures_base_period', ['base_key', 'period', 'observed_at', 'id'], unique=False)
        batch_op.create_index('ix_figures_subject_value', ['subject_key', 'unit', 'value'], unique=False)
        batch_op.create_index('ix_figures_subject_equivalent', ['subject_key', 'equivalent_unit', 'equivalent_value'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('figures', schema=None) as batch_op:
        batch_op.drop_index('ix_figures_subject_equivalent')
        batch_op.drop_index('ix_figures_subject_value')
        batch_op.drop_index('ix_figures_base_period')
        batch_op.create_index(batch_op.f('ix_figures_base_key'), ['base_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_figures_subject_key'), ['subject_key'], unique=False)
        batch_op.create_index('ix_figures_unit_value', ['unit', 'value', 'observed_at', 'article_id'], unique=False)
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_fetched_at'))
