"""The categories' hand-written vocabulary: the words that point to each category, weighed (a generic
word counts half), read into LEXICON for the categoriser's keyword scorer.
"""

from __future__ import annotations

# Curated vocabulary per category, written from the category scopes of the data README
# (canteen, dormitories, commuter buses, ... for 生活福利 and so on) plus common vocabulary of
# a pulp-and-paper group.  It was drafted blind and extended once after looking at errors on
# proposals P0001-P0240 only; _LEXICON_EXTENSION adds to it (issue 19).  "word/0.5" marks a
# generic word that counts half.
# The matcher takes the longest keyword at each position, so "高温津贴" is one hit, not two.
_LEXICON_SOURCE: dict[str, str] = {
    "生活福利": """食堂 伙食 饭菜 就餐 用餐 夜宵 宵夜 热饭 早餐 午餐 晚餐 餐厅 菜品 餐补 宿舍 公寓 单身楼
        住房 租房 班车 通勤 交通车 停车 车位 车棚 充电 电动车 浴室 洗澡 热水 澡堂 体检 健康检查 疗养
        疗休养 文体 文化活动 运动会 健身 活动室 图书室 职工之家 困难职工 帮扶 救助 慰问 大病 幼儿园
        托管 子女 生日 节日 福利 卫生间 厕所 医务室 理发 休息室 饮水 开水 空调 娱乐 球场 补充医疗""",
    "安全环保": """安全 隐患 事故 险情 消防 火灾 灭火 危化品 危险化学品 化学品 职业病 职业健康 职业危害 粉尘
        噪声 噪音 听力 有毒 中毒 防护 劳保 劳动防护 安全帽 安全带 耳塞 耳罩 动火 登高 有限空间 受限空间
        叉车 人车分流 排放 排污 超低排放 废水 污水 废气 烟气 脱硫 脱硝 除尘 恶臭 异味 臭味 固废 危废
        污泥 环保 污染 达标 超标 COD 环评 应急 演练 违章 护栏 防滑 漏电 触电 伤害 泄漏 督察 接害 氯气
        硫化氢 烫伤 工伤 压力容器 特种设备 安全阀 焚烧""",
    "生产技术": """工艺 设备/0.5 质量 节能 能耗 电耗 汽耗 水耗 维修 检修 维护 点检 故障 停机 断纸 纸机 浆料
        制浆 磨浆 蒸煮 漂白 碱回收 蒸发 锅炉/0.5 汽轮机 毛毯 成形网 烘缸 压榨 真空 纸病 尘埃 孔洞
        合格率 产量 效率 技术改造 技改 润滑 振动 监测/0.5 控制系统 配方 白水 回用 损纸 涂布 复卷 变频
        余热 生产线 结垢 轴承 泵/0.5 电机 改造/0.5 车速 定量 强度 成纸 白度 得率 空压机 压缩空气 漏气""",
    "经营管理": """成本 降本 采购 招标 投标 比价 供应商 销售 客户 营销 货款 应收 回款 订单 排产 库存 仓库
        积压 呆滞 物资 储备 财务 报销 预算 资金 费用 审计 结算 电费 电价 峰谷 计量 资产 闲置 出租 考核
        流程 审批 会议 报表 文件 物流 运输 外包 定额 核算 价格 效益 利润 管理制度 精简 盘点 定岗定编 账""",
    "职工权益": """工资 薪酬 收入 津贴 补贴 加班 加班费 工时 休假 年假 年休假 探亲假 带薪 产假 哺乳 女职工
        孕期 作息 劳动合同 合同工 劳务派遣 派遣 同工同酬 社保 社会保险 养老保险 医疗保险 公积金 年金
        高温津贴 防暑降温 夜班费 奖金 待遇 调休 退休 工龄 最低工资 欠薪 权益 补助 扣款 调岗 工作地点
        协商一致""",
    "改革创新": """改革 创新 激励 机制 人事 用工 竞聘 干部 选拔 晋升 职业通道 双通道 信息化 数字化 智能 智慧
        智能制造 智能工厂 信息系统 管理系统 平台/0.5 APP 线上/0.5 网上/0.5 大数据 合理化建议 金点子
        创新工作室 劳模工作室 专利 科技奖励 奖励办法 混合所有制 扁平化 市场化 股权 模式 试点 小改小革
        技术改进 工资总额 挂钩 岗位合并 退出机制 揭榜挂帅 承包 人才引进 整合 集中""",
    "教育培训": """培训 技能 技术比武 技能竞赛 师带徒 师傅/0.5 徒弟 学徒 导师 证书 持证 取证 资格 职称 技师
        高级工 鉴定 技能等级 学历 进修 学习/0.5 课程 讲课 网络学院 在线学习 题库 考试 继续教育 新员工
        大学生 技校 复训 教材 授课 人才培养""",
    "民主管理": """职代会 职工代表 代表大会 厂务公开 公开 工会 会员 提案 督办 答复 反馈 民主 评议 测评 监督
        知情 集体合同 协商 座谈 意见箱 公示 透明 审议 民主管理 班务公开 信访 职工董事 职工监事 征求意见
        征求职工意见""",
    "战略发展": """战略 发展规划 规划 中长期 长远 转型 升级 产品结构 新产品 高端 原料 原材料 木片 竹 林浆纸
        林地 林下经济 基地 产能 落后产能 布局 搬迁 项目/0.5 投资 并购 新市场 海外 出口 品牌 十四五
        产业链 多元化 生活用纸 包装纸 特种纸 市场/0.5 供热 园区 新业务 增长点""",
}


