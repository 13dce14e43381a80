// UI strings and the sentence for every custom error the contracts can revert with, in 中文 and English.
// Placeholders {name} take the error's arguments; money arguments are shown in DCNY, times as dates.
import { ethers } from "/vendor/ethers.min.js";
import { decimals } from "./facts.js";

export const STRINGS = {
  dashboard: ["Dashboard", "运营看板"],
  core: ["Core enterprise", "核心企业"],
  supplier: ["Supplier", "供应商"],
  bank: ["Bank", "银行"],
  merchant: ["Merchant", "商户"],
  lessee: ["Lessee", "承租人"],
  lessor: ["Lessor", "出租人"],
  auditor: ["Auditor", "审计"],
  connect: ["Connect wallet", "连接钱包"],
  connected: ["Connected", "已连接"],
  noWallet: [
    "No browser wallet found: install MetaMask or another EIP-1193 wallet.",
    "未发现浏览器钱包：请安装 MetaMask 或其他 EIP-1193 钱包。",
  ],
  wrongChain: [
    "Your wallet is on chain {have}; Yinqi runs on chain {want}.",
    "钱包当前在链 {have}，银企运行在链 {want}。",
  ],
  switchChain: ["Switch network", "切换网络"],
  pending: ["pending", "待确认"],
  confirmed: ["confirmed", "已确认"],
  failed: ["failed", "失败"],
  rejected: ["You rejected the request in your wallet.", "您在钱包中拒绝了该请求。"],
  unknownError: ["The transaction would fail: {name}.", "交易将失败：{name}。"],
  connectFirst: ["Connect your wallet to act in this role.", "请先连接钱包再以此角色操作。"],
  applications: ["Financing applications", "融资申请量"],
  approvalRate: ["Approval rate", "通过率"],
  nplRate: ["NPL rate", "不良率"],
  financedVolume: ["Financed volume", "融资金额"],
  advanceRateKpi: ["Advanced / financed", "实际融资比例"],
  feesCharged: ["Financing fees", "融资手续费"],
  defaultsCured: ["Defaults cured", "违约已化解"],
  appToCash: ["Application → cash", "申请到放款"],
  utilisation: ["Credit utilisation", "授信使用率"],
  openFlags: ["Leases with open flags", "预警中的租赁"],
  sameTx: ["same transaction", "同一笔交易"],
  issue: ["Issue a receivable", "签发应收账款"],
  supplierAddr: ["Supplier", "供应商"],
  amount: ["Amount (DCNY)", "金额 (DCNY)"],
  dueDays: ["Due in (days)", "到期天数"],
  ref: ["Reference (PO no.)", "参考号（订单号）"],
  submit: ["Submit", "提交"],
  owed: ["Receivables I owe", "我的应付账款"],
  held: ["Receivables I hold", "我持有的应收账款"],
  repay: ["Repay", "还款"],
  split: ["Split", "拆分"],
  transfer: ["Transfer", "转让"],
  finance: ["Apply for financing", "申请融资"],
  to: ["To", "转给"],
  dismiss: ["Close", "关闭"],
  clickToCopy: ["click to copy", "点击复制"],
  contractSettlementToken: ["Settlement token", "结算代币"],
  contractParticipantRegistry: ["Participant register", "参与方登记合约"],
  contractFinancingPool: ["Bank's financing pool", "银行融资资金池"],
  contractReceivables: ["Receivables contract", "应收账款合约"],
  contractOracleGateway: ["Oracle gateway", "预言机网关"],
  contractCreditLine: ["Credit line contract", "授信合约"],
  contractEquipmentLease: ["Equipment lease contract", "设备租赁合约"],
  repayAll: ["Repay all", "全部还清"],
  reason_amount_mean: ["Your average monthly turnover is {value}", "您的月均交易额为 {value}"],
  reason_amount_last3: [
    "Your turnover averaged {value} a month over the last three months",
    "近三个月月均交易额为 {value}",
  ],
  reason_amount_cv: ["Your monthly turnover varies by {pct} around its average", "您的月交易额波动幅度为均值的 {pct}"],
  reason_count_mean: ["You make {value} sales a month on average", "您平均每月成交 {value} 笔"],
  reason_ticket_mean: ["Your average sale is {value}", "您的平均客单价为 {value}"],
  reason_rating_mean: ["Your customers rate you {value} on average", "顾客平均评分为 {value}"],
  reason_rating_min: ["Your lowest monthly rating is {value}", "您的最低月度评分为 {value}"],
  reason_turnover_mean: ["Your stock turns over {value} times on average", "您的平均库存周转次数为 {value}"],
  reason_growth_mean: ["Your turnover grows {pct} a month on average", "您的交易额平均月增长 {pct}"],
  reason_growth_last3: [
    "Your turnover grew {pct} a month on average over the last three months",
    "近三个月平均交易额月增长 {pct}",
  ],
  reason_growth_volatility: ["Your monthly growth swings by {pct}", "您的月增长率波动幅度为 {pct}"],
  reason_months: ["The platform has {value} months of your history", "平台掌握您 {value} 个月的经营记录"],
  reason_other: ["{feature} is {value}", "{feature} 为 {value}"],
  reasonRaised: ["{fact}; this raised your score.", "{fact}，评分提高。"],
  reasonLowered: ["{fact}; this lowered your score.", "{fact}，评分降低。"],
  reasonsHow: [
    "What moved your score most, from your own figures on the data platform:",
    "依据您在数据平台上的经营数据，对评分影响最大的因素：",
  ],
  myHistory: ["My history (latest {shown} of {total})", "我的记录（最近 {shown} 条，共 {total} 条）"],
  allInAuditor: ["Everything, with filters and CSV, in the auditor tab", "完整记录（含筛选与 CSV 导出）请见审计页"],
  addPart: ["Add a part", "增加一份"],
  splitNow: ["Split (parts must add up to {total})", "拆分（各份合计须为 {total}）"],
  inputPartsTotal: [
    "The parts add up to {total}; they must add up to {amount}, the whole receivable.",
    "各份合计 {total}，须等于应收账款全额 {amount}。",
  ],
  receivable: ["Receivable", "应收账款"],
  timeline: ["Timeline", "时间线"],
  lineage: ["Lineage (splits)", "拆分谱系"],
  splitUp: ["split into parts", "已拆分"],
  apiBadRequest: [
    "The server could not read that request; check what you entered.",
    "服务器无法处理该请求，请检查输入内容。",
  ],
  apiNotFound: ["Not found: it may not exist yet, or was mistyped.", "未找到：可能尚不存在，或输入有误。"],
  apiBusy: ["Too many requests just now; try again in a moment.", "请求过于频繁，请稍后再试。"],
  apiChainDown: [
    "The blockchain node is not answering; the figures cannot be read now. Try again shortly.",
    "区块链节点暂无响应，暂时无法读取数据，请稍后再试。",
  ],
  apiServerError: [
    "The server failed ({status}); the bank's operators can see why in its log.",
    "服务器出错（{status}）；银行运维人员可在日志中查看原因。",
  ],
  quoteText: [
    "Advance {advance}: {share} of {outstanding}, less {discount} discount at {rate} a year for {days} days, less a {fee} fee.",
    "预付款 {advance}：{outstanding} 的 {share}，扣除按年利率 {rate} 计 {days} 天的贴息 {discount}，再扣手续费 {fee}。",
  ],
  wouldBeRefused: ["The bank would refuse it now: {reason}.", "银行当前会拒绝：{reason}。"],
  notFinanceable: ["it cannot be financed in its state", "其当前状态不可融资"],
  applyNow: ["Apply for this advance", "按此报价申请融资"],
  notOnboarded: [
    "This wallet is not onboarded as a {role}, so it cannot act here. Ask the bank to onboard you (give them the address shown above).",
    "此钱包尚未以“{role}”身份准入，无法在此操作。请联系银行为您办理准入（提供上方显示的地址）。",
  ],
  welcomeTitle: ["Welcome to Yinqi 银企", "欢迎使用银企 Yinqi"],
  welcomeText: [
    "Yinqi puts a bank and the enterprises it serves on one blockchain, so that finance follows real trade and real data:",
    "银企将银行与其服务的企业放在同一条区块链上，让金融服务跟随真实的交易与数据：",
  ],
  welcomeReceivables: [
    "Receivables financing: a core enterprise issues a receivable to its supplier, who splits it down the chain or finances it from the bank's pool at once.",
    "应收账款融资：核心企业向供应商签发应收账款，供应商可沿供应链拆分流转，或立即向银行资金池申请融资。",
  ],
  welcomeCredit: [
    "Revolving credit: merchants are scored from their operating data and draw and repay any time.",
    "随借随还：依据商户经营数据评分授信，随时借款、随时还款。",
  ],
  welcomeLeasing: [
    "Equipment leasing: machines report their use over IoT, and rent follows the hours worked.",
    "设备融资租赁：设备通过物联网上报使用情况，租金按实际工时计算。",
  ],
  welcomeHow: [
    "Choose your role's tab above and connect your wallet: every action is signed by you. The dashboard below shows how the platform is doing; the auditor tab shows every change on the chain.",
    "请在上方选择您的角色并连接钱包：每一笔操作都由您本人签名。下方看板展示平台运行情况；审计页可查看链上每一次变更。",
  ],
  welcomeClose: ["Got it", "知道了"],
  rateYear: ["Interest rate (a year)", "年利率"],
  repayAmount: ["Amount to repay (DCNY)", "还款金额 (DCNY)"],
  inputBalance: [
    "Your balance is {balance}: not enough to pay {amount}.",
    "您的余额为 {balance}，不足以支付 {amount}。",
  ],
  chooseSupplier: ["— choose a supplier —", "— 请选择供应商 —"],
  inputMissing: ["{label}: required.", "{label}：必填。"],
  inputNotAmount: [
    "{label}: a number in DCNY, such as 1,000.50, is needed; “{text}” is not one.",
    "{label}：须为以 DCNY 计的数字，例如 1,000.50；“{text}”不是。",
  ],
  inputDecimals: ["{label}: at most {decimals} decimal places.", "{label}：最多保留 {decimals} 位小数。"],
  inputZero: ["{label}: must be more than zero.", "{label}：必须大于零。"],
  inputTooLarge: ["{label}: at most {max}.", "{label}：最多 {max}。"],
  inputWhole: ["{label}: a whole number is needed.", "{label}：须为整数。"],
  inputRange: ["{label}: from {min} to {max}.", "{label}：须在 {min} 至 {max} 之间。"],
  inputNotAddress: [
    "{label}: an account address (0x and 40 hex digits) is needed; “{text}” is not one.",
    "{label}：须为账户地址（0x 加 40 位十六进制字符）；“{text}”不是。",
  ],
  inputPercent: [
    "{label}: a percentage with at most 2 decimals, such as 6.5, is needed; “{text}” is not one.",
    "{label}：须为最多两位小数的百分比，例如 6.5；“{text}”不是。",
  ],
  inputSelf: ["{label}: cannot be your own account.", "{label}：不能是您自己的账户。"],
  inputTooLong: [
    "{label}: {bytes} bytes long; the chain keeps at most {max} (a Chinese character takes 3).",
    "{label}：长 {bytes} 字节；链上最多保存 {max} 字节（一个汉字占 3 字节）。",
  ],
  refused: ["Financing refused: {reason}", "融资被拒：{reason}"],
  advance: ["Advance received: {amount}", "已到账：{amount}"],
  onboard: ["Onboard a participant", "准入参与方"],
  name: ["Name", "名称"],
  roles: ["Roles", "角色"],
  address: ["Address", "地址"],
  terms: ["Debtor terms", "核心企业授信"],
  limit: ["Limit (DCNY)", "额度 (DCNY)"],
  rate: ["Discount rate (% a year)", "贴现年利率 (%)"],
  advanceRate: ["Advance rate (% of the amount)", "融资比例 (%)"],
  feeBps: ["Fee (% of the amount)", "手续费率 (%)"],
  exposure: ["Exposure (DCNY)", "已用敞口 (DCNY)"],
  openDefaults: ["Open defaults", "未化解违约"],
  chooseDebtor: ["— choose a debtor —", "— 请选择债务人 —"],
  debtors: ["Debtors' terms", "债务人授信条件"],
  poolAvailable: ["Available in the pool", "资金池可用资金"],
  myBalance: ["Your balance", "您的余额"],
  notBankStaff: [
    "This page is for the bank's staff. Your wallet holds none of the bank's roles on the contracts, so nothing here can be done from it.",
    "此页面供银行工作人员使用。您的钱包在合约上不持有任何银行角色，因此无法在此操作。",
  ],
  freezeReason: ["Reason (kept on chain)", "冻结原因（记录在链上）"],
  confirmFreeze: ["Freeze this lease", "确认冻结该租赁"],
  cancel: ["Cancel", "取消"],
  liquidity: ["Pool liquidity", "资金池"],
  deposit: ["Deposit", "存入"],
  alerts: ["Risk alerts", "风险预警"],
  freeze: ["Freeze", "冻结"],
  heldLimits: ["Held limit raises", "待确认提额"],
  confirm: ["Confirm", "确认"],
  consent: ["Consent to scoring", "授权评分"],
  merchantId: ["Merchant id in the bank's data", "银行数据中的商户编号"],
  sign: ["Sign and download", "签名并下载"],
  revokeConsent: ["Revoke my consent", "撤回授权"],
  merchantIdBound: [
    "The bank has bound your wallet to your merchant id: sign a consent with that id and hand the file to the bank. Revoking voids every consent you signed; the bank's policy then cuts or freezes your line.",
    "银行已将您的钱包与商户编号绑定：请用该编号签署授权并将文件交给银行。撤回授权后您签署过的授权全部失效，银行将按政策把额度降为零或冻结。",
  ],
  consentOnFile: [
    "The credit oracle holds your consent and last scored you at {when}.",
    "信用预言机已持有您的授权，最近一次评分时间：{when}。",
  ],
  consentNotOnFile: [
    "The credit oracle holds no consent of yours yet, so you are not scored: sign one below and hand the file to the bank.",
    "信用预言机尚未持有您的授权，因此不会为您评分：请在下方签署授权并将文件交给银行。",
  ],
  consentNext: [
    "Saved as {file} (valid until {expires}). Next: hand this file to the bank; its credit oracle scores you from its next round.",
    "已保存为 {file}（有效期至 {expires}）。下一步：将此文件交给银行，其信用预言机将在下一轮为您评分。",
  ],
  merchantIdNotBound: [
    "The bank has not bound a merchant id to your wallet yet: ask it to, or your consent will be refused.",
    "银行尚未为您的钱包绑定商户编号：请联系银行绑定，否则授权将被拒绝。",
  ],
  merchantIdMismatch: [
    "That is not the merchant id the bank bound to your wallet: check it, or ask the bank.",
    "该编号不是银行为您的钱包绑定的商户编号：请核对或联系银行。",
  ],
  merchantIdToBind: ["Merchant id (merchants only)", "商户编号（仅商户）"],
  bindMerchantId: ["Bind merchant id", "绑定商户编号"],
  myLine: ["My credit line", "我的授信"],
  score: ["Score", "评分"],
  available: ["Available", "可用"],
  drawn: ["Drawn", "已用"],
  interest: ["Interest", "利息"],
  reasons: ["Why this score", "评分原因"],
  draw: ["Draw", "借款"],
  myLeases: ["My leases", "我的租赁"],
  offerLease: ["Offer a lease", "发起租赁要约"],
  leasesOut: ["Leases I offered", "我出租的设备"],
  lesseeAddress: ["Lessee's address", "承租人地址"],
  deviceId: ["Device id", "设备编号"],
  periodHours: ["Billing period (hours)", "计费周期 (小时)"],
  periods: ["Periods", "期数"],
  leaseDeposit: ["Deposit (DCNY)", "押金 (DCNY)"],
  minimumRent: ["Minimum rent per period (DCNY)", "每期最低租金 (DCNY)"],
  tierSchedule: [
    "Rent tiers: hours per period up to, price per hour (the last tier has no bound)",
    "阶梯租金：每期小时数上限与每小时单价（最后一档不设上限）",
  ],
  tierUpTo: ["Tier, up to hours", "档位，小时上限"],
  tierHours: ["Hours in the period", "期内小时"],
  pricePerHour: ["Price per hour (DCNY)", "每小时单价 (DCNY)"],
  offer: ["Offer", "发起要约"],
  cancelOffer: ["Withdraw offer", "撤回要约"],
  assign: ["Assign period", "转让租期应收"],
  assignFinance: ["Assign and finance period", "转让并融资租期"],
  assignedAs: ["Assigned as receivable #{id}.", "已转为应收账款 #{id}。"],
  advanceFee: ["Advance received: {amount} (fee {fee})", "已到账：{amount}（手续费 {fee}）"],
  periodLength: ["Period", "计费周期"],
  leaseSettings: [
    "Rent is billed {billed} after a period ends and due {due} after it ends; unpaid {grace} past due, the lease may be marked defaulted.",
    "每期结束 {billed} 后出账，结束 {due} 后到期；逾期 {grace} 未付，租赁可被认定违约。",
  ],
  device: ["Device", "设备"],
  status: ["Status", "状态"],
  flags: ["Flags", "预警"],
  outstandingRent: ["Rent due", "应付租金"],
  payRent: ["Pay rent", "支付租金"],
  accept: ["Accept", "接受"],
  offerLapsed: [
    "This offer lapsed unaccepted: ask the lessor for a new one.",
    "该要约已过期未被接受：请出租人重新发出要约。",
  ],
  usage: ["Usage (h)", "使用时长 (小时)"],
  rent: ["Rent", "租金"],
  paid: ["Paid", "已付"],
  period: ["Period", "期数"],
  events: ["Events", "事件"],
  eventsPage: [
    "{total} events · page {page} of {pages}, newest first",
    "共 {total} 条事件 · 第 {page}/{pages} 页，最新在前",
  ],
  newer: ["← Newer", "← 较新"],
  older: ["Older →", "较早 →"],
  filter: ["Filter", "筛选"],
  exportCsv: ["Export CSV", "导出 CSV"],
  contract: ["Contract", "合约"],
  event: ["Event", "事件"],
  subject: ["Subject (id or address)", "对象（编号或地址）"],
  party: ["Participant", "参与方"],
  block: ["Block", "区块"],
  time: ["Time", "时间"],
  args: ["Arguments", "参数"],
  id: ["Id", "编号"],
  debtor: ["Debtor", "债务人"],
  holder: ["Holder", "持有人"],
  due: ["Due", "到期"],
  outstanding: ["Outstanding", "未偿"],
  actions: ["Actions", "操作"],
  series: ["Per day", "按日"],
  none: ["none", "无"],
};

