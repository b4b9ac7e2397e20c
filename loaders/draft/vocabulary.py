"""The general vocabularies drafting reads names and relations with.

Nothing here is taken from an article: suffixes of organisation names, words that type a
relation, units and bounds of figures, common surnames. The role, practice and industry
vocabularies are the model's own (graph.model, graph.vocabulary), read from there.
"""

from __future__ import annotations

from graph import model
from graph.vocabulary import SHARED_ENTITIES

# name suffix -> (label, kind); the longest suffix that ends a name decides.
ORG_SUFFIXES: dict[str, tuple[str, str]] = {
    # alliances: a joint organisation over several villages or organisations
    "党建联盟": ("Alliance", "党建联盟"),
    "大联盟": ("Alliance", "大联盟"),
    "联盟": ("Alliance", "联盟"),
    # branches and party organisations
    "党支部": ("Branch", "other"),
    "支部": ("Branch", "other"),
    "党总支": ("Branch", "other"),
    "党小组": ("Branch", "other"),
    "党组织": ("Branch", "other"),
    # enterprises and cooperatives
    "专业合作社联合社": ("Enterprise", "cooperative-union"),
    "联合社": ("Enterprise", "cooperative-union"),
    "合作社": ("Enterprise", "cooperative"),
    "有限公司": ("Enterprise", "company"),
    "公司": ("Enterprise", "company"),
    "旅行社": ("Enterprise", "company"),
    "集团": ("Enterprise", "company"),
    "酒店": ("Enterprise", "company"),
    "厂": ("Enterprise", "company"),
    # organisations
    "党委": ("Organization", "party-committee"),
    "党工委": ("Organization", "party-committee"),
    "县委": ("Organization", "party-committee"),
    "市委": ("Organization", "party-committee"),
    "委员会": ("Organization", "party-committee"),
    "组织部": ("Organization", "department"),
    "宣传部": ("Organization", "department"),
    "统战部": ("Organization", "department"),
    "农业农村局": ("Organization", "department"),
    "政府": ("Organization", "government"),
    "人民政府": ("Organization", "government"),
    "学院": ("Organization", "college"),
    "大学": ("Organization", "college"),
    "党校": ("Organization", "college"),
    "协会": ("Organization", "association"),
    "商会": ("Organization", "association"),
    "研究会": ("Organization", "association"),
    "妇女联合会": ("Organization", "mass-organization"),
    "妇联": ("Organization", "mass-organization"),
    "团支部": ("Organization", "mass-organization"),
    "团委": ("Organization", "mass-organization"),
    "工作队": ("Organization", "work-team"),
    "服务队": ("Organization", "work-team"),
    "宣讲团": ("Organization", "work-team"),
    "专家团队": ("Organization", "work-team"),
    "领导小组": ("Organization", "other"),
    "指挥部": ("Organization", "other"),
    "服务中心": ("Organization", "service-center"),
    "调解中心": ("Organization", "service-center"),
    "服务站": ("Organization", "service-center"),
    "办事处": ("Organization", "service-center"),
    "办公室": ("Organization", "service-center"),
    "师资库": ("Organization", "other"),
}
# A party organisation over several villages is an alliance whatever its last word.
ALLIANCE_MARKERS = ("联村", "片区", "联建", "联合党")
# What a branch sits in, by a word of its name.
BRANCH_KINDS = (
    ("机关", "organ"),
    ("合作社", "cooperative"),
    ("联合社", "cooperative"),
    ("公司", "enterprise"),
    ("企业", "enterprise"),
    ("坝", "industrial-dam"),
    ("村", "village"),
    ("社区", "village"),
)

PROJECT_SUFFIXES: dict[str, str] = {
    "项目": "other",
    "基地": "industry",
    "产业园": "industry",
    "示范园": "industry",
    "园区": "industry",
    "示范带": "other",
    "工程": "infrastructure",
    "营地": "tourism",
    "景区": "tourism",
    "故居": "culture",
    "纪念馆": "culture",
    "展厅": "culture",
    "分馆": "tourism",
    "农场": "industry",
    "作坊": "industry",
    "风情街": "tourism",
    "小镇": "tourism",
    "部落": "tourism",
    "教学点": "culture",
    "景观带": "tourism",
    "会务中心": "tourism",
}
PROJECT_KIND_WORDS = (
    ("旅游", "tourism"),
    ("研学", "tourism"),
    ("文化", "culture"),
    ("污水", "infrastructure"),
    ("道路", "infrastructure"),
    ("冷库", "infrastructure"),
    ("养殖", "industry"),
    ("种植", "industry"),
    ("加工", "industry"),
    ("服务", "service"),
)