# Extension for issue 19 (proposals on issues never seen): everyday vocabulary of each category's
# scope that the lexicon above lacked, written from the category table of docs/proposals.md and
# the trade (a union of a pulp-and-paper group), after reading the topic-split errors of the
# shipped set (titles only), and frozen before the unseen set was measured with it.  Without the
# 36 of its words found in those error titles it gains nothing on the topic split, so the shipped
# set's figures with it are optimistic; see docs/proposals.md.
_LEXICON_EXTENSION: dict[str, str] = {
    "生活福利": """菜价 饭卡 外卖 小卖部 超市 洗衣房 晾衣 被褥 床铺 灭蚊 蚊虫 家属区 生活区 公交 接送 就医 看病
        药品 常用药 心理健康 心理咨询 心理疏导 联谊 婚恋 子女入学 托儿 夏令营 棋牌 篮球 羽毛球 乒乓球 游泳
        书屋 阅览室 无线网络 手机信号 更衣室 更衣柜 储物柜 工作服 洗涤 微波炉 饮水机 净水 母婴室 哺乳室
        互助保障 医疗互助 送温暖 助学 金秋助学 物业 小区 绿化 休闲 文艺 演出 电影""",
    "安全环保": """安全隐患 中暑 劳保用品 劳保鞋 防护服 防尘口罩 口罩 手套 护目镜 急救 急救箱 疏散 逃生 安全通道
        应急照明 警示 警示标识 交通安全 限速 疲劳驾驶 酒驾 超速 起重 吊装 机械伤害 夹伤 卷入 防护罩 联锁
        急停 坠落 高处作业 脚手架 临时用电 防雷 避雷 积水 滑倒 坍塌 粉尘爆炸 可燃 易燃 爆炸 燃气泄漏 隔音
        扬尘 雨污分流 排污口 土壤 地下水 碳排放 垃圾分类 废渣 作业环境 人身安全 安全生产 安全管理 风险辨识
        安全培训 安全教育 三违""",
    "生产技术": """生产效率 产品质量 工艺参数 技术攻关 攻关 设备管理 备件 磨损 腐蚀 堵塞 跑冒滴漏 蒸汽 冷凝水 凝结水
        疏水 循环水 冷却水 水泵 风机 管道 阀门 仪表 自动化 DCS PLC 在线检测 传感器 网部 压光 卷取 纸幅 抄纸
        浆板 纤维 填料 助剂 施胶 湿强 热电 发电 供汽 燃料 生物质 燃烧 燃煤 开机率 一次合格率 废品 节电 节水
        节汽 降耗 消耗 单耗 吨纸 吨浆 综合利用 升级改造 自动控制 大修 停机时间 换网 刮刀 烘干 干燥 石灰窑 苛化
        绿液 白液 黑液 木屑 树皮""",
    "经营管理": """绩效 绩效考核 考核办法 责任制 管理办法 台账 合同管理 外委 外协 委外 费用控制 开支 招待 办公用品
        车辆管理 公务用车 油耗 差旅 人员配置 冗员 编制 人力成本 劳动生产率 指标 经营 营收 议价 应付 欠款 催收
        合规 法务 票据 发票 税 物料 领料 出入库 配送 运费 仓储 废旧物资 处置 招租 能源管理 能源计量 损耗 浪费""",
    "职工权益": """薪资 工资标准 调资 岗位工资 绩效工资 绩效奖金 奖金分配 收入分配 一线倾斜 通讯补贴 交通补贴 住房补贴
        误餐 劳动报酬 加班时间 休息日 双休 轮休 倒班 三班倒 四班三倒 病假 婚假 丧假 陪产假 育儿假 请假 企业年金
        职业年金 医保 工伤认定 劳动争议 仲裁 解除合同 辞退 经济补偿 续签 转正 试用期 岗位调整 转岗 女工 孕妇
        四期保护 晋级 薪级 收入差距 同岗同酬 拖欠 劳动保护""",
    "改革创新": """体制 改制 重组 组织架构 机构改革 职能 管理模式 运营模式 阿米巴 模拟市场 内部市场 自主管理 授权 放权
        项目制 OA 移动办公 电子审批 无纸化 线上审批 在线审批 ERP MES 数字化转型 智能化 机器人 机器换人 无人值守
        远程 5G 云平台 信息共享 人才机制 柔性引进 用人机制 能上能下 能进能出 末位淘汰 不胜任 任期制 契约化
        职业经理人 薪酬改革 分配改革 创新成果 成果转化 技术创新 创新激励 创效 QC小组 精益 精益管理 对标 标杆""",
    "教育培训": """技能培训 培训班 培训中心 实训 实操 练兵 岗位练兵 比武 导师带徒 带徒 传帮带 入职 岗前 转岗培训
        多能工 一专多能 技术交流 讲座 学习班 读书 书籍 学分 学费 学历提升 函授 自考 成人教育 考证 执业 职业资格
        技能鉴定 职称评审 高级技师 首席技师 工匠 后备人才 培养 梯队 轮岗 外出学习 参观学习 培训经费 培训费""",
    "民主管理": """职代会制度 代表提案 提案落实 提案办理 工会组织 工会小组 分工会 工会委员 工会经费 会费 入会 会员服务
        恳谈 民主恳谈 意见征集 诉求 合理诉求 职工意见 听取意见 民主评议 民主测评 厂务 政务公开 监督检查
        劳动法律监督 集体协商 工资集体协商 选举 换届 民主选举 职工参与 参与管理 信息公开 沟通渠道 总经理信箱
        接待日 座谈会""",
    "战略发展": """发展战略 远景 愿景 定位 主业 主营 业务拓展 上下游 一体化 林纸一体化 原料基地 竹材 速生林 造林 营林
        林业 碳汇 海外市场 国际市场 市场开拓 开拓 竞争力 核心竞争力 规模 扩产 新建 新项目 项目建设 合资
        战略合作 上市 融资 产业 产业升级 产业园 文化纸 白卡 箱板纸 瓦楞纸 新闻纸 溶解浆 高附加值 附加值 差异化
        研发中心""",
}


def _parse_lexicon(source: dict[str, str]) -> dict[str, dict[str, float]]:
    lexicon: dict[str, dict[str, float]] = {}
    for category, words in source.items():
        entry: dict[str, float] = {}
        for token in words.split():
            word, _, weight = token.partition("/")
            entry[word] = float(weight) if weight else 1.0
        lexicon[category] = entry
    return lexicon


LEXICON: dict[str, dict[str, float]] = {
    category: {**words, **_parse_lexicon(_LEXICON_EXTENSION).get(category, {})}
    for category, words in _parse_lexicon(_LEXICON_SOURCE).items()
}
