"""What the demo merchant is made of: stores, program, staff, catalogue, member flavour."""

from __future__ import annotations

from patron.tenancy.models import Role

DEMO_SLUG = "demo"
DEMO_PASSWORD = "patron-demo"
STORES = [
    {"code": "S1", "name": "西湖店", "address": "杭州市西湖区北山街 1 号"},
    {"code": "S2", "name": "滨江店", "address": "杭州市滨江区江南大道 88 号"},
    {"code": "S3", "name": "城西店", "address": "杭州市西湖区文二西路 66 号"},
]
CATEGORIES = ["rooms", "dishes", "drinks", "retail"]
DEMO_PROGRAM = {
    "stores": STORES,
    "categories": CATEGORIES,
    "points": {
        # 1 point per yuan paid; 100 points take 1 yuan off (value in fen): a member who
        # spends 1,000 yuan can take 10 yuan off a later bill.
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "topup_bonus": [  # top up 100 get 10, 500 get 60, 1000 get 150
        {"min": 10000, "bonus": 1000},
        {"min": 50000, "bonus": 6000},
        {"min": 100000, "bonus": 15000},
    ],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {
            "code": "silver",
            "name": "银卡会员",
            "rank": 1,
            "discount": {"rooms": 88},
            "upgrade_when": {"spend_12m": 100000},
            "keep_when": {"spend_12m": 50000},
            "privileges": ["延迟退房至 13:00"],
        },
        {
            "code": "gold",
            "name": "金卡会员",
            "rank": 2,
            "discount": {"rooms": 80, "dishes": 90},
            "points_multiplier": 1.5,
            "upgrade_when": {"spend_12m": 500000, "single_topup": 100000},
            "keep_when": {"spend_12m": 200000},
            "birthday_gift": {"points": 500},
            "privileges": ["延迟退房至 14:00", "免费早餐"],
        },
    ],
    # The card the demo sells at the counter (fee waived by a top-up of 500) and a paid
    # annual SVIP (docs/memberships.md).
    "card_products": [
        {
            "code": "std",
            "name": "会员卡",
            "fee": 3800,
            "tier": "normal",
            "physical": True,
            "face_colour": "#1F6FEB",
            "fee_waived_by_topup": 50000,
            "replace_fee": 1000,
        },
        {
            "code": "svip",
            "name": "年卡SVIP",
            "fee": 19900,
            "tier": "gold",
            "paid_days": 365,
            "face_colour": "#8A6D3B",
        },
    ],
    "promotions": [
        {
            "code": "tuesday",
            "name": "周二会员日",
            "kind": "automatic",
            "members_only": True,
            "condition": {"weekdays": [2]},
            "benefit": {"type": "percent", "value": 10},
            "priority": 10,
        },
        {
            "code": "drinks3for2",
            "name": "饮品买二送一",
            "kind": "automatic",
            "condition": {"categories": ["drinks"]},
            "benefit": {"type": "free_items", "buy": 2, "get": 1, "categories": ["drinks"]},
            "priority": 20,
        },
        {
            "code": "WELCOME20",
            "name": "新客满 200 减 20",
            "kind": "code",
            "condition": {"min_amount": 20000, "first_purchase": True},
            "benefit": {"type": "fixed", "value": 2000},
            "stacking": "exclusive",
            "priority": 30,
        },
        {
            "code": "gold_points",
            "name": "金卡双倍积分",
            "kind": "automatic",
            "condition": {"tiers": ["gold"]},
            "benefit": {"type": "points_multiplier", "value": 2},
            "priority": 90,
        },
    ],
    "coupon_templates": [
        {
            "code": "room_night",
            "name": "免费房券",
            "benefit": {"type": "free_items", "skus": ["ROOM-STD"], "quantity": 1},
            "valid_days": 90,
            "per_member_limit": 1,
        },
        {
            "code": "dish50",
            "name": "餐饮满 200 减 50",
            "benefit": {"type": "fixed", "value": 5000, "categories": ["dishes"]},
            "condition": {"min_amount": 20000},
            "valid_days": 30,
            "per_member_limit": 3,
            "stock": 5000,
        },
        {
            "code": "tea_gift",
            "name": "生日赠茶",
            "benefit": {"type": "gift", "sku": "TEA-LONGJING"},
            "valid_days": 30,
        },
    ],
}
# (username, role, store code, full name)
STAFF = [
    ("hq", Role.HQ_ADMIN, None, "总部管理员"),
    ("marketer", Role.MARKETER, None, "市场专员"),
    ("s1.manager", Role.STORE_MANAGER, "S1", "西湖店长"),
    ("s1.cashier", Role.CASHIER, "S1", "西湖收银"),
    ("s2.manager", Role.STORE_MANAGER, "S2", "滨江店长"),
    ("s2.cashier", Role.CASHIER, "S2", "滨江收银"),
    ("s3.manager", Role.STORE_MANAGER, "S3", "城西店长"),
    ("s3.cashier", Role.CASHIER, "S3", "城西收银"),
]
# The partner café of the alliance (patron/demo/network.py).
CAFE_SLUG = "demo-cafe"
CAFE_NAME = "湖畔咖啡"
CAFE_PROGRAM = {
    "stores": [{"code": "C1", "name": "湖畔咖啡北山街店", "address": "杭州市西湖区北山街 9 号"}],
    "categories": ["drinks", "bakery"],
    # The hotel's points, kept for good (a café's points do not expire).
    "points": {**DEMO_PROGRAM["points"], "expiry": {"policy": "never"}},
}
# (username, role, store code, full name)
CAFE_STAFF = [
    ("cafe", Role.HQ_ADMIN, None, "咖啡馆店主"),
    ("cafe.cashier", Role.CASHIER, "C1", "咖啡馆收银"),
]
TAGS = ["商务", "亲子", "美食家", "高频", "价格敏感", "VIP候选", "外地游客"]
OCCUPATIONS = ["教师", "工程师", "医生", "设计师", "销售", "公务员", "自由职业", "学生", "企业主"]

