"""Status pages: their components, public posts and updates, rendered files, subscribers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class StatusPage(Base):
    __tablename__ = "status_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    logo_url: Mapped[str] = mapped_column(String(2000), default="")
    brand_color: Mapped[str] = mapped_column(String(7), default="#1f6feb")
    links: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusComponent(Base):
    """One thing readers see the status of; `group_name` '' is ungrouped. Its status is
    derived from its services' open incidents and maintenance unless `override_status` is
    set (shown to readers as set by hand)."""

    __tablename__ = "status_components"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(
        ForeignKey("status_pages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    group_name: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    override_status: Mapped[str | None] = mapped_column(String(24), default=None)
    override_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusComponentService(Base):
    __tablename__ = "status_component_services"

    component_id: Mapped[int] = mapped_column(
        ForeignKey("status_components.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True)


class StatusPost(Base):
    """A public incident post or maintenance post. Written separately from the internal
    incident it may be linked to: the incident's title and timeline never reach the page."""

    __tablename__ = "status_posts"
    __table_args__ = (Index("ix_status_posts_page_id", "page_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # incident | maintenance
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), default=None, index=True)
    maintenance_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_windows.id", ondelete="SET NULL"), default=None)
    title: Mapped[str] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(12), default="minor")
    component_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    scheduled_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusPostUpdate(Base):
    """One update of a post: its stage, body and affected components. A draft has no
    `published_at`; published updates are never changed."""

    __tablename__ = "status_post_updates"
    __table_args__ = (Index("ix_status_post_updates_post_id", "post_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("status_posts.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    component_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusMaintenanceSeries(Base):
    """A recurring maintenance window announced on a page: each occurrence within
    `horizon_days` becomes its own maintenance post. `announced_through` is the start of the
    last occurrence announced (at first, when announcing began); a worker claims the next
    ones by moving it with a conditional update, so each occurrence is announced once."""

    __tablename__ = "status_maintenance_series"
    __table_args__ = (UniqueConstraint("page_id", "window_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    window_id: Mapped[int] = mapped_column(
        ForeignKey("maintenance_windows.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    component_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    horizon_days: Mapped[int] = mapped_column(Integer)
    announced_through: Mapped[datetime] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusRender(Base):
    """One rendered file of a page (`index.html`, `feed.atom`, `api/v2/summary.json`…),
    written when something it shows changes and served as is."""

    __tablename__ = "status_renders"

    page_id: Mapped[int] = mapped_column(
        ForeignKey("status_pages.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(80))
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusPageState(Base):
    """The fingerprint of what a page showed when last rendered: the refresh job renders
    again only when it changes."""

    __tablename__ = "status_page_states"

    page_id: Mapped[int] = mapped_column(
        ForeignKey("status_pages.id", ondelete="CASCADE"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusSubscriber(Base):
    """An email or webhook subscriber of one page. Private: only admins list them."""

    __tablename__ = "status_subscribers"
    __table_args__ = (
        Index("ix_status_subscribers_page_address", "page_id", "address"),
        Index("ix_status_subscribers_address_at", "address", "created_at"),
        Index("ix_status_subscribers_client_at", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("status_pages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # email | webhook
    address: Mapped[str] = mapped_column(String(2000))
    component_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)  # [] = all
    token: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    client_address: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