// Every custom error in the contracts' ABIs (a test holds this list to them).
// The contracts' enum and flag names in words, keyed "Enum.Name" as the manifest's facts name them
// (statuses, refusal reasons, roles, risk flags); a test checks every name has both languages.
export const ENUM_WORDS = {
  "LineStatus.None": ["Not scored yet", "尚未评分"],
  "LineStatus.Active": ["Active", "正常"],
  "LineStatus.Frozen": ["Frozen", "已冻结"],
  "LineStatus.Defaulted": ["Defaulted", "已违约"],
  "LeaseStatus.Offered": ["Offered", "待接受"],
  "LeaseStatus.Active": ["Running", "履行中"],
  "LeaseStatus.Frozen": ["Frozen", "已冻结"],
  "LeaseStatus.Defaulted": ["Defaulted", "已违约"],
  "LeaseStatus.Recalled": ["Recalled", "已收回"],
  "LeaseStatus.Closed": ["Closed", "已结束"],
  "LeaseStatus.Cancelled": ["Withdrawn", "已撤回"],
  "ReceivableStatus.Active": ["Held", "持有中"],
  "ReceivableStatus.Split": ["Split", "已拆分"],
  "ReceivableStatus.Financed": ["Financed", "已融资"],
  "ReceivableStatus.Settled": ["Settled", "已结清"],
  "ReceivableStatus.Defaulted": ["Defaulted", "已违约"],
  "ReceivableStatus.Cured": ["Cured", "违约已化解"],
  "Refusal.Matured": ["it has already fallen due", "该应收账款已到期"],
  "Refusal.DebtorNotAuthorized": ["the debtor is not an active core enterprise", "债务人不是有效的核心企业"],
  "Refusal.NoFacility": ["the bank has set no terms for this debtor", "银行尚未为该债务人设定授信条件"],
  "Refusal.DebtorInDefault": ["the debtor has an uncured default", "债务人存在未化解的违约"],
  "Refusal.ExposureLimitExceeded": ["it would exceed the debtor's limit", "将超出该债务人的授信额度"],
  "Refusal.InsufficientLiquidity": ["the bank's pool has too little money now", "银行资金池当前资金不足"],
  "Refusal.PoolPaused": ["the bank's pool is paused", "银行资金池已暂停"],
  "Refusal.AdvanceTooSmall": ["the advance would come to nothing", "预付款金额过小"],
  "Refusal.HolderIsDebtor": ["the holder is the debtor itself", "持有人即为债务人本身"],
  "IgnoredReason.NotRunning": ["the lease is not running", "租赁未在履行中"],
  "IgnoredReason.AlreadyBilled": ["the period is already billed", "该期已出账"],
  "IgnoredReason.NotStarted": ["the period has not begun", "该期尚未开始"],
  "IgnoredReason.Impossible": ["more hours than the period has", "工时超过该期总时长"],
  "Role.BANK": ["Bank", "银行"],
  "Role.CORE_ENTERPRISE": ["Core enterprise", "核心企业"],
  "Role.SUPPLIER": ["Supplier", "供应商"],
  "Role.MERCHANT": ["Merchant", "商户"],
  "Role.LESSEE": ["Lessee", "承租人"],
  "Role.CREDIT_ORACLE": ["Credit oracle", "信用预言机"],
  "Role.IOT_ORACLE": ["IoT oracle", "物联网预言机"],
  "RiskFlag.IDLE": ["Idle", "闲置"],
  "RiskFlag.GEOFENCE": ["Out of region", "越界"],
  "RiskFlag.FUEL": ["Abnormal fuel", "油耗异常"],
  "RiskFlag.TAMPER": ["Tampering", "疑似篡改"],
};

