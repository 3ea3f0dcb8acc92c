"""Database layer: SQLAlchemy models, engine and session factory, Alembic glue."""