# (sku, name, category, unit price in fen, brand)
CATALOGUE = [
    ("ROOM-STD", "湖景标准间", "rooms", 32000, "湖畔"),
    ("ROOM-DLX", "湖景豪华间", "rooms", 52000, "湖畔"),
    ("DISH-FISH", "西湖醋鱼", "dishes", 6800, ""),
    ("DISH-PORK", "东坡肉", "dishes", 5800, ""),
    ("DISH-SHRIMP", "龙井虾仁", "dishes", 8800, ""),
    ("TEA-LONGJING", "明前龙井", "drinks", 3800, "狮峰"),
    ("BEER-LOCAL", "西湖啤酒", "drinks", 1500, "西湖"),
    ("GIFT-TEA", "龙井礼盒", "retail", 16800, "狮峰"),
]
# The demo's payment PIN, easy to type when trying the PIN flow. One digit repeated is refused
# when a member or cashier sets a PIN (API.md §7); only the demo's seeding may set it
# (sales.services.set_pin's `allow_one_digit_repeated`). Given to DEMO_PIN_MEMBERS members
# with stored value, printed with the logins.
DEMO_PIN = "888888"
DEMO_PIN_MEMBERS = 3
# Members holding a paid 年卡SVIP, bought this many days ago (one about to run out); all
# before the sales rung up through the checkout (history.CHECKOUT_DAYS), which price them gold.
DEMO_SVIP_BOUGHT_DAYS_AGO = [40, 75, 160, 240, 358]
# Stored-value payments above this (fen) ask for the PIN; the PIN members hold more than it.
PIN_REQUIRED_ABOVE = 50000

# When the demo's sales happen (local time): hotel rooms and the shop sell at any hour, the
# restaurant (dishes, drinks) serves lunch and dinner only. A basket with anything from the
# restaurant is sold in its hours.
RESTAURANT_CATEGORIES = frozenset({"dishes", "drinks"})
RESTAURANT_HOURS = [((10, 30), (14, 0)), ((17, 0), (21, 30))]

