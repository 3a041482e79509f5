"""The demo chain's catalogue (杭州湖畔酒店餐饮连锁): rooms, dishes, drinks and retail.

Every SKU the demo's sales use (`data.CATALOGUE`) and its coupon templates name (ROOM-STD,
TEA-LONGJING) is here at the same price, so the demo's sales come out as before and the till
finds each of them by SKU or by barcode. Barcodes are EAN-13 under a made-up company prefix in
China's range (69…), item number in catalogue order, with their check digit.
"""

from __future__ import annotations

from patron.catalogue.barcodes import with_check_digit
from patron.catalogue.services import put_product
from patron.program.services import apply_program
from patron.tenancy.actor import Actor

COMPANY_PREFIX = "6970218"  # 7 digits: 5 are left for the item number
CATEGORIES = [
    {"code": "rooms", "name": "客房"},
    {"code": "dishes", "name": "餐饮"},
    {"code": "drinks", "name": "酒水饮品"},
    {"code": "retail", "name": "零售商品"},
]

# (sku, name, category, price in fen, brand, size, colour)
PRODUCTS: list[tuple[str, str, str, int, str, str, str]] = [
    # 客房 (a night, or what goes with one)
    ("ROOM-STD", "湖景标准间", "rooms", 32000, "湖畔", "28㎡", ""),
    ("ROOM-DLX", "湖景豪华间", "rooms", 52000, "湖畔", "38㎡", ""),
    ("ROOM-TWN", "园景双床房", "rooms", 36000, "湖畔", "30㎡", ""),
    ("ROOM-KNG", "园景大床房", "rooms", 38000, "湖畔", "30㎡", ""),
    ("ROOM-FAM", "亲子家庭房", "rooms", 58000, "湖畔", "45㎡", ""),
    ("ROOM-STE", "湖景套房", "rooms", 98000, "湖畔", "68㎡", ""),
    ("ROOM-EXEC", "行政套房", "rooms", 128000, "湖畔", "80㎡", ""),
    ("ROOM-HOUR", "钟点房（4 小时）", "rooms", 16800, "湖畔", "28㎡", ""),
    ("ROOM-XBED", "加床", "rooms", 15000, "湖畔", "", ""),
    ("ROOM-LATE", "延迟退房至 16:00", "rooms", 10000, "湖畔", "", ""),
    ("ROOM-PARK", "停车（每晚）", "rooms", 3000, "湖畔", "", ""),
    ("ROOM-LAUNDRY", "洗衣服务（每件）", "rooms", 2500, "湖畔", "", ""),
    # 餐饮 (a dish or a set)
    ("DISH-FISH", "西湖醋鱼", "dishes", 6800, "", "例", ""),
    ("DISH-PORK", "东坡肉", "dishes", 5800, "", "例", ""),
    ("DISH-SHRIMP", "龙井虾仁", "dishes", 8800, "", "例", ""),
    ("DISH-CHICKEN", "叫花鸡", "dishes", 9800, "", "只", ""),
    ("DISH-SOUP", "宋嫂鱼羹", "dishes", 3800, "", "例", ""),
    ("DISH-BAMBOO", "油焖春笋", "dishes", 3200, "", "例", ""),
    ("DISH-NOODLE", "片儿川", "dishes", 2800, "", "碗", ""),
    ("DISH-ROLL", "葱包桧", "dishes", 1200, "", "份", ""),
    ("DISH-CHUNCAI", "西湖莼菜汤", "dishes", 3600, "", "例", ""),
    ("DISH-XIANGLING", "干炸响铃", "dishes", 3800, "", "例", ""),
    ("DISH-HAM", "蜜汁火方", "dishes", 6800, "", "例", ""),
    ("DISH-VEG", "清炒时蔬", "dishes", 2200, "", "例", ""),
    ("DISH-BQJ", "白切鸡", "dishes", 4800, "", "半只", ""),
    ("DISH-TCLJ", "糖醋里脊", "dishes", 4200, "", "例", ""),
    ("DISH-GBJD", "宫保鸡丁", "dishes", 3800, "", "例", ""),
    ("DISH-MPDF", "麻婆豆腐", "dishes", 2600, "", "例", ""),
    ("DISH-FQCD", "番茄炒蛋", "dishes", 2400, "", "例", ""),
    ("DISH-XLB", "鲜肉小笼包", "dishes", 2800, "", "8 只", ""),
    ("DISH-MED", "猫耳朵", "dishes", 2600, "", "碗", ""),
    ("DISH-DSG", "定胜糕", "dishes", 1800, "", "4 块", ""),
    ("DISH-RICE", "米饭", "dishes", 300, "", "碗", ""),
    ("DISH-FRIED-RICE", "扬州炒饭", "dishes", 2800, "", "份", ""),
    ("DISH-SLT", "酸辣汤", "dishes", 2200, "", "例", ""),
    ("DISH-BROC", "蒜蓉西兰花", "dishes", 2600, "", "例", ""),
    ("DISH-SZT", "红烧狮子头", "dishes", 4800, "", "2 只", ""),
    ("DISH-DUCK", "笋干老鸭煲", "dishes", 12800, "", "锅", ""),
    ("DISH-BREAKFAST", "杭帮早餐", "dishes", 6800, "", "位", ""),
    ("DISH-LUNCH", "商务午餐套餐", "dishes", 8800, "", "位", ""),
    ("DISH-KIDS", "儿童套餐", "dishes", 4800, "", "份", ""),
    ("DISH-FRUIT", "时令水果拼盘", "dishes", 3800, "", "份", ""),
    # 酒水饮品
    ("TEA-LONGJING", "明前龙井", "drinks", 3800, "狮峰", "壶", ""),
    ("TEA-BILUOCHUN", "碧螺春", "drinks", 3800, "", "壶", ""),
    ("TEA-JUHUA", "杭白菊", "drinks", 2800, "", "壶", ""),
    ("TEA-PUER", "熟普洱", "drinks", 4800, "", "壶", ""),
    ("BEER-LOCAL", "西湖啤酒", "drinks", 1500, "西湖", "330ml", ""),
    ("BEER-TSINGTAO", "青岛啤酒经典", "drinks", 1200, "青岛啤酒", "500ml", ""),
    ("BEER-XUEHUA", "雪花纯生", "drinks", 1200, "雪花", "500ml", ""),
    ("WINE-HUADIAO", "古越龙山花雕酒", "drinks", 6800, "古越龙山", "500ml", ""),
    ("WINE-GREATWALL", "长城干红葡萄酒", "drinks", 16800, "长城", "750ml", ""),
    ("BAIJIU-WLY", "五粮液", "drinks", 138000, "五粮液", "500ml", ""),
    ("BAIJIU-MOUTAI", "飞天茅台", "drinks", 299900, "茅台", "500ml", ""),
    ("DRINK-COKE", "可口可乐", "drinks", 600, "可口可乐", "330ml", ""),
    ("DRINK-SPRITE", "雪碧", "drinks", 600, "可口可乐", "330ml", ""),
    ("DRINK-WATER", "农夫山泉饮用天然水", "drinks", 300, "农夫山泉", "550ml", ""),
    ("DRINK-PERRIER", "巴黎水气泡水", "drinks", 1800, "Perrier", "330ml", ""),
    ("DRINK-WLJ", "王老吉凉茶", "drinks", 600, "王老吉", "310ml", ""),
    ("DRINK-VITA", "维他柠檬茶", "drinks", 500, "维他", "250ml", ""),
    ("DRINK-MILK", "纯牛奶", "drinks", 600, "蒙牛", "250ml", ""),
    ("DRINK-YAKULT", "养乐多", "drinks", 300, "养乐多", "100ml", ""),
    ("DRINK-OJ", "鲜榨橙汁", "drinks", 2800, "", "杯", ""),
    ("DRINK-WATERMELON", "鲜榨西瓜汁", "drinks", 2600, "", "杯", ""),
    ("DRINK-SOY", "现磨豆浆", "drinks", 800, "", "杯", ""),
    ("COFFEE-AMERICANO", "美式咖啡", "drinks", 2800, "", "中杯", ""),
    ("COFFEE-LATTE", "拿铁", "drinks", 3200, "", "中杯", ""),
    # 零售商品
    ("GIFT-TEA", "龙井礼盒", "retail", 16800, "狮峰", "250g", ""),
    ("GIFT-TEA-CAN", "龙井罐装", "retail", 8800, "狮峰", "100g", ""),
    ("RETAIL-SCARF-BLUE", "真丝围巾", "retail", 25800, "万事利", "180×55cm", "湖蓝"),
    ("RETAIL-SCARF-RED", "真丝围巾", "retail", 25800, "万事利", "180×55cm", "胭脂红"),
    ("RETAIL-UMBRELLA", "西湖绸伞", "retail", 12800, "西湖", "", "月白"),
    ("RETAIL-FAN", "王星记檀香扇", "retail", 6800, "王星记", "", ""),
    ("RETAIL-LOTUS", "西湖藕粉礼盒", "retail", 4800, "方回春堂", "400g", ""),
    ("RETAIL-PASTRY", "知味观糕点礼盒", "retail", 8800, "知味观", "600g", ""),
    ("RETAIL-BAMBOO", "天目笋干", "retail", 6800, "临安", "500g", ""),
    ("RETAIL-POSTCARD", "西湖十景明信片", "retail", 1500, "湖畔", "10 张", ""),
    ("RETAIL-MUG-WHITE", "湖畔马克杯", "retail", 4800, "湖畔", "350ml", "白"),
    ("RETAIL-MUG-GREEN", "湖畔马克杯", "retail", 4800, "湖畔", "350ml", "青"),
    ("RETAIL-TSHIRT-M", "西湖文创 T 恤", "retail", 9900, "湖畔", "M", "白"),
    ("RETAIL-TSHIRT-L", "西湖文创 T 恤", "retail", 9900, "湖畔", "L", "白"),
    ("RETAIL-TSHIRT-XL", "西湖文创 T 恤", "retail", 9900, "湖畔", "XL", "白"),
    ("RETAIL-BATHROBE", "酒店同款浴袍", "retail", 19800, "湖畔", "均码", "白"),
    ("RETAIL-TOOTHBRUSH", "牙刷牙膏套装", "retail", 500, "", "套", ""),
    ("RETAIL-SLIPPERS", "便携拖鞋", "retail", 1500, "", "均码", "灰"),
    ("RETAIL-CABLE", "快充数据线", "retail", 3900, "绿联", "1m", "白"),
    ("RETAIL-WIPES", "湿巾", "retail", 300, "心相印", "10 片", ""),
]


def barcode_of(position: int) -> str:
    return with_check_digit(f"{COMPANY_PREFIX}{position + 1:05d}")


def seed_catalogue(actor: Actor) -> int:
    """Name the categories and put every product through the catalogue's service."""
    apply_program(actor, {"categories": CATEGORIES})
    for position, (sku, name, category, price, brand, size, colour) in enumerate(PRODUCTS):
        body = {
            "name": name,
            "category": category,
            "price": price,
            "barcode": barcode_of(position),
            "brand": brand,
            "size": size,
            "colour": colour,
        }
        put_product(actor, sku, body)
    return len(PRODUCTS)
