"""Where in the managers' console a person can fix what chat replies and notices point out, in one wording.

Chat replies, scheduled pushes and notices all tell people what to do next; they name the console's menus
as the secretary sees them, never a command line or a plan-file section.
"""

from __future__ import annotations

from ita_bot.domain.thai import ARABIC, ThaiFormat

__all__ = ["ADD_MILESTONES", "CONSOLE", "make_plan", "tell_secretary"]

#: How a manager reaches the console from LINE.
CONSOLE = "หน้าจัดการ (พิมพ์ /จัดการ ในแชตส่วนตัวกับบอทเพื่อรับลิงก์)"
#: Adding the assessment calendar's dates.
ADD_MILESTONES = f"เพิ่มกำหนดการได้ที่{CONSOLE} เมนู “แผนมาตรการ” ส่วน “ปฏิทินการประเมิน”"


def make_plan(fiscal_year: int, fmt: ThaiFormat = ARABIC) -> str:
    """What a manager does about a year without a plan."""
    return (f"เลขานุการจัดทำแผนปีงบประมาณ {fmt.num(fiscal_year)} ได้ที่{CONSOLE} "
            "เมนู “ร่างแผนปีถัดไป” ระบบจะคัดลอกจากแผนปีก่อนให้ ตรวจแก้แล้วกดบันทึก")


def tell_secretary(fiscal_year: int, fmt: ThaiFormat = ARABIC) -> str:
    """What staff and committee members do about a year without a plan."""
    return f"กรุณาแจ้งเลขานุการให้จัดทำแผนของปีงบประมาณ {fmt.num(fiscal_year)}"