// `name` of enum or flag set `kind` ("ReceivableStatus", "RiskFlag", …) in the user's language.
export function word(kind, name) {
  const pair = ENUM_WORDS[`${kind}.${name}`];
  return pair ? pair[lang === "en" ? 0 : 1] : String(name);
}

export const ERRORS = {
  AccessControlBadConfirmation: ["Only the account itself can renounce its role.", "只有账户本人可以放弃其角色。"],
  AccessControlEnforcedDefaultAdminDelay: [
    "The admin handover may be completed only after {schedule}.",
    "管理员移交须在 {schedule} 之后完成。",
  ],
  AccessControlEnforcedDefaultAdminRules: [
    "The bank's admin role changes only through the two-step handover.",
    "银行管理员角色只能通过两步移交变更。",
  ],
  AccessControlInvalidDefaultAdmin: ["{defaultAdmin} cannot become the admin.", "{defaultAdmin} 不能成为管理员。"],
  AccessControlUnauthorizedAccount: [
    "Your account {account} does not hold the role this needs.",
    "您的账户 {account} 没有此操作所需的角色。",
  ],
  CreditLineInvalidBounds: [
    "Credit bounds must all be above zero: max limit {maxLimit}, score age {maxScoreAge} s, limit step {maxLimitStep}, default after {defaultAfterFrozen} s frozen, max rate {maxRateBps} bps.",
    "授信参数必须均大于零：额度上限 {maxLimit}，评分有效期 {maxScoreAge} 秒，免确认提额 {maxLimitStep}，冻结 {defaultAfterFrozen} 秒后可认定违约，利率上限 {maxRateBps} 个基点。",
  ],
  CreditLineLimitExceeded: [
    "You can draw at most {available}; you asked for {requested}.",
    "最多可借 {available}，您申请了 {requested}。",
  ],
  CreditLineMalformedReport: [
    "The credit report is malformed ({length} bytes).",
    "信用报告格式错误（{length} 字节）。",
  ],
  CreditLineMerchantsNotAscending: [
    "The credit report names {merchant} after {previous}: merchants must come in ascending order, each once.",
    "信用报告中 {merchant} 排在 {previous} 之后：商户须按地址升序排列，每户仅一次。",
  ],
  CreditLineNotActive: ["This credit line is not active ({status}).", "该授信额度不可用（状态 {status}）。"],
  CreditLineNotDefaultable: ["This line cannot be marked defaulted yet.", "该额度尚不能认定违约。"],
  CreditLineNotFrozen: [
    "This credit line is not frozen ({status}): there is no freeze to lift.",
    "该授信额度未被冻结（状态 {status}），无需解冻。",
  ],
  CreditLineNotGateway: ["Only the oracle gateway may report scores.", "只有预言机网关可以报送评分。"],
  CreditLineNotMerchant: ["{account} is not an active merchant.", "{account} 不是有效商户。"],
  CreditLineNothingPending: ["There is no held limit raise to confirm.", "没有待确认的提额。"],
  CreditLineOutOfBounds: [
    "The reported limit {limit}, score {score} or rate {rateBps} bps is beyond the bank's bounds.",
    "报送的额度 {limit}、评分 {score} 或利率 {rateBps} 个基点超出银行限制。",
  ],
  CreditLinePendingLimitMismatch: [
    "The held raise of {merchant} changed since you looked (a new score arrived): review it again.",
    "{merchant} 的待确认提额在您查看后已变更（有新评分）：请重新审核。",
  ],
  CreditLineReportOlderThanScore: [
    "The credit report (as of {asOf}) is older than the current score of {merchant} ({scoredAt}).",
    "信用报告（截至 {asOf}）早于 {merchant} 的当前评分（{scoredAt}）。",
  ],
  CreditLineRepaymentTooLarge: ["You owe {owed}; you tried to repay {amount}.", "您欠款 {owed}，尝试还款 {amount}。"],
  CreditLineOwedAboveMax: [
    "You owe {owed} now, more than the {maxAmount} authorised; try again.",
    "您当前欠款 {owed}，超过授权的 {maxAmount}；请重试。",
  ],
  CreditLineScoreStale: [
    "Your score from {scoredAt} is too old to draw on; wait for a new score.",
    "您在 {scoredAt} 的评分已过期，请等待新评分。",
  ],
  CreditLineZeroAmount: ["The amount must be above zero.", "金额必须大于零。"],
  ECDSAInvalidSignature: ["The signature is invalid.", "签名无效。"],
  ECDSAInvalidSignatureLength: ["The signature has the wrong length ({length}).", "签名长度错误（{length}）。"],
  ECDSAInvalidSignatureS: ["The signature is malformed.", "签名格式错误。"],
  ERC20InsufficientAllowance: [
    "Approve at least {needed} first (approved: {allowance}).",
    "请先授权至少 {needed}（已授权 {allowance}）。",
  ],
  ERC20InsufficientBalance: [
    "Your balance {balance} is below the {needed} needed.",
    "余额 {balance} 不足，需要 {needed}。",
  ],
  ERC20InvalidApprover: ["Invalid approver {approver}.", "无效的授权人 {approver}。"],
  ERC20InvalidReceiver: ["Cannot send tokens to {receiver}.", "不能向 {receiver} 转账。"],
  ERC20InvalidSender: ["Cannot send tokens from {sender}.", "不能从 {sender} 转账。"],
  ERC20InvalidSpender: ["Invalid spender {spender}.", "无效的被授权人 {spender}。"],
  ERC2612ExpiredSignature: ["The permit expired at {deadline}.", "许可已于 {deadline} 过期。"],
  ERC2612InvalidSigner: ["The permit was signed by {signer}, not {owner}.", "许可由 {signer} 签名，而不是 {owner}。"],
  ERC721IncorrectOwner: [
    "Receivable #{tokenId} belongs to {owner}, not {sender}.",
    "应收账款 #{tokenId} 属于 {owner}，不属于 {sender}。",
  ],
  ERC721InsufficientApproval: [
    "{operator} may not move receivable #{tokenId}.",
    "{operator} 无权转移应收账款 #{tokenId}。",
  ],
  ERC721InvalidApprover: ["Invalid approver {approver}.", "无效的授权人 {approver}。"],
  ERC721InvalidOperator: ["Invalid operator {operator}.", "无效的操作人 {operator}。"],
  ERC721InvalidOwner: ["Invalid owner {owner}.", "无效的持有人 {owner}。"],
  ERC721InvalidReceiver: ["{receiver} cannot receive receivables.", "{receiver} 不能接收应收账款。"],
  ERC721InvalidSender: ["Invalid sender {sender}.", "无效的发送人 {sender}。"],
  ERC721NonexistentToken: [
    "Receivable #{tokenId} does not exist (any more).",
    "应收账款 #{tokenId} 不存在（或已拆分）。",
  ],
  EnforcedPause: ["The bank has paused this for now.", "银行已暂停此功能。"],
  ExpectedPause: ["This needs the contract to be paused.", "此操作需要合约处于暂停状态。"],
  GatewayInvalidFeed: [
    "Invalid feed settings (consumer {consumer}, quorum {quorum} of {operators} operators, max age {maxAge}).",
    "数据源设置无效（接收方 {consumer}，门限 {quorum}，运营方 {operators} 个，时效 {maxAge}）。",
  ],
  GatewayNotOperator: ["{signer} is not an operator of this oracle feed.", "{signer} 不是该预言机数据源的运营方。"],
  GatewayOperatorExists: ["{operator} is already an operator of this feed.", "{operator} 已是该数据源的运营方。"],
  GatewayOperatorUnknown: ["{operator} is not an operator of this feed.", "{operator} 不是该数据源的运营方。"],
  GatewayOperatorsBelowQuorum: [
    "That would leave the feed {operators} operators, below its quorum of {quorum}: lower the quorum or add a successor first.",
    "移除后该数据源仅剩 {operators} 个运营方，低于门限 {quorum}：请先降低门限或添加接替者。",
  ],
  GatewayZeroAddress: ["The zero address cannot be an operator.", "零地址不能成为运营方。"],
  GatewayQuorumNotMet: ["{signatures} signatures; the feed needs {quorum}.", "签名数 {signatures}，需要 {quorum}。"],
  GatewayReportFromFuture: ["The report is dated in the future ({asOf}).", "报告时间在未来（{asOf}）。"],
  GatewayReportTooOld: ["The report ({asOf}) is too old.", "报告（{asOf}）已过期。"],
  GatewaySequenceNotNext: [
    "Report {sequence} is not the feed's next report ({expected}).",
    "报告 {sequence} 不是该数据源的下一份报告（应为 {expected}）。",
  ],
  GatewaySignersNotAscending: ["Signatures must be ordered by signer.", "签名须按签名人地址排序。"],
  GatewayUnknownFeed: ["Unknown oracle feed.", "未知的预言机数据源。"],
  InvalidAccountNonce: [
    "The signature was already used (nonce {currentNonce}).",
    "该签名已被使用（nonce {currentNonce}）。",
  ],
  InvalidShortString: ["Invalid short string.", "无效的短字符串。"],
  LeaseDeviceInUse: ["This device is already under lease #{leaseId}.", "该设备已在租赁 #{leaseId} 中。"],
  LeaseOfferLapsed: [
    "The offer of lease #{leaseId} lapsed unaccepted at {expiredAt}.",
    "租赁 #{leaseId} 的要约已于 {expiredAt} 过期未被接受。",
  ],
  LeaseTooManySettings: [
    "The lease settings were changed too many times to keep another version.",
    "租赁参数修改次数已达上限，无法再保存新版本。",
  ],
  LeaseTooManyRateCards: [
    "Too many different rent schedules are stored to keep another; reuse an existing one.",
    "已保存的租金费率表数量已达上限；请沿用已有的费率表。",
  ],
  LeaseSelfDealing: [
    "{account} cannot lease to itself: lessor and lessee must differ.",
    "{account} 不能租赁给自己：出租人与承租人必须不同。",
  ],
  LeaseInvalidDeviceId: [
    "The device id must be 1–64 bytes long; this one has {length}.",
    "设备编号须为 1 至 64 字节，当前为 {length} 字节。",
  ],
  LeaseInvalidSettings: [
    "Invalid lease settings (payment term {paymentTerm} s, grace {gracePeriod} s, report delay {reportDelay} s): payment term and report delay 1–{maxSeconds} s, grace at most {maxSeconds} s.",
    "租赁参数无效（付款期 {paymentTerm} 秒，宽限期 {gracePeriod} 秒，报送延迟 {reportDelay} 秒）：付款期与报送延迟须为 1 至 {maxSeconds} 秒，宽限期最长 {maxSeconds} 秒。",
  ],
  LeaseInvalidTerms: [
    "Invalid lease terms ({periodSeconds} s a period, {periods} periods): a period of 1 h–366 days, 1–120 periods.",
    "租赁条款无效（每期 {periodSeconds} 秒，共 {periods} 期）：周期 1 小时至 366 天，1 至 120 期。",
  ],
  LeaseInvalidTier: [
    "Rent tier {index} (counting from 0; up to {upToHours} h at {pricePerHour} an hour) needs a price above zero and below 2^48 units, more hours and a lower price than the tier before, and (but the last tier) fewer hours than a period has.",
    "第 {index} 档租金（从 0 起计；至 {upToHours} 小时，每小时 {pricePerHour}）单价须大于零且低于 2^48 单位，小时数高于、单价低于上一档，且（最后一档除外）小时数少于一期的小时数。",
  ],
  LeaseInvalidTierCount: [
    "The rent schedule has {count} tiers; it needs 1 to {maxTiers}.",
    "租金档位共 {count} 档，须为 1 至 {maxTiers} 档。",
  ],
  LeaseMalformedReport: ["The usage report is malformed ({length} bytes).", "使用报告格式错误（{length} 字节）。"],
  LeaseNotClosable: [
    "Lease #{leaseId} cannot close yet: {settled} of its periods are settled.",
    "租赁 #{leaseId} 尚不能结束：已结清 {settled} 期。",
  ],
  LeaseNotDefaultable: ["Lease #{leaseId} is not past due and grace.", "租赁 #{leaseId} 尚未超过宽限期。"],
  LeaseNotGateway: ["Only the oracle gateway may report usage.", "只有预言机网关可以报送使用数据。"],
  LeaseNotParty: ["{account} is not a party to lease #{leaseId}.", "{account} 不是租赁 #{leaseId} 的当事方。"],
  LeaseParticipantNotAuthorized: ["{account} is not onboarded for this role.", "{account} 未获准以此角色参与。"],
  LeasePaymentTooLarge: [
    "Lease #{leaseId} has {outstanding} due; you tried to pay {amount}.",
    "租赁 #{leaseId} 应付 {outstanding}，您尝试支付 {amount}。",
  ],
  LeasePeriodNotAssignable: [
    "Period {period} of lease #{leaseId} cannot become a receivable.",
    "租赁 #{leaseId} 第 {period} 期不能转为应收账款。",
  ],
  LeaseUnknown: ["There is no lease #{leaseId}.", "不存在租赁 #{leaseId}。"],
  LeaseWrongStatus: [
    "Lease #{leaseId} is {status}: not possible now.",
    "租赁 #{leaseId} 状态为 {status}，当前不可操作。",
  ],
  LeaseZeroAmount: ["The amount must be above zero.", "金额必须大于零。"],
  ParticipantAlreadyOnboarded: ["{account} is already onboarded.", "{account} 已准入。"],
  ParticipantAlreadySuspended: ["{account} is already suspended.", "{account} 已被暂停。"],
  ParticipantInvalidRoles: ["Choose at least one valid role.", "请至少选择一个有效角色。"],
  ParticipantMerchantIdTaken: ["That merchant id is already bound to {holder}.", "该商户编号已绑定到 {holder}。"],
  ParticipantNotAuthorized: ["{account} is not authorised for this role.", "{account} 未获此角色授权。"],
  ParticipantNotOnboarded: ["{account} is not onboarded.", "{account} 尚未准入。"],
  ParticipantNotSuspended: ["{account} is not suspended.", "{account} 未被暂停。"],
  ParticipantZeroAddress: ["The zero address cannot take part.", "零地址不能参与。"],
  PoolInsufficientLiquidity: [
    "The pool has {available}; {requested} was asked.",
    "资金池余额 {available}，申请 {requested}。",
  ],
  PoolZeroAddress: ["The zero address is not allowed.", "不允许零地址。"],
  PoolZeroAmount: ["The amount must be above zero.", "金额必须大于零。"],
  ReceivableAmountTooLarge: ["{amount} is too large.", "{amount} 金额过大。"],
  ReceivableDueDateOutOfRange: [
    "The due date must lie between {earliest} and {latest}.",
    "到期日须在 {earliest} 与 {latest} 之间。",
  ],
  ReceivableDuplicateReference: ["You have already used this reference.", "该参考号已使用过。"],
  ReceivableExpired: ["Receivable #{id} matured on {dueDate}.", "应收账款 #{id} 已于 {dueDate} 到期。"],
  ReceivableFactoringTermsOutOfRange: [
    "The advance rate must be 1 to 10,000 bps and the fee at most {maxFeeBps} bps (given {advanceRateBps} and {feeBps}).",
    "融资比例须为 1 至 10,000 基点，手续费最多 {maxFeeBps} 基点（输入为 {advanceRateBps} 与 {feeBps}）。",
  ],
  ReceivableTooManyDefaults: [
    "{debtor} has too many defaults not yet cured to count another.",
    "{debtor} 未化解的违约过多，无法再记录。",
  ],
  ReceivableRecoveryTooLarge: [
    "Receivable #{id} has {outstanding} outstanding; a recovery of {recovered} is more than that.",
    "应收账款 #{id} 未偿余额为 {outstanding}，回收金额 {recovered} 超出该余额。",
  ],
  ReceivableGracePeriodTooLong: [
    "The grace period may be at most {maxGracePeriod} seconds.",
    "宽限期最长 {maxGracePeriod} 秒。",
  ],
  ReceivableMissingReference: ["Give the receivable a reference (e.g. the PO number).", "请填写参考号（如订单号）。"],
  ReceivableNotActive: ["Receivable #{id} is not active ({status}).", "应收账款 #{id} 不可用（状态 {status}）。"],
  ReceivableNotDebtor: ["Only the debtor may repay #{id}.", "只有债务人可以偿还 #{id}。"],
  ReceivableNotHolder: ["You do not hold receivable #{id}.", "您未持有应收账款 #{id}。"],
  ReceivableNotOverdue: [
    "Receivable #{id} is not overdue until {deadline}.",
    "应收账款 #{id} 在 {deadline} 前未逾期。",
  ],
  ReceivableNotRepayable: [
    "Receivable #{id} cannot be repaid ({status}).",
    "应收账款 #{id} 不能还款（状态 {status}）。",
  ],
  ReceivableParticipantNotAuthorized: ["{account} is not onboarded for this role.", "{account} 未获准以此角色参与。"],
  ReceivableRateTooHigh: [
    "The rate {rateBps} bps is above the {maxRateBps} bps cap.",
    "利率 {rateBps} 基点超过上限 {maxRateBps} 基点。",
  ],
  ReceivableRepaymentTooLarge: [
    "#{id} has {outstanding} outstanding; you tried to repay {amount}.",
    "#{id} 未偿 {outstanding}，您尝试还款 {amount}。",
  ],
  ReceivableSplitPartCount: [
    "Give 2–32 parts, one holder per part ({parts} amounts, {holders} holders).",
    "请拆分为 2 至 32 份，每份一个持有人（{parts} 个金额，{holders} 个持有人）。",
  ],
  ReceivableSplitPartiallyRepaid: [
    "#{id} was partly repaid and can no longer be split.",
    "#{id} 已部分还款，不能再拆分。",
  ],
  ReceivableSplitSumMismatch: [
    "The parts sum to {sum}, not the face amount {amount}.",
    "各份合计 {sum}，不等于面额 {amount}。",
  ],
  ReceivableUnknown: ["There is no receivable #{id}.", "不存在应收账款 #{id}。"],
  ReceivableSelfIssued: [
    "{account} cannot issue a receivable to itself: debtor and supplier must differ.",
    "{account} 不能向自己开立应收账款：债务人与供应商必须不同。",
  ],
  ReceivableZeroAmount: ["The amount must be above zero.", "金额必须大于零。"],
  ReentrancyGuardReentrantCall: ["A nested call was refused.", "拒绝了嵌套调用。"],
  SafeCastOverflowedUintDowncast: ["A number is too large.", "数值过大。"],
  SafeERC20FailedOperation: ["The token transfer failed.", "代币转账失败。"],
  FailedCall: ["One of the batched calls failed without saying why.", "批量调用中的一笔调用失败，未给出原因。"],
  AddressEmptyCode: ["There is no contract at {target}.", "{target} 处没有合约。"],
  StringTooLong: ["A text is too long.", "文本过长。"],
};

