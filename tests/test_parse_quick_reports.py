"""Reports sent as one message, as members of a mountain commune write them, and what is read.

Each row gives a message and only the values that should be read; every other value must come
back empty. Today is Monday 30/11/2026. The unit has two members called Hoa, so "Hoa" alone is
doubtful and left out; the field keywords are the committed config.toml's, read by the real
settings code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.parsing.quick_reports import QuickReading, looks_like_report, read_quick_report
from bot.parsing.text import normalize_multiline
from bot.runtime.config import load_settings

TODAY = dt.date(2026, 11, 30)  # a Monday
assert TODAY.weekday() == 0
MAX_AGE = 365
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"

HOA_NGUYEN, BINH, HOA_HOANG, PAO, MAI, DINH = 1, 2, 3, 4, 5, 6
MEMBERS = [
    (HOA_NGUYEN, "Nguyễn Thị Hoa"), (BINH, "Lò Văn Bình"), (HOA_HOANG, "Hoàng Thị Hoa"),
    (PAO, "Giàng A Páo"), (MAI, "Vàng Thị Mai"), (DINH, "Sùng A Dình"),
]
DAN_VAN, CON_DUONG, HU_GAO = 10, 11, 12
MODELS = [(DAN_VAN, "Dân vận khéo"), (CON_DUONG, "Mô hình Con đường tự quản"),
          (HU_GAO, "Hũ gạo tình thương")]

KT, VH, XH = "Kinh tế", "Văn hóa", "Xã hội"
AS, QP = "An sinh xã hội, giảm nghèo", "Quốc phòng – an ninh"
XD, MT = "Xây dựng Đảng, hệ thống chính trị", "Môi trường"


def day(number: int, month: int = 11, year: int = 2026) -> dt.date:
    return dt.date(year, month, number)


YESTERDAY, SATURDAY, SUNDAY = day(29), day(28), day(29)


@dataclass(frozen=True)
class Row:
    text: str
    date: dt.date | None = None
    doubtful: bool = False
    value: int | None = None
    people: int | None = None
    households: int | None = None
    place: str | None = None
    model: int | None = None
    who: tuple[int, ...] = field(default=())
    field: str | None = None
    previous: str | None = None

    def expected(self) -> QuickReading:
        return QuickReading(
            description=normalize_multiline(self.text), deed_date=self.date,
            date_doubtful=self.doubtful, value_vnd=self.value, people_helped=self.people,
            households_helped=self.households, place=self.place, model_id=self.model,
            participant_ids=self.who, field=self.field,
        )


ROWS = [
    # --- the examples everyone starts from -----------------------------------------------------
    Row("Hôm qua cùng đ/c Bình, đ/c Páo giúp 5 hộ nghèo ở thôn Nà Lầm sửa nhà, hỗ trợ 2tr5",
        date=YESTERDAY, value=2_500_000, households=5, place="thôn Nà Lầm", who=(BINH, PAO),
        field=AS),
    Row("sang thu 7 don ve sinh nha van hoa thon 3", date=SATURDAY, field=MT),
    Row("Hôm qua cùng đ/c Hoa, đ/c Bình giúp 5 hộ nghèo sửa nhà", date=YESTERDAY, households=5,
        who=(BINH,), field=AS),  # two members are called Hoa
    # --- dates -------------------------------------------------------------------------------
    Row("Hôm nay dọn vệ sinh đường làng thôn Khuổi Phước", date=TODAY, field=MT),
    Row("hom nay don ve sinh duong lang thon Khuoi Phuoc", date=TODAY, field=MT),
    Row("Hôm kia tuần tra đường biên cùng đồn biên phòng", date=day(28), field=QP),
    Row("hom kia tuan tra duong bien cung don bien phong", date=day(28), field=QP),
    Row("Sáng thứ 7 phát quang đường vào bản Pá Khoang", date=SATURDAY,
        place=None, field=MT),
    Row("Chiều chủ nhật sinh hoạt chi bộ thôn, học tập nghị quyết", date=SUNDAY, field=XD),
    Row("chieu chu nhat sinh hoat chi bo thon, hoc tap nghi quyet", date=SUNDAY, field=XD),
    Row("Chủ nhật vừa rồi trồng cây ở đồi Khau Vai", date=SUNDAY, place="đồi Khau Vai",
        field=MT),
    Row("chu nhat vua roi trong cay o doi Khau Vai", date=SUNDAY, place="doi Khau Vai",
        field=MT),
    Row("Thứ bảy tuần trước tuần tra phòng chống ma túy ở bản Tả Phìn", date=SATURDAY,
        place="bản Tả Phìn", field=QP),
    Row("thu bay tuan truoc tuan tra phong chong ma tuy o ban Ta Phin", date=SATURDAY,
        place="ban Ta Phin", field=QP),
    Row("thu 2 tuan truoc hoa giai mau thuan 2 gia dinh o thon 5", date=day(23),
        place="thon 5", field=XH),
    Row("Ngày 25/11 thăm hỏi 3 gia đình thương binh", date=day(25), households=3, field=AS),
    Row("25/11/2026 tham 3 gia dinh thuong binh", date=day(25), households=3, field=AS),
    Row("Ngày 25 trao 20 suất quà cho 20 hộ nghèo", date=day(25), households=20, field=AS),
    Row("ngay 2 thang 11 ho tro 1 ho lam nha tam", date=day(2), households=1, field=AS),
    Row("T7 dọn rác suối Nậm Khòa", date=SATURDAY, field=MT),
    Row("t6 kèm 4 cháu học bài buổi tối", date=day(27), people=4),
    Row("Thứ 5 vận động 2 cháu ra lớp trở lại, tránh bỏ học", date=day(26), field=XH),
    Row("thu nam van dong 2 chau ra lop tro lai, tranh bo hoc", date=day(26), field=XH),
    Row("Tối qua canh gác chốt kiểm soát cùng dân quân", date=YESTERDAY, field=QP),
    Row("Đêm qua canh gác chốt kiểm soát cùng dân quân", date=YESTERDAY, field=QP),
    Row("dem qua canh gac chot kiem soat cung dan quan", date=YESTERDAY, field=QP),
    Row("Tối nay tập văn nghệ cho lễ hội xuống đồng", date=TODAY, field=VH),
    Row("Tôi qua nhà bà Xuân giúp gặt lúa", field=None),  # "tôi": I went over
    # Without marks "toi" is "tôi" (I) as often as "tối": read only where "tôi" cannot stand.
    Row("toi qua hop chi bo ban ket nap dang vien", field=XD),  # "tôi qua họp": I came to
    Row("toi qua nha ba Xuan giup gat lua", field=None),
    Row("toi nay tap van nghe cho le hoi xuong dong", field=VH),
    Row("Toi qua, chi bo hop ban ket nap dang vien", date=YESTERDAY, field=XD),
    Row("chung toi toi qua tuan tra cung dan quan", date=YESTERDAY, field=QP),
    Row("chung toi qua giup ba Xuan gat lua", field=None),  # we came over
    Row("toi qua chung em tuan tra bien gioi", date=YESTERDAY, field=QP),
    Row("toi qua 20h canh gac chot kiem soat", date=YESTERDAY, field=QP),
    Row("vao toi qua hop dan o nha van hoa thon 3", date=YESTERDAY, place="nha van hoa thon 3"),
    Row("toi hom qua tuan tra cung dan quan", date=YESTERDAY, field=QP),
    # "sang qua", "dem qua" are also "sang qua" (go over), "đem qua" (bring over).
    Row("sang qua nha bac Pao giup gat lua", field=None),
    Row("dem qua cho ba con 10kg gao", field=AS),
    Row("Tôi đem qua cho bà con 10kg gạo", field=AS),
    Row("sang qua don rac o cho phien Ban Ho", date=YESTERDAY, place="cho phien Ban Ho",
        field=MT),
    # "thứ N" after lần, năm, giải, … is the Nth, not a weekday.
    Row("Lần thứ 2 tổ chức hiến máu tình nguyện ở xã Lũng Cú", place="xã Lũng Cú", field=XH),
    Row("lan thu 2 to chuc hien mau tinh nguyen o xa Lung Cu", place="xa Lung Cu", field=XH),
    Row("Năm thứ 3 duy trì mô hình Con đường tự quản", model=CON_DUONG),
    Row("nam thu 3 duy tri hu gao tinh thuong", model=HU_GAO, field=AS),
    Row("Đội văn nghệ thôn đạt giải thứ nhất hội diễn", field=VH),
    Row("doi bong chuyen dat hang thu 2 cua huyen", field=VH),
    Row("Kèm cháu Páo học lại chương trình lớp thứ 5", field=None),
    Row("giup con thu 3 nha ba Xuan di hoc lai", field=None),
    Row("Đợt thứ 2 trao quà cho 15 hộ nghèo", households=15, field=AS),
    Row("dot thu 6 trao qua cho 15 ho ngheo", households=15, field=AS),
    Row("Ngày thứ 5 của chiến dịch, dọn rác suối Nậm Khòa", field=MT),
    Row("ngay thu 7 vua roi don rac suoi Nam Khoa", date=SATURDAY, field=MT),
    Row("Sáng thứ 2 mở lớp xóa mù chữ lần thứ 3", date=TODAY, field=XH),
    Row("sáng nay khám bệnh cho 40 người cao tuổi tại trạm y tế xã", date=TODAY, people=40,
        place="trạm y tế xã", field=XH),
    Row("5/1/2026 hiến máu tình nguyện tại hội trường huyện", date=day(5, 1),
        place="hội trường huyện", field=XH),
    Row("20.11.2026 tổ chức văn nghệ chào mừng ngày Nhà giáo", date=day(20), field=VH),
    # Said, but unusable: the card asks instead of assuming today.
    Row("31/02 dạy 15 em học sinh đọc chữ tại điểm trường Tả Phìn", doubtful=True, people=15,
        place="điểm trường Tả Phìn", field=XH),
    Row("ngày mai sẽ tặng quà 10 hộ nghèo", doubtful=True, households=10, field=AS),
    Row("15/12 trồng cây xanh ở sân trường", doubtful=True, place="sân trường", field=MT),
    Row("1/1/2025 trồng rừng ở đồi thông", doubtful=True, place="đồi thông", field=MT),
    Row("hôm qua và 25/11 tuần tra cùng dân quân", doubtful=True, field=QP),
    Row("Ngày 31/11 dọn vệ sinh nhà văn hóa", doubtful=True, field=MT),  # November has 30
    Row("Ngày 31 dọn vệ sinh nhà văn hóa", date=day(31, 10), field=MT),  # the latest 31st
    # The same day said twice is one day.
    Row("hôm qua (29/11) thu gom rác thải ở chợ Bản Lầm", date=YESTERDAY, place="chợ Bản Lầm",
        field=MT),
    # --- English -------------------------------------------------------------------------------
    Row("yesterday helped 3 families at Na Lam village, donated 2m", date=YESTERDAY,
        value=2_000_000, households=3, place="Na Lam village"),
    Row("Today cleaned the road to Ta Phin with the youth union", date=TODAY),
    Row("last Saturday visited 12 elderly people in Hamlet 3", date=SATURDAY, people=12),
    Row("On Sunday taught 20 children to read at Pa Khoang school", date=SUNDAY, people=20,
        place="Pa Khoang school"),
    Row("day before yesterday gave 5 households rice, worth 1.5 million", date=day(28),
        value=1_500_000, households=5),
    Row("Thursday patrolled the border with the militia, donated 500k", date=day(26),
        value=500_000),
    # --- money ---------------------------------------------------------------------------------
    Row("Ủng hộ quỹ vì người nghèo 500k", value=500_000, field=AS),
    Row("ung ho quy vi nguoi ngheo 500k", value=500_000, field=AS),
    Row("Hỗ trợ gia đình bà Lò Thị Xuân 1,5 triệu sửa nhà", value=1_500_000, field=AS),
    Row("ho tro gia dinh ba Lo Thi Xuan 1,5 trieu sua nha", value=1_500_000, field=AS),
    Row("Tặng quỹ khuyến học xã 2 triệu đồng", value=2_000_000),
    Row("tang quy khuyen hoc xa 2 trieu dong", value=2_000_000),
    Row("Đóng góp làm đường bê tông 1.500.000đ", value=1_500_000, field=KT),
    Row("dong gop lam duong be tong 1.500.000d", value=1_500_000, field=KT),
    Row("Ủng hộ đồng bào lũ lụt 300 nghìn", value=300_000),
    Row("ung ho dong bao lu lut 300 nghin", value=300_000),
    Row("Góp 2 triệu 500 nghìn mua giống ngô cho bà con", value=2_500_000),
    Row("góp 1tr2 xây nhà đại đoàn kết", value=1_200_000, field=AS),
    Row("Quyên góp được 2 triệu rưỡi cho quỹ khuyến học", value=2_500_000),
    Row("ủng hộ 1.000.000 đồng cho cháu Thào A Sử bị ốm", value=1_000_000),
    Row("ủng hộ 1.000.000 cho cháu Thào A Sử bị ốm", value=1_000_000),
    Row("hỗ trợ 2 triệu 5 hộ nghèo", value=2_000_000, households=5, field=AS),
    # Doubtful amounts: none recorded.
    Row("ủng hộ 500đ quỹ đoàn", doubtful=False),  # below 1.000 đ
    Row("tặng 20 suất quà, mỗi suất 500k, cho 20 hộ nghèo", households=20, field=AS),
    Row("tặng quà 20 hộ, 300k/suất", households=20, field=AS),
    Row("ủng hộ 500k, đ/c Bình ủng hộ 300k", who=(BINH,)),  # two amounts: whose? which total?
    Row("ủng hộ 5000 tỷ xây trường", field=None),
    # Not money: dates, counts, hamlets, phone numbers, metres.
    Row("Làm 50m đường bê tông thôn 3", field=KT),
    Row("lam 50m duong be tong thon 3", field=KT),
    Row("Liên hệ 0912345678 để nhận gạo hỗ trợ", field=AS),
    Row("gọi 0912.345.678 báo công an xã có trộm cắp", field=QP),
    Row("Trồng rừng keo 2.5 ha ở đồi Pá Chà", place="đồi Pá Chà", field=MT),
    Row("trong rung keo 2.5 ha o doi Pa Cha", place="doi Pa Cha", field=MT),
    # --- people and households: helped, not taking part ----------------------------------------
    Row("30 người tham gia dọn rác ở bản Pá Khoang", place="bản Pá Khoang", field=MT),
    Row("30 nguoi tham gia don rac o ban Pa Khoang", place="ban Pa Khoang", field=MT),
    Row("Cùng 4 người khơi thông cống rãnh đầu bản", field=MT),
    Row("cung 4 nguoi khoi thong cong ranh dau ban", field=MT),
    Row("Họp 20 đảng viên chi bộ bàn kết nạp đảng viên mới", field=XD),
    Row("Dạy 15 em học sinh lớp 3 đọc thông viết thạo", people=15, field=XH),
    Row("day 15 em hoc sinh lop 3 doc thong viet thao", people=15, field=XH),
    Row("Tặng quà cho 12 cháu mồ côi", people=12, field=AS),
    Row("tang qua cho 12 chau mo coi", people=12, field=AS),
    Row("Thăm hỏi, tặng quà 8 gia đình chính sách", households=8, field=AS),
    Row("tham hoi, tang qua 8 gia dinh chinh sach", households=8, field=AS),
    Row("Trao 50 chăn ấm cho 50 hộ nghèo", households=50, field=AS),
    Row("trao 50 chan am cho 50 ho ngheo", households=50, field=AS),
    Row("Khám cho 60 bệnh nhân tại trạm y tế", people=60, place="trạm y tế", field=XH),
    Row("kham cho 60 benh nhan tai tram y te", people=60, place="tram y te", field=XH),
    Row("Cấp phát 20 bao gạo cho 20 hộ gia đình", households=20, field=AS),
    Row("cap phat gao cho 1.200 nguoi dan vung lu", people=1200, field=AS),
    Row("Giúp 3 cụ già neo đơn gặt lúa", people=3, field=AS),
    Row("giup 3 cu gia neo don gat lua", people=3, field=AS),
    Row("Hỗ trợ 2 hộ và 7 người dân khắc phục sạt lở", households=2, people=7),
    Row("Huy động 30 người giúp 2 hộ dựng lại nhà", households=2),
    Row("giúp 5 hộ, 30 người tham gia", households=5),
    Row("giúp đỡ 15 hộ cận nghèo vay vốn sản xuất", households=15),  # a tie: An sinh or Kinh tế
    Row("giup do 15 ho can ngheo vay von san xuat", households=15, field=KT, previous=KT),
    Row("Tăng 5 hộ thoát nghèo trong năm", field=AS),  # increased, not gave
    Row("Phát triển 4 hộ chăn nuôi lợn", field=KT),  # developed, not handed out
    Row("giúp 200.000 hộ", households=None),  # more than a commune has
    Row("Sửa nhà cho 1 hộ neo đơn ở xóm Cốc Lếch", households=1, place="xóm Cốc Lếch",
        field=AS),
    Row("dạy chữ cho 12 phụ nữ người Mông", people=12, field=XH),
    Row("thăm 5 bà con bị ốm", people=5),
    Row("tặng 10 suất quà cho trẻ em nghèo", field=AS),  # ten gifts, not ten children
    Row("hỗ trợ 3 hộ 1,5 triệu", households=3, value=1_500_000),
    # --- places --------------------------------------------------------------------------------
    Row("Dọn vệ sinh tại nhà văn hóa thôn Nà Lầm cùng chi đoàn", place="nhà văn hóa thôn Nà Lầm",
        field=MT),
    Row("don ve sinh tai nha van hoa thon Na Lam cung chi doan", place="nha van hoa thon Na Lam",
        field=MT),
    Row("Tuyên truyền an toàn giao thông ở trường THCS xã", place="trường THCS xã", field=XD),
    Row("tuyen truyen an toan giao thong o truong THCS xa", place="truong THCS xa", field=XD),
    Row("Họp dân tại UBND xã về hương ước", place="UBND xã", field=None),  # a tie
    Row("hop dan tai UBND xa ve huong uoc", place="UBND xa", field=VH, previous=VH),
    Row("Dọn rác ở chợ phiên Bản Hồ sáng chủ nhật", date=SUNDAY, place="chợ phiên Bản Hồ",
        field=MT),
    Row("don rac o cho phien Ban Ho sang chu nhat", date=SUNDAY, place="cho phien Ban Ho",
        field=MT),
    Row("Trồng cây ở đình làng Phìn Hồ", place="đình làng Phìn Hồ", field=MT),
    Row("Tổ chức văn nghệ ở Bản Mòng", place="Bản Mòng", field=VH),
    Row("to chuc van nghe o Ban Mong", place="Ban Mong", field=VH),
    Row("o thon 2 giup 2 ho dung chuong trai", place="thon 2", households=2, field=MT),
    Row("Tuần tra tại khu vực cột mốc 135", place="khu vực cột mốc 135", field=QP),
    # "o"/"tai" without marks may be other words: a place must follow.
    Row("cho bo o day ca ngay", field=None),
    Row("giup bac o lai dung nha", field=None),
    Row("tai nan giao thong, dua nguoi di vien", field=None),
    # --- models --------------------------------------------------------------------------------
    Row("Thực hiện mô hình Dân vận khéo: vận động 3 hộ hiến đất làm đường", model=DAN_VAN,
        field=KT),
    Row("thuc hien mo hinh dan van kheo: van dong 3 ho hien dat lam duong", model=DAN_VAN,
        field=KT),
    Row("Ra quân Con đường tự quản, dọn cỏ 2km đường liên thôn", model=CON_DUONG, field=None),
    Row("ra quan con duong tu quan, don co 2km duong lien thon", model=CON_DUONG, field=None),
    Row("Mô hình Con đường tự quản: thu gom rác ven đường", model=CON_DUONG, field=MT),
    Row("Góp gạo vào Hũ gạo tình thương của chi hội phụ nữ", model=HU_GAO, field=AS),
    Row("gop gao vao hu gao tinh thuong cua chi hoi phu nu", model=HU_GAO, field=AS),
    Row("Dân vận khéo và Hũ gạo tình thương: tặng gạo cho bà con", field=AS),  # which one?
    # --- co-participants -----------------------------------------------------------------------
    Row("Cùng đ/c Bình và đ/c Páo tuần tra biên giới", who=(BINH, PAO), field=QP),
    Row("cung d/c Binh va d/c Pao tuan tra bien gioi", who=(BINH, PAO), field=QP),
    Row("Cùng với Nguyễn Thị Hoa dạy chữ cho phụ nữ", who=(HOA_NGUYEN,), field=XH),
    Row("cung voi Nguyen Thi Hoa day chu cho phu nu", who=(HOA_NGUYEN,), field=XH),
    Row("Với đồng chí Mai, Dình & Bình trồng cây", who=(MAI, DINH, BINH), field=MT),
    Row("voi dong chi Mai, Dinh & Binh trong cay", who=(MAI, DINH, BINH), field=MT),
    Row("Đ/c Hoàng Thị Hoa cùng tôi thăm 2 hộ", who=(HOA_HOANG,), households=2),
    Row("cùng đ/c Hoa tặng quà", field=AS),  # which Hoa?
    Row("cùng đ/c Lan, đ/c Mai trồng cây", who=(MAI,), field=MT),  # Lan is not in the unit
    Row("cùng Thị Hoa dọn rác", field=MT),  # both Hoas are "Thị Hoa"
    Row("cùng bà con thôn 3 làm đường", field=KT),
    Row("with Binh and Pao patrolled the border", who=(BINH, PAO)),  # keywords are Vietnamese
    # "đ/c" typed "đc", "dc", "đ.c": but "đc"/"dc" alone is "được" too, so only opening a clause.
    Row("Cùng đc Bình và đc Páo tuần tra biên giới", who=(BINH, PAO), field=QP),
    Row("cung dc Binh va dc Pao tuan tra bien gioi", who=(BINH, PAO), field=QP),
    Row("Đc Mai cùng tôi thăm 2 hộ", who=(MAI,), households=2),
    Row("dc Mai cung toi tham 2 ho", who=(MAI,), households=2),
    Row("đ.c Dình cùng tôi trồng cây", who=(DINH,), field=MT),
    Row("d.c Dinh cung toi trong cay", who=(DINH,), field=MT),
    Row("cùng đc Hoa và đc Bình dọn rác", who=(BINH,), field=MT),  # which Hoa?
    Row("cung dc Hoang Thi Hoa va dc Binh don rac", who=(HOA_HOANG, BINH), field=MT),
    Row("Với đ/c Páo, đc Mai trồng cây", who=(PAO, MAI), field=MT),
    Row("em dc Mai giup sua nha", field=AS),  # "được Mai giúp": Mai helped
    Row("hôm qua, đc Dình tuần tra cùng dân quân", date=YESTERDAY, who=(DINH,), field=QP),
    Row("Cũng như mọi năm, Bình tặng quà", field=AS),  # "cũng" is not "cùng"
    # --- fields: the most keywords win; a tie goes to the previous field, if among them -------
    Row("Trồng cây xanh, vệ sinh môi trường khu dân cư", field=MT),
    Row("Tập văn nghệ cho lễ hội xuống đồng", field=VH),
    Row("tap van nghe cho le hoi xuong dong", field=VH),
    Row("Hướng dẫn bà con kỹ thuật chăn nuôi", field=KT),
    Row("huong dan ba con ky thuat chan nuoi", field=KT),
    Row("Vận động thanh niên lên đường nghĩa vụ quân sự", field=QP),
    Row("Sinh hoạt chi bộ, kết nạp 2 đảng viên mới", field=XD),
    Row("Tuần tra và trồng cây", field=None),
    Row("Tuần tra và trồng cây", field=MT, previous=MT),
    Row("Tuần tra và trồng cây", field=None, previous=KT),
    Row("Giúp bà con gặt lúa", field=None),
    Row("Giúp bà con gặt lúa", field=None, previous=KT),
    # --- all at once, as people write after a busy weekend -----------------------------------
    Row("Chiều thứ 7 cùng đ/c Mai, đ/c Dình tặng quà 15 cháu học sinh nghèo tại điểm trường "
        "Phìn Hồ, mỗi cháu 1 bộ quần áo ấm, tổng trị giá 3 triệu", date=SATURDAY,
        value=3_000_000, people=15, place="điểm trường Phìn Hồ", who=(MAI, DINH), field=AS),
    Row("chieu thu 7 cung d/c Mai, d/c Dinh tang qua 15 chau hoc sinh ngheo tai diem truong "
        "Phin Ho, tong tri gia 3 trieu", date=SATURDAY, value=3_000_000, people=15,
        place="diem truong Phin Ho", who=(MAI, DINH), field=AS),
    Row("Hôm qua thực hiện Dân vận khéo, cùng đ/c Páo vận động 4 hộ ở bản Sà Phìn tháo dỡ "
        "chuồng trại dưới gầm sàn", date=YESTERDAY, place="bản Sà Phìn", model=DAN_VAN,
        who=(PAO,), field=MT),
    Row("hom qua thuc hien dan van kheo, cung d/c Pao van dong 4 ho o ban Sa Phin thao do "
        "chuong trai", date=YESTERDAY, place="ban Sa Phin", model=DAN_VAN, who=(PAO,), field=MT),
    Row("Ngày 27/11 trao 10 suất quà Tết cho 10 gia đình chính sách ở xã Lũng Cú, trị giá "
        "5.000.000đ", date=day(27), value=5_000_000, households=10, place="xã Lũng Cú",
        field=AS),
    Row("ngay 27/11 trao 10 suat qua tet cho 10 gia dinh chinh sach o xa Lung Cu, tri gia "
        "5.000.000d", date=day(27), value=5_000_000, households=10, place="xa Lung Cu",
        field=AS),
    Row("Sáng chủ nhật cùng Bình tuần tra an ninh trật tự thôn Nậm Ngặt", date=SUNDAY,
        who=(BINH,), field=QP),
    Row("sang chu nhat cung Binh tuan tra an ninh trat tu thon Nam Ngat", date=SUNDAY,
        who=(BINH,), field=QP),
    Row("Hôm kia giúp 2 hộ gia đình ở xóm Pác Bó thu hoạch thảo quả, ủng hộ 200k", date=day(28),
        value=200_000, households=2, place="xóm Pác Bó", field=KT),
    Row("hom kia giup 2 ho gia dinh o xom Pac Bo thu hoach thao qua, ung ho 200k", date=day(28),
        value=200_000, households=2, place="xom Pac Bo", field=KT),
    Row("Thứ 6 khám bệnh, phát thuốc miễn phí cho 120 người dân bản Khuổi Nặm", date=day(27),
        people=120, field=XH),
    Row("thu 6 kham benh, phat thuoc mien phi cho 120 nguoi dan ban Khuoi Nam", date=day(27),
        people=120, field=XH),
    Row("Ngày 20/11 cùng Giàng A Páo và Vàng Thị Mai dạy 25 em xóa mù chữ ở lớp học tình "
        "thương", date=day(20), people=25, place="lớp học tình thương", who=(PAO, MAI),
        field=XH),
    Row("Chủ nhật tuần trước cùng đ/c Dình khơi thông 300m mương nội đồng ở thôn 6",
        date=SUNDAY, place="thôn 6", who=(DINH,), field=MT),
    Row("Thứ bảy ủng hộ Hũ gạo tình thương 10kg gạo và 500 nghìn đồng", date=SATURDAY,
        value=500_000, model=HU_GAO, field=AS),
    # --- more as typed on phones without Vietnamese input --------------------------------------
    Row("hom qua cung d/c Binh, d/c Pao giup 5 ho ngheo o thon Na Lam sua nha, ho tro 2tr5",
        date=YESTERDAY, value=2_500_000, households=5, place="thon Na Lam", who=(BINH, PAO),
        field=AS),
    Row("sang thu 7 phat quang duong vao ban Pa Khoang", date=SATURDAY, field=MT),
    Row("ngay 25/11 tham hoi 3 gia dinh thuong binh", date=day(25), households=3, field=AS),
    Row("ngay 25 trao 20 suat qua cho 20 ho ngheo", date=day(25), households=20, field=AS),
    Row("T7 don rac suoi Nam Khoa", date=SATURDAY, field=MT),
    Row("sang nay kham benh cho 40 nguoi cao tuoi tai tram y te xa", date=TODAY, people=40,
        place="tram y te xa", field=XH),
    Row("5/1/2026 hien mau tinh nguyen tai hoi truong huyen", date=day(5, 1),
        place="hoi truong huyen", field=XH),
    Row("31/02 day 15 em hoc sinh doc chu tai diem truong Ta Phin", doubtful=True, people=15,
        place="diem truong Ta Phin", field=XH),
    Row("ngay mai se tang qua 10 ho ngheo", doubtful=True, households=10, field=AS),
    Row("hom qua (29/11) thu gom rac thai o cho Ban Lam", date=YESTERDAY, place="cho Ban Lam",
        field=MT),
    Row("gop 2 trieu 500 nghin mua giong ngo cho ba con", value=2_500_000),
    Row("gop 1tr2 xay nha dai doan ket", value=1_200_000, field=AS),
    Row("tang 20 suat qua, moi suat 500k, cho 20 ho ngheo", households=20, field=AS),
    Row("ung ho 500k, d/c Binh ung ho 300k", who=(BINH,)),
    Row("goi 0912.345.678 bao cong an xa co trom cap", field=QP),
    Row("hop 20 dang vien chi bo ban ket nap dang vien moi", field=XD),
    Row("huy dong 30 nguoi giup 2 ho dung lai nha", households=2),
    Row("tang 5 ho thoat ngheo trong nam", households=5, field=AS),  # no marks: "tặng" it may be
    Row("sua nha cho 1 ho neo don o xom Coc Lech", households=1, place="xom Coc Lech",
        field=AS),
    Row("tuan tra tai khu vuc cot moc 135", place="khu vuc cot moc 135", field=QP),
    Row("mo hinh con duong tu quan: thu gom rac ven duong", model=CON_DUONG, field=MT),
    Row("cung d/c Hoa tang qua", field=AS),
    Row("cung d/c Lan, d/c Mai trong cay", who=(MAI,), field=MT),
    Row("trong cay xanh, ve sinh moi truong khu dan cu", field=MT),
    Row("van dong thanh nien len duong nghia vu quan su", field=QP),
    Row("thu 7 ung ho hu gao tinh thuong 10kg gao va 500 nghin dong", date=SATURDAY,
        value=500_000, model=HU_GAO, field=AS),
    Row("chu nhat tuan truoc cung d/c Dinh khoi thong 300m muong noi dong o thon 6",
        date=SUNDAY, place="thon 6", who=(DINH,), field=MT),
    # --- nothing to read, but still a report -----------------------------------------------------
    Row("Đọc báo cho bà con nghe về chính sách mới"),
    Row("doc bao cho ba con nghe ve chinh sach moi"),
    Row("Nhắc nhở con cháu không đốt nương làm rẫy bừa bãi"),
    Row("<b>Giúp</b> hàng xóm '; DROP TABLE reports;-- sửa mái"),
    Row("   Dọn\tcỏ   quanh   \n  nghĩa trang liệt sĩ  "),
]


@pytest.fixture(scope="module")
def keywords() -> dict[str, list[str]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LANTOA_CONFIG", str(REPO_CONFIG))
        return load_settings().report.keywords


def read(text: str, keywords: dict[str, list[str]], previous: str | None = None) -> QuickReading:
    return read_quick_report(text, today=TODAY, max_age_days=MAX_AGE, keywords=keywords,
                             models=MODELS, members=MEMBERS, previous_field=previous)


def test_there_are_enough_rows_and_half_are_typed_without_marks() -> None:
    assert len(ROWS) >= 150
    plain = sum(row.text.isascii() for row in ROWS)
    assert len(ROWS) * 0.4 <= plain <= len(ROWS) * 0.6, plain


@pytest.mark.parametrize("row", ROWS, ids=[row.text[:40] for row in ROWS])
def test_what_one_message_says_is_read(row: Row, keywords: dict[str, list[str]]) -> None:
    assert read(row.text, keywords, row.previous) == row.expected()


@pytest.mark.parametrize("text", [
    "chào đồng chí", "Chào đồng chí!", "xin chào", "xin chào các đồng chí", "hello", "hi",
    "alo alo", "cảm ơn", "cam on", "cảm ơn đồng chí nhiều ạ", "cám ơn", "thanks", "thank you",
    "ok", "OK ạ", "oke", "vâng ạ", "vang a", "dạ", "dạ vâng ạ", "ừ", "👍", "👍👍", "🙏🙏🙏",
    "...", "???", "", "   ", "giúp 5 hộ", "trồng cây", "Ok đồng chí, cảm ơn ạ",
    # Chat, with no deed told in it.
    "ok đã nhận được rồi ạ", "ok da nhan duoc roi a", "Chúc mừng ngày nhà giáo Việt Nam 20/11",
    "chúc mừng năm mới", "chuc mung nam moi ca nha", "dạ em nhận được rồi ạ",
    "vâng em cảm ơn anh ạ", "đồng chí ơi cho em hỏi", "dong chi oi cho em hoi chut",
    "Chúc đồng chí mạnh khỏe, công tác tốt", "em xin phép vắng họp chi bộ hôm nay",
    "đồng chí ơi hôm qua em gửi báo cáo chưa ạ?", "Xin lỗi đồng chí, em gửi nhầm",
])
def test_what_is_not_a_deed(text: str) -> None:
    assert not looks_like_report(text, 10)


@pytest.mark.parametrize("text", [
    "Hôm qua giúp 5 hộ nghèo sửa nhà", "sang thu 7 don ve sinh nha van hoa thon 3",
    "Chào đồng chí, hôm qua tôi trồng cây ở đồi", "cam on d/c, hom nay tuan tra bien gioi",
    "yesterday helped 3 families", "Dạy 15 em học sinh đọc",
    # Words of chat in a deed told.
    "Nhận đỡ đầu 2 cháu mồ côi", "Chúc Tết 10 hộ nghèo, tặng quà",
    "chuc tet cac gia dinh chinh sach trong thon", "Chúc thọ 5 cụ cao tuổi",
    "5 hộ nghèo nhận được gạo cứu trợ", "Nhân ngày Nhà giáo, tặng quà 20 thầy cô",
    "Hôm qua giúp 5 hộ sửa nhà, tính vào lĩnh vực nào ạ?", "chi hoi phu nu hop ban ke hoach",
    "Chúc mừng năm mới, hôm qua trao 10 suất quà", "cho ba con 10kg gao",
])
def test_what_is_a_deed(text: str) -> None:
    assert looks_like_report(text, 10)


def test_the_minimum_length_counts_letters() -> None:
    assert looks_like_report("trồng 5 cây", 8)
    assert not looks_like_report("trồng 5 cây", 9)


def test_a_date_outside_the_window_is_doubtful(keywords: dict[str, list[str]]) -> None:
    reading = read_quick_report("hôm kia trồng cây", today=TODAY, max_age_days=1,
                                keywords=keywords, models=(), members=(), previous_field=None)
    assert reading.deed_date is None and reading.date_doubtful