# Words that make a quoted phrase a practice, and its kind.
PRACTICE_KINDS = (
    ("模式", "model"),
    ("机制", "mechanism"),
    ("制度", "mechanism"),
    ("工作法", "mechanism"),
    ("活动", "campaign"),
    ("行动", "campaign"),
    ("工程", "campaign"),
    ("年", "campaign"),
    ("规划", "policy"),
    ("方案", "policy"),
    ("办法", "policy"),
    ("清单", "policy"),
)

# Cues that make a local practice an instance of a shared concept (graph.vocabulary CONCEPTS):
# general words of each idea, never a case's own name for it.
CONCEPT_CUES: dict[str, str] = {
    "practice:joint-village-party-building": r"联村|片区|联建|抱团|连片",
    "practice:regular-meetings": r"例会|一周一|一月一|一季一|每周|每月|周督促|月提示",
    "practice:branch-cooperative-farmers": r"(?:党支部|党组织|支部)\+.*合作社",
    "practice:one-plus-n": r"^[“\"]?1\s*\+.*N",
    "practice:eliminating-weak-villages": r"薄弱村|空壳村",
    "practice:mentoring": r"导师|帮带",
}

# Posts a person holds in an organisation (HOLDS_POST role), longest first.
POSTS = (
    "党总支书记",
    "党支部书记",
    "党委书记",
    "副书记",
    "书记",
    "委员",
    "副主任",
    "主任",
    "理事长",
    "队长",
    "负责人",
)
POST_STATUS = ("拟任", "兼任")
DISPATCH_ROLES: tuple[str, ...] = model.DispatchRole.__args__  # type: ignore[attr-defined]
GROUP_ROLES: tuple[str, ...] = model.GroupRole.__args__  # type: ignore[attr-defined]
GROUP_UNITS = ("名", "位", "支", "个", "人")

# Who dispatched, by the character before 派/级 (省派, 县级): DISPATCHED_TO `level`.
DISPATCH_LEVELS = {
    "省": "province",
    "市": "city",
    "县": "county",
    "区": "county",
    "乡": "township",
    "镇": "township",
}
DISPATCH_VERBS = ("派驻", "选派", "下派", "选派到", "派到", "驻村")

# relation type -> verbs that say it, the subject before the verb and the object after.
RELATION_VERBS: dict[str, tuple[str, ...]] = {
    "FOUNDED": ("成立", "组建", "创办", "创建", "建立", "筹建", "组建起", "制定", "出台"),
    "LEADS": ("领办", "牵头", "领衔", "带领", "主导"),
    "INTRODUCED": ("引进", "引入", "招引", "引来"),
    "SUPPORTS": ("结对帮扶", "帮扶", "结对", "支持", "指导"),
    "LEARNED_FROM": ("取经", "考察学习", "参观学习", "学习考察"),
    "USES_PRACTICE": (
        "推行",
        "实施",
        "探索",
        "打造",
        "推广",
        "开展",
        "实行",
        "采取",
        "创新",
        "建立健全",
        "以",
    ),
    "HAS_MEMBER": ("吸纳", "吸收", "联动", "整合", "带动", "包括"),
}

# Figures: units (base unit, multiplier), bound words and their qualifier.
UNITS: dict[str, tuple[str, float]] = {
    "万元": ("元", 10_000),
    "亿元": ("元", 100_000_000),
    "千元": ("元", 1_000),
    "元": ("元", 1),
    "万人次": ("人次", 10_000),
    "人次": ("人次", 1),
    "万人": ("人", 10_000),
    "万亩": ("亩", 10_000),
    "亩": ("亩", 1),
    "公里": ("公里", 1),
    "平方米": ("平方米", 1),
    "万斤": ("斤", 10_000),
    "斤": ("斤", 1),
    "吨": ("吨", 1),
    "户": ("户", 1),
    "人": ("人", 1),
    "名": ("名", 1),
    "个": ("个", 1),
    "支": ("支", 1),
    "家": ("家", 1),
    "期": ("期", 1),
    "次": ("次", 1),
    "场": ("场", 1),
    "条": ("条", 1),
    "项": ("项", 1),
    "批": ("批", 1),
    "只": ("只", 1),
    "头": ("头", 1),
    "座": ("座", 1),
    "%": ("%", 1),
}
CHINESE_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}

# The most common surnames (and the compound ones): a name jieba tags nr must start with one.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
    "苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
    "廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "司徒",
    "夏侯",
)
# Lines that name the page's staff, not the article's people.
BYLINE_WORDS = ("作者", "责编", "编辑", "记者", "通讯员", "来源", "审核", "校对", "摄影")


def shared_industries() -> dict[str, str]:
    """Industry name -> shared id (docs/shared-vocabulary.md)."""
    return {e.name: ident for ident, e in SHARED_ENTITIES.items() if e.label == "Industry"}


def shared_practices() -> dict[str, str]:
    """Practice concept name -> shared id."""
    return {e.name: ident for ident, e in SHARED_ENTITIES.items() if e.label == "Practice"}