const MONEY = new Set([
  "amount",
  "available",
  "requested",
  "owed",
  "outstanding",
  "balance",
  "needed",
  "allowance",
  "limit",
  "maxLimit",
  "maxLimitStep",
  "pricePerHour",
  "sum",
  "repaid",
]);
const TIMES = new Set(["dueDate", "deadline", "earliest", "latest", "scoredAt", "asOf", "schedule"]);

let lang = localStorage.getItem("yinqi.lang") || "zh";
export const getLang = () => lang;
export function setLang(value) {
  lang = value;
  localStorage.setItem("yinqi.lang", value);
  document.documentElement.lang = value;
}

export function t(key, args = {}) {
  const pair = STRINGS[key];
  const text = pair ? pair[lang === "en" ? 0 : 1] : key;
  return fill(text, args);
}

export function fill(text, args) {
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in args ? String(args[k]) : `{${k}}`));
}

// Token units (a BigInt, or an integer from the API) in DCNY with separators, at most 2 decimals. The
// amount goes to Intl as an exact decimal string, never as a float.
export function money(units) {
  const exact = ethers.formatUnits(BigInt(units ?? 0), decimals());
  const format = new Intl.NumberFormat(lang === "en" ? "en-US" : "zh-CN", { maximumFractionDigits: 2 });
  return `${format.format(exact)} DCNY`;
}

export function when(seconds) {
  return new Date(Number(seconds) * 1000).toLocaleString(lang === "en" ? "en-GB" : "zh-CN");
}

// A decoded revert as a sentence in the current language.
export function explainError(name, args) {
  const pair = ERRORS[name];
  if (!pair) return t("unknownError", { name });
  const shown = {};
  for (const [k, v] of Object.entries(args || {})) {
    shown[k] = MONEY.has(k) ? money(v) : TIMES.has(k) ? when(v) : String(v);
  }
  return fill(pair[lang === "en" ? 0 : 1], shown);
}
