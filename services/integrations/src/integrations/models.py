from sqlalchemy.orm import DeclarativeBase

from servicekit.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()
