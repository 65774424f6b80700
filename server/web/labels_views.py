"""Labels of the gaps, trends and partner's-own pages and of the printed partner report,
in Persian and English: key -> (fa, en). Kept apart from `labels.py` (which merges them
in) so the pages can grow without every helper editing one file."""

from __future__ import annotations

VIEW_LABELS: dict[str, tuple[str, str]] = {
    # navigation
    "nav_gaps": ("خلأها", "Gaps"),
    "nav_trends": ("روندها", "Trends"),
    # shareable views
    "many_hint": (
        "برای چند انتخاب، Ctrl (یا ⌘) را نگه دارید؛ بی‌انتخاب یعنی همه. نشانی صفحه همین"
        " نما را نگه می‌دارد و می‌توان آن را فرستاد.",
        "Hold Ctrl (or ⌘) to choose several; none chosen means all. The page's address"
        " keeps this view: send it to share it.",
    ),
    "view_narrowed": ("این نما محدود شده است به", "This view is narrowed to"),
    # gaps
    "gaps_note": (
        "هر خانه: شمار شرکایی که در آن محل و بخش خدمت داده‌اند و شمار دریافت‌کنندگان خدمت."
        " خانهٔ خالی یک خلأ است: هیچ شریکی در آن دوره آنجا در آن بخش کاری گزارش نکرده است.",
        "Each cell: how many partners delivered in that site and sector, and how many"
        " beneficiary contacts they reached. An empty cell is a gap: no partner reported"
        " work there in that sector in the period.",
    ),
    "gaps_heading": ("محل × بخش", "Site × sector"),
    "gap": ("خلأ", "gap"),
    "gaps_count": ("شمار خلأها", "Gaps"),
    "partners_short": ("شریک", "partners"),
    "beneficiaries_short": ("نفر", "reached"),
    "gaps_all_time": ("همهٔ دوره‌ها", "all time"),
    # trends
    "trends_note": (
        "دریافت‌کنندگان خدمت در هر ماه (یک خدمت در ماهی شمرده می‌شود که دوره‌اش در آن"
        " پایان می‌یابد). بی‌ماه انتخاب‌شده: دوازده ماه تا ماه جاری.",
        "Beneficiary contacts in each month (a delivery counts in the month its period"
        " ends). Without months chosen: the twelve months up to this one.",
    ),
    "trend_by_sector": (
        "دریافت‌کنندگان خدمت در هر ماه، به تفکیک بخش",
        "Beneficiaries by month, by sector",
    ),
    "trend_by_site": (
        "دریافت‌کنندگان خدمت در هر ماه، به تفکیک محل",
        "Beneficiaries by month, by site",
    ),
    "trend_by_partner": (
        "دریافت‌کنندگان خدمت در هر ماه، به تفکیک شریک",
        "Beneficiaries by month, by partner",
    ),
    "trend_money": (
        "مبلغ وعده، مبلغ قطعی‌شده و پرداخت‌شده، به تفکیک شریک و ارز",
        "Pledged, committed and disbursed, by partner and currency",
    ),
    "trend_money_note": (
        "وعده‌هایی که دوره‌شان با ماه‌های انتخاب‌شده هم‌پوشانی دارد، بی لغوشده‌ها؛ هر ارز جدا، بی تبدیل.",
        "Pledges whose period overlaps the months chosen, cancelled ones left out; each"
        " currency apart, never converted.",
    ),
    "others": ("سایر", "Others"),
    "chart_values": ("ارقام نمودار", "The chart's values"),
    "in_currency": ("به", "in"),
    # a partner's own view
    "own_heading": ("کارنامه و ارقام شما", "Your record and figures"),
    "own_note": (
        "این نمای کلی فقط ارقام سازمان شماست. ارقام همهٔ شرکا در صفحهٔ «چه کسی، چه کاری، کجا» است.",
        "This overview shows your organisation's figures only. Every partner's figures"
        " are on the shared who-does-what-where page.",
    ),
    "own_shared": ("چه کسی، چه کاری، کجا (همهٔ شرکا)", "Who does what where (every partner)"),
    "own_record": ("کارنامهٔ کامل ما", "Our full record"),
    # the printed partner report
    "report_title": ("گزارش کارنامهٔ شریک", "Partner report"),
    "issued_by": ("صادرکننده", "Issued by"),
    "issued_on": ("تاریخ صدور", "Issued on"),
    "report_period": ("دورهٔ گزارش", "Reporting period"),
    "period_all": ("از آغاز تا", "From the start to"),
    "period_to": ("تا", "to"),
    "month_subtotal": ("جمع ماه", "Month total"),
    "grand_total": ("جمع کل دوره", "Total for the period"),
    "report_chart": ("دریافت‌کنندگان خدمت در هر ماه", "Beneficiaries by month"),
}
