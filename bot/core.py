"""The use cases, wired together once; the Telegram handlers call into this."""

from __future__ import annotations

from dataclasses import dataclass

from bot.announcements import AnnouncementKind, Announcements
from bot.commitments import AssessmentKind, CommitmentKind, Commitments
from bot.config import Settings
from bot.conversation import Conversations, FormKind
from bot.digests import Digests
from bot.groups import Groups
from bot.inviting import Inviting
from bot.joining import JoinKind
from bot.language import Language
from bot.members import Members
from bot.models import ModelKind, Models
from bot.my_reports import MyReports
from bot.nudge_settings import NudgeSettings
from bot.on_behalf import NEW_MEMBER, NewMemberKind, OnBehalf
from bot.reporting import ReportKind
from bot.review import Review, ReviewNoteKind
from bot.schedules import ScheduleReminderKind, Schedules
from bot.scheduling import Scheduling
from bot.services import Services
from bot.stats import Stats
from bot.welcome import Welcome


def form_kinds(settings: Settings) -> dict[str, FormKind]:
    """Every form the bot runs, by the name its drafts are stored under."""
    return {
        "join": JoinKind(),
        "report": ReportKind(settings),
        "model": ModelKind(settings),
        NEW_MEMBER: NewMemberKind(),
        "commitment": CommitmentKind(),
        "self_assessment": AssessmentKind(),
        "review_ask": ReviewNoteKind.ask_more(settings),
        "review_reopen": ReviewNoteKind.reopen(settings),
        "announcement": AnnouncementKind(),
        "schedule_reminder": ScheduleReminderKind(),
    }


@dataclass
class Core:
    services: Services
    conversations: Conversations
    report_kind: ReportKind
    my_reports: MyReports
    welcome: Welcome
    language: Language
    review: Review
    inviting: Inviting
    members: Members
    groups: Groups
    on_behalf: OnBehalf
    models: Models
    commitments: Commitments
    stats: Stats
    digests: Digests
    schedules: Schedules
    scheduling: Scheduling
    nudge_settings: NudgeSettings
    announcements: Announcements

    @classmethod
    def build(cls, services: Services) -> Core:
        kinds = form_kinds(services.settings)
        report_kind = kinds["report"]
        assert isinstance(report_kind, ReportKind)
        conversations = Conversations(services, kinds)
        parts = (services, conversations, report_kind)
        return cls(
            services=services,
            conversations=conversations,
            report_kind=report_kind,
            my_reports=MyReports(*parts),
            welcome=Welcome(services, conversations),
            language=Language(services),
            review=Review(*parts),
            inviting=Inviting(*parts),
            members=Members(*parts),
            groups=Groups(*parts),
            on_behalf=OnBehalf(*parts),
            models=Models(*parts),
            commitments=Commitments(*parts),
            stats=Stats(*parts),
            digests=Digests(*parts),
            schedules=Schedules(*parts),
            scheduling=Scheduling(*parts),
            nudge_settings=NudgeSettings(*parts),
            announcements=Announcements(*parts),
        )
