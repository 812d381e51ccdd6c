"""article sketches, a subject key and a value index for figures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:10:00

* ``articles.sketch``: the bottom-k sketch of the text (``worker.dedup``), so near-duplicate and
  related-story checks never load article bodies. Older rows keep NULL and are sketched from
  their text when first compared.
* ``figures.subject_key`` (``subject|unit kind``, indexed): restatements under another metric
  wording are found by equality instead of a LIKE scan; filled here from ``base_key``.
* ``ix_figures_unit_value`` (unit, value, observed_at, article_id): "which recent article stated
  this value" is one scan of a covering index; ``ix_articles_is_baseline`` for the baseline's ids.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sketch', sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f('ix_articles_is_baseline'), ['is_baseline'], unique=False)
    with op.batch_alter_table('figures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_key', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_figures_subject_key'), ['subject_key'], unique=False)
        batch_op.create_index('ix_figures_unit_value', ['unit', 'value', 'observed_at', 'article_id'], unique=False)
    figures = sa.table('figures', sa.column('id', sa.Integer), sa.column('base_key', sa.String),
                       sa.column('subject_key', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(figures.c.id, figures.c.base_key)).all()
    for start in range(0, len(rows), 1000):
        conn.execute(figures.update().where(figures.c.id == sa.bindparam('fid'))
                     .values(subject_key=sa.bindparam('sk')),
                     [{'fid': fid, 'sk': f"{base.split('|')[0]}|{base.split('|')[-1]}"}
                      for fid, base in rows[start:start + 1000]])


def downgrade() -> None:
    with op.batch_alter_table('figures', schema=None) as batch_op:
        batch_op.drop_index('ix_figures_unit_value')
        batch_op.drop_index(batch_op.f('ix_figures_subject_key'))
        batch_op.drop_column('subject_key')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_is_baseline'))
        batch_op.drop_column('sketch')
