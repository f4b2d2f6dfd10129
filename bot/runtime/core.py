"""The use cases, wired together once, each flow given only what it uses; the Telegram
handlers call into this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.flows.announcements import AnnouncementKind, Announcements
from bot.flows.behalf import NEW_MEMBER, Behalf, NewMemberKind
from bot.flows.commitments import AssessmentKind, CommitmentKind, Commitments
from bot.flows.digests import Digests, ScheduledDigests
from bot.flows.exports import FORM_NAME as EXPORT_PERIOD
from bot.flows.exports import ExportPeriodKind, Exports
from bot.flows.groups import Groups
from bot.flows.invites import Invites
from bot.flows.joins import JoinKind, Joins
from bot.flows.language import Language
from bot.flows.member_import import MemberImport
from bot.flows.members import Members
from bot.flows.models import ModelKind, Models
from bot.flows.my_reports import MyReports
from bot.flows.quick_reports import QuickReports
from bot.flows.reminders import Reminders
from bot.flows.reports import ReportKind, Reports
from bot.flows.reviews import QueueView, ReviewNoteKind, ReviewNotices, Reviews
from bot.flows.schedules import ScheduleReminderKind, Schedules
from bot.flows.settings import NudgeSettings
from bot.flows.stats import Stats
from bot.flows.welcome import Welcome
from bot.forms.conversations import Conversations, FormKind
from bot.rules.access import Request, Requests
from bot.rules.schedules import Deciders, Scheduler
from bot.runtime.config import Settings
from bot.runtime.services import Services
from bot.ui.catalogue import Catalogue
from bot.ui.screens import Reply
from storage.db import Database


def form_kinds(settings: Settings, catalogue: Catalogue,
               db: Database | None = None) -> dict[str, FormKind]:
    """Every form the bot runs, by the name its drafts are stored under."""
    report_kind = ReportKind(settings, catalogue, db)
    queue_view = QueueView(settings, report_kind)
    return {
        "join": JoinKind(settings, catalogue),
        "report": report_kind,
        "model": ModelKind(settings),
        NEW_MEMBER: NewMemberKind(),
        "commitment": CommitmentKind(),
        "self_assessment": AssessmentKind(),
        "review_ask": ReviewNoteKind.ask_more(catalogue, queue_view),
        "review_reopen": ReviewNoteKind.reopen(catalogue, queue_view),
        "announcement": AnnouncementKind(),
        "schedule_reminder": ScheduleReminderKind(),
        EXPORT_PERIOD: ExportPeriodKind(),
    }


@dataclass
class Core:
    services: Services
    requests: Requests
    conversations: Conversations
    reports: Reports
    quick_reports: QuickReports
    my_reports: MyReports
    welcome: Welcome
    language: Language
    reviews: Reviews
    invites: Invites
    joins: Joins
    members: Members
    member_import: MemberImport
    groups: Groups
    behalf: Behalf
    models: Models
    commitments: Commitments
    stats: Stats
    digests: Digests
    schedules: Schedules
    scheduler: Scheduler
    settings: NudgeSettings
    announcements: Announcements
    exports: Exports

    def opened_by_link(self, payload: str) -> Callable[[Request], Awaitable[Reply]] | None:
        """What t.me/<bot>?start=<payload> opens when the payload names a command of the
        private chat (the pointer sent in a group, bot/flows/groups.py); None for anything
        else, e.g. an invite code (12 characters, never one of these words)."""
        opens: dict[str, Callable[[Request], Awaitable[Reply]]] = {
            "report": self.reports.start, "my": self.my_reports.open,
            "stats": self.stats.open, "model": self.models.open,
            "commit": self.commitments.open, "help": self.welcome.help,
            "review": self.reviews.open, "members": self.members.open,
            "invite": self.invites.open, "behalf": self.behalf.open,
            "digest": self.digests.open, "schedule": self.schedules.open,
            "announce": self.announcements.open, "settings": self.settings.open,
            "export": self.exports.open, "report_doc": self.exports.open_word_report,
        }
        return opens.get(payload)

    @classmethod
    def build(cls, services: Services) -> Core:
        settings, catalogue = services.settings, services.catalogue
        kinds = form_kinds(settings, catalogue, services.db)
        report_kind = kinds["report"]
        assert isinstance(report_kind, ReportKind)
        notices = ReviewNotices(services)
        report_kind.resubmitted = notices.resubmitted
        conversations = Conversations(settings, catalogue, kinds)
        reports = Reports(conversations)
        return cls(
            services=services,
            requests=Requests(services),
            conversations=conversations,
            reports=reports,
            quick_reports=QuickReports(report_kind),
            my_reports=MyReports(conversations, report_kind),
            welcome=Welcome(settings, conversations),
            language=Language(catalogue),
            reviews=Reviews(catalogue, conversations, QueueView(settings, report_kind)),
            invites=Invites(settings),
            joins=Joins(conversations, catalogue),
            members=Members(settings, catalogue),
            member_import=MemberImport(settings),
            groups=Groups(catalogue),
            behalf=Behalf(conversations),
            models=Models(settings, conversations),
            commitments=Commitments(settings, catalogue, conversations),
            stats=Stats(settings),
            digests=Digests(settings),
            schedules=Schedules(settings, conversations),
            scheduler=_scheduler(services, notices),
            settings=NudgeSettings(reports),
            announcements=Announcements(services, conversations),
            exports=Exports(settings, services.db, conversations),
        )


def _scheduler(services: Services, notices: ReviewNotices) -> Scheduler:
    reminders, digests = Reminders(services), ScheduledDigests(services)
    return Scheduler(services, Deciders(reminder=reminders.reminder, custom=reminders.custom,
                                        digests=digests.decide, review=notices.daily,
                                        held=notices.held))
