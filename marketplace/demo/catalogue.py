"""Demo catalogue: the demo sellers' goods, each written in the seller's language and translated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import OrganisationKind, User
from marketplace.accounts.services import organisation_ids
from marketplace.catalogue import services
from marketplace.catalogue.models import Listing
from marketplace.customs import hs
from marketplace.demo import accounts as accounts_demo
from marketplace.money import Money

T = dict[str, tuple[str, str]]

# seller email -> [(sku, category, hs_code, price, currency, stock, grams, ships_to, origin, texts)]
# The first locale of `texts` is the listing's own language.
CATALOGUE: dict[str, list[tuple[str, str, str, str, str, int, int, list[str], str, T]]] = {
    "hangzhou-tea@demo.example": [
        (
            "LJ-250",
            "green-tea",
            "0902.10",
            "168.00",
            "CNY",
            120,
            320,
            ["*"],
            "CN",
            {
                "zh-Hans": (
                    "西湖龙井明前绿茶 250克",
                    "杭州西湖产区明前手工炒制，豆香浓郁，铁罐装。",
                ),
                "en": (
                    "West Lake Longjing pre-Qingming green tea, 250 g",
                    "Hand-roasted before Qingming in Hangzhou's West Lake area; chestnut aroma; tin caddy.",
                ),
                "ru": (
                    "Зелёный чай Лунцзин с озера Сиху, 250 г",
                    "Ручная обжарка до праздника Цинмин, ореховый аромат, жестяная банка.",
                ),
                "kk": (
                    "Сиху көлінің Лунцзин көк шайы, 250 г",
                    "Цинмин мерекесіне дейін қолмен қуырылған, жаңғақ хош иісі, қаңылтыр қорап.",
                ),
            },
        ),
        (
            "KM-100",
            "black-tea",
            "0902.30",
            "88.00",
            "CNY",
            200,
            150,
            ["*"],
            "CN",
            {
                "zh-Hans": ("祁门红茶 100克", "安徽祁门工夫红茶，蜜香持久，适合加奶。"),
                "en": (
                    "Keemun black tea, 100 g",
                    "Keemun congou from Anhui with a lasting honey note; good with milk.",
                ),
                "ru": (
                    "Красный чай Кимун, 100 г",
                    "Аньхойский чай Цимэнь с медовым ароматом, хорош с молоком.",
                ),
                "ar": (
                    "شاي كيمون الأسود، 100 غرام",
                    "شاي كيمون من آنهوي بنكهة العسل، مناسب مع الحليب.",
                ),
            },
        ),
        (
            "JDZ-SET6",
            "tea-ware",
            "6911.10",
            "420.00",
            "CNY",
            15,
            1800,
            ["KZ", "UZ", "RU", "TR", "AE", "PK"],
            "CN",
            {
                "zh-Hans": ("景德镇青花瓷茶具六件套", "手绘青花，一壶五杯，礼盒包装。"),
                "en": (
                    "Jingdezhen blue-and-white porcelain tea set, 6 pieces",
                    "Hand-painted cobalt decoration: one teapot and five cups in a gift box.",
                ),
                "ru": (
                    "Чайный сервиз из цзиндэчжэньского фарфора, 6 предметов",
                    "Ручная роспись кобальтом: чайник и пять чашек в подарочной коробке.",
                ),
                "tr": (
                    "Jingdezhen mavi-beyaz porselen çay takımı, 6 parça",
                    "El boyaması kobalt desen: bir demlik ve beş fincan, hediye kutusunda.",
                ),
            },
        ),
        (
            "SZ-SCARF",
            "scarves-shawls",
            "6214.10",
            "260.00",
            "CNY",
            40,
            120,
            ["*"],
            "CN",
            {
                "zh-Hans": ("杭州桑蚕丝印花丝巾", "100%桑蚕丝，90×90厘米，西湖荷花图案。"),
                "en": (
                    "Hangzhou mulberry silk printed scarf",
                    "100% mulberry silk, 90 × 90 cm, West Lake lotus print.",
                ),
                "ru": (
                    "Шёлковый платок из Ханчжоу",
                    "100% шелковица, 90 × 90 см, рисунок «Лотосы озера Сиху».",
                ),
            },
        ),
        (
            "USBC-2M",
            "cables-chargers",
            "8544.42",
            "39.00",
            "CNY",
            500,
            80,
            ["*"],
            "CN",
            {
                "zh-Hans": ("USB-C 快充数据线 2米", "100W 快充，编织线身，支持数据传输。"),
                "en": (
                    "USB-C fast-charging cable, 2 m",
                    "100 W charging, braided jacket, data transfer.",
                ),
                "ru": (
                    "Кабель USB-C для быстрой зарядки, 2 м",
                    "Зарядка 100 Вт, оплётка, передача данных.",
                ),
                "kk": (
                    "Жылдам зарядтауға арналған USB-C кабелі, 2 м",
                    "100 Вт зарядтау, өрілген қабық, деректер беру.",
                ),
            },
        ),
    ],
    "almaty-crafts@demo.example": [
        (
            "KIIZ-SLIP",
            "felt",
            "6405.20",
            "14500",
            "KZT",
            60,
            400,
            ["KZ", "RU", "UZ", "CN", "TR"],
            "KZ",
            {
                "kk": (
                    "Киіз шәркей, ою-өрнекті",
                    "Қой жүнінен қолмен басылған киіз шәркей, қазақ оюымен.",
                ),
                "ru": (
                    "Войлочные тапочки с орнаментом",
                    "Тапочки ручной валки из овечьей шерсти с казахским орнаментом.",
                ),
                "en": (
                    "Felt slippers with Kazakh ornament",
                    "Hand-felted sheep's wool slippers with a Kazakh pattern.",
                ),
                "zh-Hans": ("哈萨克纹样手工毛毡拖鞋", "羊毛手工擀制，饰有哈萨克传统纹样。"),
            },
        ),
        (
            "TEKEMET-S",
            "felt",
            "5704.90",
            "98000",
            "KZT",
            5,
            4200,
            ["*"],
            "KZ",
            {
                "kk": (
                    "Текемет, 120×180 см",
                    "Қошқар мүйіз өрнегі бар дәстүрлі басылған киіз кілем.",
                ),
                "ru": (
                    "Текемет (войлочный ковёр), 120×180 см",
                    "Традиционный валяный ковёр с орнаментом «кошкар мюйиз».",
                ),
                "en": (
                    "Tekemet felt rug, 120 × 180 cm",
                    "Traditional pressed-felt rug with the ram's-horn motif.",
                ),
            },
        ),
        (
            "DOMBRA-STD",
            "musical-instruments",
            "9202.90",
            "65000",
            "KZT",
            8,
            1500,
            ["KZ", "RU", "UZ", "TR", "AE", "CN"],
            "KZ",
            {
                "kk": (
                    "Домбыра, қарағаш",
                    "Шебердің қолынан шыққан екі ішекті домбыра, қаппен бірге.",
                ),
                "ru": ("Домбра из карагача", "Двухструнная домбра ручной работы, с чехлом."),
                "en": ("Dombra, elm wood", "Hand-made two-string dombra with a carrying case."),
                "tr": ("Dombra, karaağaç", "El yapımı iki telli dombra, taşıma kılıfıyla."),
            },
        ),
        (
            "BAL-500",
            "sweets",
            "0409.00",
            "4800",
            "KZT",
            80,
            650,
            ["KZ", "RU", "UZ"],
            "KZ",
            {
                "kk": (
                    "Жетісу таулы балы, 500 г",
                    "Алатау етегіндегі шабындықтардан жиналған табиғи бал.",
                ),
                "ru": ("Горный мёд Жетысу, 500 г", "Натуральный мёд с лугов предгорий Алатау."),
                "en": (
                    "Zhetysu mountain honey, 500 g",
                    "Natural honey from the Alatau foothill meadows.",
                ),
            },
        ),
    ],
    "bukhara-silk@demo.example": [
        (
            "ADRAS-3M",
            "silk-fabric",
            "5007.20",
            "950000",
            "UZS",
            25,
            600,
            ["*"],
            "UZ",
            {
                "ru": (
                    "Шёлковый хан-атлас, 3 метра",
                    "Ткань ручной работы в технике икат, натуральные красители, Маргилан.",
                ),
                "uz": (
                    "Xon-atlas ipak mato, 3 metr",
                    "Qo'lda to'qilgan abr bandi mato, tabiiy bo'yoqlar, Marg'ilon.",
                ),
                "en": (
                    "Khan-atlas silk ikat fabric, 3 m",
                    "Hand-woven ikat silk with natural dyes from Margilan.",
                ),
                "zh-Hans": ("汗王艾德莱斯丝绸面料 3米", "马尔吉兰手工扎染织造，天然染料。"),
            },
        ),
        (
            "SUZANI-L",
            "suzani-embroidery",
            "5810.91",
            "4200000",
            "UZS",
            4,
            2500,
            ["*"],
            "UZ",
            {
                "ru": (
                    "Бухарское сюзане, 200×160 см",
                    "Ручная вышивка шёлком по хлопку, гранатовый орнамент.",
                ),
                "en": (
                    "Bukhara suzani, 200 × 160 cm",
                    "Silk hand-embroidery on cotton with pomegranate motifs.",
                ),
                "tr": (
                    "Buhara suzanisi, 200×160 cm",
                    "Pamuk üzerine ipekle el nakışı, nar motifleri.",
                ),
                "ar": ("سوزاني بخاري، 200×160 سم", "تطريز يدوي بالحرير على القطن بزخارف الرمان."),
            },
        ),
        (
            "URYUK-1KG",
            "dried-apricots-raisins",
            "0813.10",
            "120000",
            "UZS",
            300,
            1050,
            ["KZ", "RU", "CN", "TR", "AE"],
            "UZ",
            {
                "ru": (
                    "Курага узбекская, 1 кг",
                    "Сушёные на солнце абрикосы из Ферганской долины, без сахара.",
                ),
                "en": (
                    "Uzbek dried apricots, 1 kg",
                    "Sun-dried Fergana Valley apricots, no added sugar.",
                ),
                "zh-Hans": ("乌兹别克杏干 1公斤", "费尔干纳谷地日晒杏干，无添加糖。"),
            },
        ),
        (
            "RISHTAN-PL",
            "pottery",
            "6912.00",
            "380000",
            "UZS",
            20,
            1200,
            ["*"],
            "UZ",
            {
                "ru": (
                    "Риштанское блюдо «Ишкор», 32 см",
                    "Керамика с щелочной глазурью, ручная роспись.",
                ),
                "en": (
                    "Rishtan ishkor glaze platter, 32 cm",
                    "Alkaline-glazed earthenware, painted by hand.",
                ),
                "kk": (
                    "Риштан «Ишкор» табағы, 32 см",
                    "Сілтілі глазурьмен қапталған, қолмен боялған керамика.",
                ),
            },
        ),
    ],
    "istanbul-carpets@demo.example": [
        (
            "HEREKE-S",
            "hand-knotted-carpets",
            "5701.10",
            "145000.00",
            "TRY",
            2,
            9000,
            ["*"],
            "TR",
            {
                "tr": (
                    "El dokuma yün Hereke halısı, 150×220 cm",
                    "Kök boya, çift düğüm, her biri tek parça.",
                ),
                "en": (
                    "Hand-knotted wool Hereke carpet, 150 × 220 cm",
                    "Vegetable dyes, double knot, each one unique.",
                ),
                "ru": (
                    "Шерстяной ковёр Хереке ручной работы, 150×220 см",
                    "Растительные красители, двойной узел, каждый единственный.",
                ),
                "ar": (
                    "سجادة هيريكه صوفية معقودة يدويًا، 150×220 سم",
                    "أصباغ نباتية، عقدة مزدوجة، كل قطعة فريدة.",
                ),
            },
        ),
        (
            "KILIM-ANT",
            "kilims",
            "5702.10",
            "18500.00",
            "TRY",
            10,
            3500,
            ["*"],
            "TR",
            {
                "tr": (
                    "Anadolu kilimi, 120×180 cm",
                    "Elde dokunmuş yün kilim, geleneksel elibelinde motifi.",
                ),
                "en": (
                    "Anatolian kilim, 120 × 180 cm",
                    "Hand-woven wool kilim with the traditional elibelinde motif.",
                ),
                "zh-Hans": ("安纳托利亚基里姆平织毯 120×180厘米", "手工羊毛平织，传统“叉腰”图案。"),
                "ru": (
                    "Анатолийский килим, 120×180 см",
                    "Шерстяной килим ручного ткачества с традиционным мотивом «элибелинде».",
                ),
            },
        ),
        (
            "CEZVE-CU",
            "metalwork-jewellery",
            "7418.10",
            "950.00",
            "TRY",
            50,
            450,
            ["*"],
            "TR",
            {
                "tr": ("Dövme bakır cezve", "El dövmesi bakır, kalaylı iç yüzey, 4 fincanlık."),
                "en": (
                    "Hammered copper Turkish coffee pot",
                    "Hand-hammered copper, tin-lined, four cups.",
                ),
                "ru": ("Медная турка ручной ковки", "Кованая медь, лужёная внутри, на 4 чашки."),
                "ar": (
                    "ركوة قهوة تركية من النحاس المطروق",
                    "نحاس مطروق يدويًا ومبطن بالقصدير، تكفي أربعة فناجين.",
                ),
            },
        ),
        (
            "LOKUM-1KG",
            "sweets",
            "1704.90",
            "780.00",
            "TRY",
            150,
            1100,
            ["*"],
            "TR",
            {
                "tr": ("Antep fıstıklı lokum, 1 kg", "Geleneksel tarifle, Gaziantep fıstığıyla."),
                "en": (
                    "Pistachio Turkish delight, 1 kg",
                    "Traditional recipe with Gaziantep pistachios.",
                ),
                "ru": (
                    "Рахат-лукум с фисташками, 1 кг",
                    "По традиционному рецепту, с фисташками из Газиантепа.",
                ),
                "kk": (
                    "Пісте қосылған рахат-лукум, 1 кг",
                    "Дәстүрлі рецепт бойынша, Газиантеп пістесімен.",
                ),
            },
        ),
    ],
    "lahore-spices@demo.example": [
        (
            "SALT-PINK",
            "spices",
            "2501.00",
            "1450.00",
            "PKR",
            400,
            1050,
            ["*"],
            "PK",
            {
                "en": (
                    "Himalayan pink salt, fine, 1 kg",
                    "Mined at Khewra, stone-ground, no additives.",
                ),
                "ur": (
                    "ہمالیائی گلابی نمک، باریک، 1 کلو",
                    "کھیوڑہ کی کان سے، پتھر پر پسا ہوا، بغیر ملاوٹ۔",
                ),
                "ru": (
                    "Гималайская розовая соль, мелкая, 1 кг",
                    "Добыта в Кхевре, молотая на камне, без добавок.",
                ),
                "ar": (
                    "ملح الهيمالايا الوردي، ناعم، 1 كغ",
                    "مستخرج من منجم خيورا، مطحون بالحجر، دون إضافات.",
                ),
            },
        ),
        (
            "MASALA-250",
            "spices",
            "0910.91",
            "950.00",
            "PKR",
            250,
            280,
            ["*"],
            "PK",
            {
                "en": (
                    "Lahori garam masala, 250 g",
                    "Whole spices roasted and ground in small batches.",
                ),
                "ur": (
                    "لاہوری گرم مسالہ، 250 گرام",
                    "ثابت مسالے چھوٹی مقدار میں بھون کر پیسے گئے۔",
                ),
                "zh-Hans": ("拉合尔印度综合香料 250克", "整粒香料小批量烘焙研磨。"),
                "tr": (
                    "Lahor garam masala, 250 g",
                    "Bütün baharatlar küçük partiler halinde kavrulup öğütülür.",
                ),
                "ru": (
                    "Лахорская гарам масала, 250 г",
                    "Цельные специи, обжаренные и смолотые небольшими партиями.",
                ),
            },
        ),
        (
            "BASMATI-5",
            "spices",
            "1006.30",
            "3900.00",
            "PKR",
            100,
            5100,
            ["AE", "TR", "KZ", "UZ"],
            "PK",
            {
                "en": (
                    "Aged Super Basmati rice, 5 kg",
                    "Punjab-grown, aged twelve months for long grains.",
                ),
                "ar": ("أرز بسمتي سوبر معتّق، 5 كغ", "من البنجاب، معتّق اثني عشر شهرًا لحبات طويلة."),
                "ru": (
                    "Выдержанный рис Супер Басмати, 5 кг",
                    "Выращен в Пенджабе, выдержан двенадцать месяцев.",
                ),
            },
        ),
        (
            "JACKET-LTH",
            "leather-goods",
            "4203.10",
            "28500.00",
            "PKR",
            12,
            1600,
            ["*"],
            "PK",
            {
                "en": ("Lambskin leather jacket", "Full-grain lambskin, hand-finished in Lahore."),
                "ru": ("Куртка из кожи ягнёнка", "Цельная кожа ягнёнка, ручная отделка в Лахоре."),
                "kk": (
                    "Қозы терісінен жасалған күртеше",
                    "Лахорда қолмен өңделген табиғи қозы терісі.",
                ),
            },
        ),
    ],
    "dubai-dates@demo.example": [
        (
            "MEDJOOL-1",
            "dates",
            "0804.10",
            "85.00",
            "AED",
            200,
            1100,
            ["*"],
            "AE",
            {
                "ar": ("تمر مجدول فاخر، 1 كغ", "تمر مجدول كبير الحجم من مزارع العين، معبأ يدويًا."),
                "en": (
                    "Premium Medjool dates, 1 kg",
                    "Large Medjool dates from Al Ain farms, hand-packed.",
                ),
                "ru": (
                    "Финики Меджул премиум, 1 кг",
                    "Крупные финики Меджул с ферм Эль-Айна, ручная упаковка.",
                ),
                "zh-Hans": ("特级椰枣 1公斤", "来自艾因农场的大颗椰枣，手工包装。"),
                "tr": (
                    "Birinci sınıf Medjool hurması, 1 kg",
                    "El Ain çiftliklerinden iri Medjool hurmaları, elle paketlenir.",
                ),
            },
        ),
        (
            "KHALAS-STF",
            "dates",
            "0804.10",
            "120.00",
            "AED",
            90,
            800,
            ["*"],
            "AE",
            {
                "ar": ("تمر خلاص محشو باللوز", "تمر خلاص إماراتي محشو باللوز المحمص، علبة هدايا."),
                "en": (
                    "Khalas dates stuffed with almonds",
                    "Emirati Khalas dates filled with roasted almonds, gift box.",
                ),
                "kk": (
                    "Бадам салынған Халас құрмасы",
                    "Қуырылған бадам салынған Әмірлік Халас құрмасы, сыйлық қорабы.",
                ),
                "ru": (
                    "Финики Халас с миндалём",
                    "Эмиратские финики Халас с обжаренным миндалём, подарочная коробка.",
                ),
            },
        ),
        (
            "QAHWA-500",
            "spices",
            "0901.21",
            "65.00",
            "AED",
            120,
            550,
            ["*"],
            "AE",
            {
                "ar": ("قهوة عربية بالهيل، 500 غرام", "بن محمص تحميصًا خفيفًا مع الهيل والزعفران."),
                "en": (
                    "Arabic coffee with cardamom, 500 g",
                    "Lightly roasted coffee with cardamom and saffron.",
                ),
                "ru": (
                    "Арабский кофе с кардамоном, 500 г",
                    "Кофе светлой обжарки с кардамоном и шафраном.",
                ),
            },
        ),
        (
            "OUD-50",
            "soaps-oils",
            "3303.00",
            "450.00",
            "AED",
            30,
            300,
            ["AE", "TR", "PK", "KZ"],
            "AE",
            {
                "ar": ("عطر عود ملكي، 50 مل", "دهن عود مع المسك والورد الطائفي."),
                "en": ("Royal oud perfume, 50 ml", "Oud oil with musk and Taif rose."),
                "zh-Hans": ("皇家沉香香水 50毫升", "沉香油配麝香与塔伊夫玫瑰。"),
                "ru": ("Королевские духи с удом, 50 мл", "Масло уда с мускусом и таифской розой."),
            },
        ),
    ],
}


def load(session: Session, settings: dict[str, Any]) -> str:
    created = 0
    for email, goods in CATALOGUE.items():
        owner = session.scalar(select(User).where(User.email_key == email))
        if owner is None:
            continue
        seller_id = organisation_ids(session, owner.id, OrganisationKind.SELLER)[0]
        for (
            sku,
            category,
            hs_code,
            amount,
            currency,
            stock,
            grams,
            ships_to,
            origin,
            texts,
        ) in goods:
            if session.scalar(
                select(Listing.id).where(Listing.seller_id == seller_id, Listing.sku == sku)
            ):
                continue
            (language, (title, description)), *translations = texts.items()
            listing = services.create_listing(
                session,
                owner,
                {
                    "seller_id": seller_id,
                    "sku": sku,
                    "language": language,
                    "title": title,
                    "description": description,
                    "category": category,
                    "price": Money.of(amount, currency),
                    "stock": stock,
                    "weight_grams": grams,
                    "hs_code": hs_code,
                    "origin_country": origin,
                    "ships_to": ships_to,
                    "status": "published",
                },
                None,
                hs_check=hs.validate,
            )
            for locale, (t_title, t_description) in translations:
                services.put_translation(
                    session, owner, listing.id, locale, title=t_title, description=t_description
                )
            created += 1
    total = session.scalar(select(func.count()).select_from(Listing))
    return f"catalogue: {total} listings from {len(accounts_demo.SELLERS)} sellers ({created} new)"
