"""The use cases, wired together once; the Telegram handlers call into this."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation import Conversations
from bot.joining import JoinKind
from bot.language import Language
from bot.my_reports import MyReports
from bot.reporting import ReportKind
from bot.services import Services
from bot.welcome import Welcome


@dataclass
class Core:
    services: Services
    conversations: Conversations
    report_kind: ReportKind
    my_reports: MyReports
    welcome: Welcome
    language: Language

    @classmethod
    def build(cls, services: Services) -> Core:
        report_kind = ReportKind(services.settings)
        conversations = Conversations(services, {"join": JoinKind(), "report": report_kind})
        return cls(
            services=services,
            conversations=conversations,
            report_kind=report_kind,
            my_reports=MyReports(services, conversations, report_kind),
            welcome=Welcome(services, conversations),
            language=Language(services),
        )
