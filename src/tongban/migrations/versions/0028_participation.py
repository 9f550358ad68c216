"""participation: 政民互动 — surveys with their questions, options, responses and answers; comment
solicitations on draft policies and online interviews with their comments or questions, and the
adoption summary's groups.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 13:40:40
"""

from alembic import op
import sqlalchemy as sa


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('participation_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('guests', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closed_early_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('results_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('attachment_path', sa.String(length=300), nullable=True),
    sa.Column('attachment_size', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_participation_topics_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_topics'))
    )
    with op.batch_alter_table('participation_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participation_topics_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_participation_topics_listing', ['status', 'kind', 'opens_at'], unique=False)

    op.create_table('participation_adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['participation_topics.id'], name=op.f('fk_participation_adoptions_topic_id_participation_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_adoptions'))
    )
    with op.batch_alter_table('participation_adoptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participation_adoptions_topic_id'), ['topic_id'], unique=False)

    op.create_table('participation_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['participation_topics.id'], name=op.f('fk_participation_questions_topic_id_participation_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_questions'))
    )
    with op.batch_alter_table('participation_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participation_questions_topic_id'), ['topic_id'], unique=False)

    op.create_table('participation_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['participation_topics.id'], name=op.f('fk_participation_responses_topic_id_participation_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_responses')),
    sa.UniqueConstraint('topic_id', 'account', name=op.f('uq_participation_responses_topic_id'))
    )
    op.create_table('participation_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['participation_adoptions.id'], name=op.f('fk_participation_comments_group_id_participation_adoptions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['participation_topics.id'], name=op.f('fk_participation_comments_topic_id_participation_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_comments'))
    )
    with op.batch_alter_table('participation_comments', schema=None) as batch_op:
        batch_op.create_index('ix_participation_comments_topic', ['topic_id', 'id'], unique=False)

    op.create_table('participation_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['participation_questions.id'], name=op.f('fk_participation_options_question_id_participation_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_options'))
    )
    with op.batch_alter_table('participation_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participation_options_question_id'), ['question_id'], unique=False)

    op.create_table('participation_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['option_id'], ['participation_options.id'], name=op.f('fk_participation_answers_option_id_participation_options'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['participation_questions.id'], name=op.f('fk_participation_answers_question_id_participation_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['participation_responses.id'], name=op.f('fk_participation_answers_response_id_participation_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_answers'))
    )
    with op.batch_alter_table('participation_answers', schema=None) as batch_op:
        batch_op.create_index('ix_participation_answers_question', ['question_id', 'option_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participation_answers_response_id'), ['response_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('participation_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participation_answers_response_id'))
        batch_op.drop_index('ix_participation_answers_question')

    op.drop_table('participation_answers')
    with op.batch_alter_table('participation_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participation_options_question_id'))

    op.drop_table('participation_options')
    with op.batch_alter_table('participation_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_comments_topic')

    op.drop_table('participation_comments')
    op.drop_table('participation_responses')
    with op.batch_alter_table('participation_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participation_questions_topic_id'))

    op.drop_table('participation_questions')
    with op.batch_alter_table('participation_adoptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participation_adoptions_topic_id'))

    op.drop_table('participation_adoptions')
    with op.batch_alter_table('participation_topics', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_topics_listing')
        batch_op.drop_index(batch_op.f('ix_participation_topics_department_id'))

    op.drop_table('participation_topics')