# Where the members live: provinces and cities that belong together. Most are local (a
# Hangzhou chain), the rest come from the provinces that send the most visitors.
REGIONS = {
    "浙江省": ["杭州市", "宁波市", "温州市", "绍兴市", "嘉兴市", "湖州市", "金华市", "台州市"],
    "江苏省": ["南京市", "苏州市", "无锡市", "常州市", "南通市", "扬州市"],
    "上海市": ["上海市"],
    "北京市": ["北京市"],
    "安徽省": ["合肥市", "芜湖市", "黄山市"],
    "江西省": ["南昌市", "上饶市"],
    "福建省": ["福州市", "厦门市", "泉州市"],
    "广东省": ["广州市", "深圳市", "佛山市", "东莞市"],
    "山东省": ["济南市", "青岛市", "烟台市"],
    "四川省": ["成都市", "绵阳市"],
    "湖北省": ["武汉市", "宜昌市"],
    "河南省": ["郑州市", "洛阳市"],
}
# How likely each province is (the rest share what is left evenly).
REGION_WEIGHTS = {"浙江省": 60, "江苏省": 10, "上海市": 10}

# The activities (docs/activities.md), applied after the year of sales (seed_activities) so
# the history is not priced by today's flash offer. The flash offer keeps the program's other
# promotions: a section applied is the whole section.
FLASH_OFFER = {
    "code": "flash_gift_tea",
    "name": "龙井礼盒限量特价",
    "kind": "automatic",
    "benefit": {"type": "fixed_price", "value": 9900, "skus": ["GIFT-TEA"]},
    "limits": {"total": 100, "per_member": 1},
    "priority": 5,
}
DEMO_ACTIVITIES = {
    "promotions": [*DEMO_PROGRAM["promotions"], FLASH_OFFER],
    "rewards": [
        {
            "code": "dish50",
            "name": "餐饮满 200 减 50 券",
            "points": 800,
            "kind": "coupon",
            "coupon": "dish50",
            "stock": 200,
            "per_member": 2,
        },
        {
            "code": "gift_tea",
            "name": "龙井礼盒",
            "points": 1000,
            "cash": 5800,
            "kind": "goods",
            "stock": 30,
            "per_member": 1,
            "description": "狮峰明前龙井 250 克，到店领取时付 58 元",
        },
    ],
    "lotteries": [
        {
            "code": "wheel",
            "name": "幸运转盘",
            "cost_points": 50,
            "daily_limit": 3,
            "budget": 300000,
            "prizes": [
                {"code": "p500", "kind": "points", "points": 500, "value": 500, "odds": 5},
                {"code": "dish50", "kind": "coupon", "coupon": "dish50", "value": 5000, "odds": 2},
                {"code": "p20", "kind": "points", "points": 20, "value": 20, "odds": 30},
                {"code": "none", "kind": "none", "odds": 63},
            ],
        }
    ],
    "checkin": {
        "points": 5,
        "streaks": [{"days": 7, "points": 20, "makeup_cards": 1}, {"days": 30, "points": 100}],
        "makeup_cards": {"window_days": 7},
    },
    "referral": {"referrer_points": 300, "referee_coupon": "dish50", "monthly_cap": 10},
    # The hotel's staff incentives (API.md §12): 8 yuan a card, 8 yuan per whole 500 yuan of a
    # top-up, 30 yuan for 3 members recruited in a month, 80 for 6.
    "commissions": {
        "per_card": 800,
        "per_topup": {"every": 50000, "amount": 800},
        "ladder": [{"members": 3, "bonus": 3000}, {"members": 6, "bonus": 8000}],
    },
}
# (code, name, days from now, hour, place, store code, capacity, tiers, description)
DEMO_EVENTS = [
    (
        "tea_tasting",
        "明前龙井品鉴会",
        5,
        15,
        "西湖店二楼茶室",
        "S1",
        20,
        [],
        "茶艺师现场冲泡三款明前龙井。",
    ),
    (
        "gold_dinner",
        "金卡会员答谢晚宴",
        12,
        18,
        "滨江店宴会厅",
        "S2",
        30,
        ["gold"],
        "主厨定制杭帮菜晚宴。",
    ),
]
