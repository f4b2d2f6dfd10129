"""What a report costs the member, in actions (a message, an album, a tap): minimal, typical
(with a photo) and full, written in one message and step by step. Each play ends with the
report stored as meant, so a count cannot be bought by losing an answer."""

from __future__ import annotations

from dataclasses import dataclass

from storage.entities import ReportContent
from tests.harness import Harness, Seen
from tests.test_quick_reports import CARD, card_after, cell_of_three

MAI = 1001


@dataclass
class Member:
    """A member's hands: every message, album and tap is one action."""

    bot: Harness
    actions: int = 0

    async def say(self, text: str) -> Seen:
        self.actions += 1
        return await self.bot.say(MAI, text)

    async def tap(self, label: str) -> Seen:
        self.actions += 1
        return await self.bot.tap(MAI, label)

    async def write(self, text: str, photos: int = 0) -> Seen:
        """One message, or one album of `photos` captioned with `text`: the card comes."""
        self.actions += 1
        fake, mark = self.bot.fake, len(self.bot.fake.calls)
        if not photos:
            return await card_after(self.bot, MAI, fake.send_text(MAI, text), mark)
        first = fake.send_photo(MAI, media_group_id=f"album-{mark}", caption=text)
        for _ in range(photos - 1):
            fake.send_photo(MAI, media_group_id=f"album-{mark}")
        return await card_after(self.bot, MAI, first, mark)

    async def album(self, photos: int, at_summary: bool = False) -> None:
        """An album at the photos step, or at the summary (where it is counted on the
        summary drawn again)."""
        self.actions += 1
        mark = len(self.bot.fake.calls)
        for _ in range(photos):
            self.bot.fake.send_photo(MAI, media_group_id=f"album-{self.actions}")
        if not at_summary:
            await self.bot.photos_acknowledged(MAI, photos)
            return
        await self.bot.fake.wait_for(lambda f: any(
            "form.photos_added" in c.keys for c in f.calls[mark:]))

    async def skip_to(self, prompt: str) -> None:
        while f"form.report.{prompt}.prompt" not in self.bot.said_last(MAI):
            await self.tap("Bỏ qua")


async def only_report(bot: Harness) -> ReportContent:
    [report] = await bot.reports_of(MAI)
    return report.content


async def test_one_message_minimal_report_is_two_actions(bot: Harness) -> None:
    await cell_of_three(bot)
    mai = Member(bot)
    assert (await mai.write("Hôm qua dọn vệ sinh đường vào thôn")).shows(CARD)
    await mai.tap("✅ Gửi")
    assert mai.actions == 2
    assert (await only_report(bot)).field == "Môi trường"


async def test_one_message_typical_report_with_photos_is_two_actions(bot: Harness) -> None:
    await cell_of_three(bot)
    mai = Member(bot)
    await mai.write("Sáng thứ 7 cùng đ/c Hoa tặng quà 12 cháu học sinh nghèo ở thôn Nà Lầm, "
                    "trị giá 2tr5", photos=2)
    await mai.tap("✅ Gửi")
    assert mai.actions == 2
    content = await only_report(bot)
    assert (content.people_helped, content.value_vnd, len(content.photos)) == (12, 2_500_000, 2)
    assert content.place == "thôn Nà Lầm" and len(content.participant_ids) == 1


async def test_one_message_full_report_adds_only_what_was_not_said(bot: Harness) -> None:
    await cell_of_three(bot)
    mai = Member(bot)
    await mai.write("Hôm qua cùng đ/c Hoa, đ/c Bình sửa nhà giúp 5 hộ nghèo, khám bệnh cho "
                    "20 người ở thôn Nà Lầm, hỗ trợ 3 triệu", photos=1)
    await mai.tap("➕ Thêm chi tiết")
    await mai.tap("Dân vận khéo")
    await mai.tap("🔒 Không công khai")
    await mai.tap("✅ Gửi")
    assert mai.actions == 5
    content = await only_report(bot)
    assert (content.households_helped, content.people_helped, content.value_vnd) == (
        5, 20, 3_000_000)
    assert content.model_id is not None and content.private
    assert len(content.participant_ids) == 2 and len(content.photos) == 1


async def test_step_by_step_minimal_report_is_five_actions(bot: Harness) -> None:
    await cell_of_three(bot)
    mai = Member(bot)
    await mai.say("/report")
    await mai.tap("Hôm qua")
    await mai.tap("Môi trường")
    await mai.say("Dọn vệ sinh đường vào thôn")
    await mai.tap("✅ Gửi ngay")
    assert mai.actions == 5
    assert (await only_report(bot)).description == "Dọn vệ sinh đường vào thôn"


async def test_step_by_step_typical_report_with_a_photo(bot: Harness) -> None:
    await cell_of_three(bot)
    mai = Member(bot)
    await mai.say("/report")
    await mai.tap("Hôm qua")
    await mai.tap("An sinh xã hội, giảm nghèo")
    await mai.say("Tặng quà cho các cháu học sinh nghèo")
    # Photos are taken at the summary as at their own step; one detail is one ✏ Sửa away.
    await mai.album(1, at_summary=True)
    await mai.tap("✏ Sửa")
    await mai.tap("✏ Sửa số người")
    await mai.say("12")
    await mai.tap("✅ Gửi")
    # 14 before the details went behind ➕ Thêm chi tiết (every step asked in turn).
    assert mai.actions == 9
    content = await only_report(bot)
    assert (content.people_helped, len(content.photos)) == (12, 1)


async def test_step_by_step_full_report(bot: Harness) -> None:
    await cell_of_three(bot)
    mai = Member(bot)
    await mai.say("/report")
    await mai.tap("Hôm qua")
    await mai.tap("An sinh xã hội, giảm nghèo")
    await mai.say("Sửa nhà cho hộ nghèo cùng các đồng chí trong chi bộ")
    await mai.tap("➕ Thêm chi tiết")
    await mai.tap("Dân vận khéo")
    await mai.tap("☐ Nguyễn Thị Hoa")
    await mai.tap("Xong")
    await mai.say("20")
    await mai.say("5")
    await mai.say("3 triệu")
    await mai.say("thôn Nà Lầm")
    await mai.album(1)
    await mai.tap("Xong")
    await mai.tap("🔒 Không công khai")
    await mai.tap("✅ Gửi")
    assert mai.actions == 16
    content = await only_report(bot)
    assert (content.people_helped, content.households_helped, content.value_vnd) == (
        20, 5, 3_000_000)
    assert content.private and content.place == "thôn Nà Lầm"
