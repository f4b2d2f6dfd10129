"""The use cases, wired together once; the Telegram handlers call into this."""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows.announcements import AnnouncementKind, Announcements
from bot.flows.behalf import NEW_MEMBER, NewMemberKind, OnBehalf
from bot.flows.commitments import AssessmentKind, CommitmentKind, Commitments
from bot.flows.digests import Digests, ScheduledDigests
from bot.flows.groups import Groups
from bot.flows.invites import Inviting
from bot.flows.joins import JoinKind
from bot.flows.language import Language
from bot.flows.members import Members
from bot.flows.models import ModelKind, Models
from bot.flows.my_reports import MyReports
from bot.flows.reminders import Reminders
from bot.flows.reports import ReportKind
from bot.flows.reviews import Review, ReviewNoteKind
from bot.flows.schedules import ScheduleReminderKind, Schedules
from bot.flows.settings import NudgeSettings
from bot.flows.stats import Stats
from bot.flows.welcome import Welcome
from bot.forms.conversations import Conversations, FormKind
from bot.rules.schedules import Deciders, Scheduler
from bot.runtime.config import Settings
from bot.runtime.services import Services


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
    scheduler: Scheduler
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
            scheduler=_scheduler(services),
            nudge_settings=NudgeSettings(*parts),
            announcements=Announcements(*parts),
        )


def _scheduler(services: Services) -> Scheduler:
    reminders, digests = Reminders(services), ScheduledDigests(services)
    return Scheduler(services, Deciders(reminder=reminders.reminder, custom=reminders.custom,
                                        digests=digests.decide))
