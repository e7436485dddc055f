/**
 * English and Simplified Chinese. Every visible string is a key here; the zh-CN dictionary is typed
 * against the English one, so a missing translation is a compile error. The choice is kept in
 * localStorage ("bulwark.lang") and applied at runtime (no reload).
 */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';

const en = {
  'lang.label': 'Language',
  'nav.dashboard': 'Dashboard',
  'nav.images': 'Images',
  'nav.advisories': 'Advisories',
  'nav.compliance': 'Compliance',
  'compliance.framework': 'Framework',
  'compliance.summary': '{pass} without failures · {fail} failed · {manual} manual of {total} controls',
  'compliance.html': 'HTML report',
  'compliance.control': 'Control',
  'compliance.status.pass': 'No failures',
  'compliance.note':
    'Rated on the open misconfiguration findings of the latest scans. A control without failures may not have been evaluated: upload manifest scans with bulwark scan config --server.',
  'compliance.status.fail': 'Fail',
  'compliance.status.manual': 'Manual',
  'compliance.failing': 'Failing resources',
  'nav.registries': 'Registries',
  'nav.suppressions': 'Suppressions',
  'nav.notifications': 'Notifications',
  'nav.users': 'Users',
  'nav.audit': 'Audit log',
  'nav.tokens': 'API tokens',

  'common.loading': 'Loading…',
  'common.empty': 'Nothing here yet.',
  'common.prev': 'Previous',
  'common.next': 'Next',
  'common.exportCsv': 'Export CSV',
  'common.exportJson': 'Export JSON',
  'common.pageOf': 'Page {page} of {pages} · {total} total',
  'common.notFound': 'Page not found.',
  'common.cancel': 'Cancel',
  'common.save': 'Save',
  'common.delete': 'Delete',
  'common.edit': 'Edit',
  'common.all': 'All',
  'common.enabled': 'Enabled',
  'common.disabled': 'Disabled',
  'common.noFix': 'no fix',

  'auth.loginTitle': 'Sign in to Bulwark',
  'auth.username': 'Username',
  'auth.password': 'Password',
  'auth.login': 'Sign in',
  'auth.logout': 'Sign out',
  'auth.bootstrapTitle': 'Set up the first administrator',
  'auth.bootstrapHelp':
    'Enter the one-time token that `bulwark server` printed when it first started, then choose the administrator’s name and password.',
  'auth.token': 'One-time token',
  'auth.newPassword': 'New password',
  'auth.confirmPassword': 'Confirm password',
  'auth.createAdmin': 'Create administrator',
  'auth.mismatch': 'The passwords do not match.',

  'role.viewer': 'Viewer',
  'role.operator': 'Operator',
  'role.admin': 'Administrator',

  'sev.CRITICAL': 'Critical',
  'sev.HIGH': 'High',
  'sev.MEDIUM': 'Medium',
  'sev.LOW': 'Low',
  'sev.UNKNOWN': 'Unknown',

  'kind.vulnerability': 'Vulnerability',
  'kind.secret': 'Secret',
  'kind.misconfig': 'Misconfiguration',
  'kind.license': 'License',
  'kind.malware': 'Malware',

  'col.image': 'Image',
  'col.images': 'Images',
  'col.tags': 'Tags',
  'col.digest': 'Digest',
  'col.os': 'OS',
  'col.lastScan': 'Last scan',
  'col.severity': 'Severity',
  'col.advisory': 'Advisory',
  'col.package': 'Package',
  'col.version': 'Version',
  'col.fixedIn': 'Fixed in',
  'col.title': 'Title',
  'col.actions': 'Actions',
  'col.kind': 'Kind',
  'col.type': 'Type',
  'col.licenses': 'Licenses',
  'col.findings': 'Findings',
  'col.size': 'Size',
  'col.createdBy': 'Created by',
  'col.scan': 'Scan',
  'col.date': 'Date',
  'col.source': 'Source',
  'col.reason': 'Reason',
  'col.owner': 'Owner',
  'col.expires': 'Expires',
  'col.status': 'Status',
  'col.name': 'Name',
  'col.url': 'URL',
  'col.id': 'ID',
  'col.target': 'Target',
  'col.progress': 'Progress',
  'col.attempts': 'Attempts',
  'col.message': 'Message',
  'col.updated': 'Updated',
  'col.role': 'Role',
  'col.created': 'Created',

  'dash.images': 'Images',
  'dash.fixableCritical': 'Fixable criticals',
  'dash.trend': 'Findings over the last 30 days',
  'dash.noTrend': 'No scans in this period.',
  'dash.topImages': 'Most risky images',
  'dash.byKind': 'Findings by kind',

  'images.search': 'Filter by image name',
  'images.allRegistries': 'All registries and CI uploads',
  'image.sbom': 'SBOM',
  'image.sbomUnavailable': 'this server has no SBOM export',
  'image.reportJson': 'Scan report (JSON)',
  'image.tab.findings': 'Findings',
  'image.tab.packages': 'Packages',
  'image.tab.layers': 'Layers',
  'image.tab.scans': 'Scan history',

  'findings.search': 'Search advisory, package or title',
  'findings.fixability': 'Fix available',
  'findings.fixAny': 'Fixed or not',
  'findings.fixable': 'Fixable',
  'findings.notFixable': 'No fix yet',
  'findings.allKinds': 'All kinds',
  'findings.allSeverities': 'All severities',
  'findings.hideSuppressed': 'Hide suppressed',
  'findings.showSuppressed': 'Include suppressed',
  'findings.onlySuppressed': 'Only suppressed',
  'findings.suppress': 'Suppress',
  'findings.suppressed': 'Suppressed',
  'findings.open': 'Open',
  'findings.suppressTitle': 'Suppress',
  'findings.scope': 'Applies to',
  'findings.scopeImage': 'This image only',
  'findings.scopeAll': 'All images',

  'packages.search': 'Filter by name or purl',
  'scans.changes': 'Changes',
  'scans.compare': 'Compare with previous',
  'scans.first': 'first scan',
  'scans.diff': '{new} new · {fixed} fixed since #{base}',
  'packages.advisories': 'Advisories',
  'advisory.details': 'Details',
  'advisory.aliases': 'Aliases',
  'advisory.published': 'Published',
  'advisory.modified': 'Modified',
  'advisory.references': 'References',
  'advisory.fixedVersions': 'Affected packages and fixed versions',
  'advisory.cvss': 'CVSS',
  'packages.inImage': 'Findings here',
  'findings.ofPackage': 'Findings of package {name} in this image.',
  'findings.allPackages': 'All packages',
  'packages.none':
    'This scan stored no package list (only vulnerable packages are listed under Findings). Upload scans made with --list-all-pkgs to see every package.',

  'advisory.affected': '{images} image(s), {findings} finding(s)',
  'advisory.none': 'No image is affected by this advisory.',
  'advisory.images': 'Affected images',

  'registries.add': 'Add registry',
  'registries.edit': 'Change registry {name} (leave the password empty to keep it)',
  'registries.repositories': 'Repositories',
  'registries.reposHelp': 'empty: all (catalog)',
  'registries.allRepos': 'all',
  'registries.tagFilter': 'Tag filter (regex)',
  'registries.allTags': 'all tags',
  'registries.schedule': 'Schedule',
  'registries.scheduleMinutes': 'Scan every (minutes, 0 = manual)',
  'registries.everyMin': 'every {n} min',
  'registries.manual': 'manual',
  'registries.insecure': 'Skip TLS verification',
  'registries.caCert': 'CA certificate (PEM)',
  'registries.scanNow': 'Scan now',
  'registries.confirmDelete': 'Delete registry {name}?',
  'registries.jobs': 'Jobs',
  'job.registry-sync': 'Registry sync',
  'job.image-scan': 'Image scan',
  'job.status.queued': 'Queued',
  'job.status.running': 'Running',
  'job.status.succeeded': 'Succeeded',
  'job.status.failed': 'Failed',

  'notify.destinations': 'Destinations',
  'notify.rules': 'Rules',
  'notify.deadLetters': 'Dead letters (deliveries that gave up)',
  'notify.config': 'Configuration',
  'notify.test': 'Send test',
  'notify.testSent': 'Test event queued.',
  'notify.event': 'Event',
  'notify.minSeverity': 'Minimum severity',
  'notify.registryFilter': 'Registry or namespace',
  'notify.destination': 'Destination',
  'notify.lastError': 'Last error',
  'notify.retry': 'Retry',
  'notify.retried': 'Delivery queued again.',
  'notify.host': 'Host',
  'notify.port': 'Port',
  'notify.transport': 'Transport',
  'notify.format': 'Format',
  'notify.hmacSecret': 'HMAC secret',
  'notify.addDestination': 'Add destination',
  'notify.addRule': 'Add rule',
  'notify.type.syslog': 'Syslog',
  'notify.type.webhook': 'Webhook',
  'notify.type.slack': 'Slack',
  'event.new-finding': 'New finding',
  'event.scan-completed': 'Scan completed',
  'event.scan-failed': 'Scan failed',
  'event.runtime-alert': 'Runtime alert',
  'event.test': 'Test',

  'users.add': 'Add user',
  'users.enable': 'Enable',
  'users.disable': 'Disable',
  'users.confirmDelete': 'Delete user {name}?',

  'tokens.help':
    'Tokens let CI upload scans: bulwark scan image … --server URL --token TOKEN. A token’s role is at most yours.',
  'tokens.create': 'Create token',
  'tokens.shownOnce': 'Copy the token now; it is not shown again:',
  'tokens.prefix': 'Prefix',
  'tokens.lastUsed': 'Last used',
  'tokens.revoke': 'Revoke',

  'audit.actor': 'Actor',
  'audit.action': 'Action',
  'audit.detail': 'Detail',

  'suppressions.help':
    'Suppressed findings are hidden from every view until the suppression expires or is deleted.',
  'suppressions.never': 'never',
  'suppressions.active': 'Active',
  'suppressions.expired': 'Expired',
  'suppressions.createdBy': 'Created',
  'suppressions.add': 'Add suppression',
  'suppressions.anyPackage': 'Package (empty: any)',
  'suppressions.anyImage': 'Image (empty: all)',
  // Server messages (src/server/messages.ts; test/server/messages.test.ts keeps them equal).
  'srv.auth.required': 'authentication required (session cookie or Authorization: Bearer token)',
  'srv.auth.csrf': 'missing or wrong X-CSRF-Token header',
  'srv.auth.role': 'this action needs the {role} role',
  'srv.auth.login': 'wrong username or password',
  'srv.auth.bootstrap': 'wrong or already used bootstrap token',
  'srv.auth.throttledPair':
    'too many failed logins for this account from this address; try again in {seconds} s',
  'srv.auth.throttledSource': 'too many failed logins from this address; try again in {seconds} s',
  'srv.auth.throttledAccount': 'too many failed logins for this account; try again in {seconds} s',
  'srv.user.exists': 'user {name} exists',
  'srv.user.notFound': 'user {id} not found',
  'srv.user.selfDemote': 'you cannot demote or disable yourself',
  'srv.user.selfDelete': 'you cannot delete yourself',
  'srv.token.byToken': 'API tokens cannot create tokens; log in',
  'srv.token.tooStrong': 'a token cannot have more rights ({role}) than its owner ({owner})',
  'srv.token.notFound': 'token {id} not found',
  'srv.destination.notFound': 'destination {id} not found',
  'srv.destination.missing': 'destination {id} does not exist',
  'srv.rule.notFound': 'rule {id} not found',
  'srv.delivery.notFound': 'delivery {id} not found',
  'srv.delivery.notDead': 'delivery {id} is {status}, not dead',
  'srv.registry.notFound': 'registry {id} not found',
  'srv.registry.exists': 'registry {name} exists',
  'srv.job.notFound': 'job {id} not found',
  'srv.scan.notFound': 'scan {id} not found',
  'srv.scan.sourceMissing': 'scan {source} (source of merged scan {id}) not found',
  'srv.scan.noPackages':
    'scan {id} has no package list (registry scans keep one; for uploads use bulwark scan --list-all-pkgs)',
  'srv.scan.baseNotFound': 'base scan {id} not found',
  'srv.image.notFound': 'image {id} not found',
  'srv.suppression.notFound': 'suppression {id} not found',
  'srv.report.invalid': 'not a Bulwark scan report: {detail}',
  'srv.request.invalidParams': 'invalid path parameter: {detail}',
  'srv.compliance.unknown': 'unknown compliance framework {id}',
  'srv.advisory.notFound': 'advisory {id} is not in the advisory database',
  'srv.advisory.noDb': 'no advisory database to look up {id} in',
  'srv.request.invalidQuery': 'invalid query parameter: {detail}',
  'srv.request.invalidBody': 'invalid request body: {detail}',
  'srv.request.tooLarge': 'request body too large (at most {limit} bytes here)',
  'srv.request.badJson': 'the request body is not valid JSON',
  'srv.request.mediaType': 'unsupported content type {type}',
  'srv.route.notFound': 'no route {method} {path}',
  'srv.internal': 'internal server error',
  'srv.job.queued': 'queued',
  'srv.job.requeued': 'requeued after restart',
  'srv.job.started': 'started',
  'srv.job.retrying': 'attempt {attempt} failed: {error}; retrying',
  'srv.job.listing': 'listing repositories of {host}',
  'srv.job.repoQueued': '{repo}: {count} scan(s) queued so far',
  'srv.job.syncDone': '{count} image scan(s) queued ({reason})',
  'srv.job.pulling': 'pulling and scanning {ref}',
  'srv.job.storing': 'storing results of {ref}',
  'srv.job.done': '{count} finding(s) in {ref}',
  'srv.job.reasonDbChanged': 'vulnerability DB changed',
  'srv.job.reasonSchedule': 'schedule',
  'srv.job.reasonRequested': 'requested by {user}',
  'srv.audit.wrongToken': 'wrong token',
  'srv.audit.alreadyBootstrapped': 'already bootstrapped',
  'srv.runtime.notFound': 'runtime event {id} not found',
  'srv.runtime.batchTooLarge': 'a batch of {count} events is too large (at most {max}): send smaller batches',
  'audit.act.auth.login': 'Signed in',
  'audit.act.auth.logout': 'Signed out',
  'audit.act.auth.login_failed': 'Failed sign-in',
  'audit.act.auth.bootstrap_failed': 'Failed bootstrap attempt',
  'audit.act.user.bootstrap': 'First administrator created',
  'audit.act.user.create': 'User created',
  'audit.act.user.update': 'User changed',
  'audit.act.user.delete': 'User deleted',
  'audit.act.token.create': 'API token created',
  'audit.act.token.revoke': 'API token revoked',
  'audit.act.scan.upload': 'Scan uploaded',
  'audit.act.suppression.create': 'Suppression created',
  'audit.act.suppression.delete': 'Suppression removed',
  'audit.act.registry.create': 'Registry added',
  'audit.act.registry.update': 'Registry changed',
  'audit.act.registry.delete': 'Registry removed',
  'audit.act.registry.scan': 'Registry scan requested',
  'audit.act.destination.create': 'Notification destination added',
  'audit.act.destination.delete': 'Notification destination removed',
  'audit.act.destination.test': 'Test notification sent',
  'audit.act.rule.create': 'Notification rule added',
  'audit.act.rule.delete': 'Notification rule removed',
  'audit.act.delivery.retry': 'Delivery retried',
  'audit.field.ip': 'address',
  'audit.field.reason': 'reason',
  'audit.field.via': 'via',
  'audit.field.role': 'role',
  'audit.field.disabled': 'disabled',
  'audit.field.passwordChanged': 'password changed',
  'audit.field.name': 'name',
  'audit.field.scanId': 'scan',
  'audit.field.findings': 'findings',
  'audit.field.id': 'id',
  'audit.field.pkgName': 'package',
  'audit.field.imageName': 'image',
  'audit.field.owner': 'owner',
  'audit.field.expiresAt': 'expires',
  'audit.field.url': 'URL',
  'audit.field.type': 'type',
  'audit.field.event': 'event',
  'audit.field.destinationId': 'destination',
} as const;

export type Key = keyof typeof en;

const zhCN: Record<Key, string> = {
  'lang.label': '语言',
  'nav.dashboard': '概览',
  'nav.images': '镜像',
  'nav.advisories': '安全公告',
  'nav.compliance': '合规',
  'compliance.framework': '合规框架',
  'compliance.summary': '共 {total} 项控制：无未通过项 {pass}，未通过 {fail}，需人工 {manual}',
  'compliance.html': 'HTML 报告',
  'compliance.control': '控制项',
  'compliance.status.pass': '无未通过项',
  'compliance.note':
    '依据最新扫描中未处理的配置问题评定。没有未通过项的控制项可能尚未被评估：请用 bulwark scan config --server 上传清单扫描结果。',
  'compliance.status.fail': '未通过',
  'compliance.status.manual': '需人工',
  'compliance.failing': '未通过的资源',
  'nav.registries': '镜像仓库',
  'nav.suppressions': '忽略规则',
  'nav.notifications': '通知',
  'nav.users': '用户',
  'nav.audit': '审计日志',
  'nav.tokens': 'API 令牌',

  'common.loading': '加载中…',
  'common.empty': '暂无数据。',
  'common.prev': '上一页',
  'common.next': '下一页',
  'common.exportCsv': '导出 CSV',
  'common.exportJson': '导出 JSON',
  'common.pageOf': '第 {page} / {pages} 页 · 共 {total} 条',
  'common.notFound': '页面不存在。',
  'common.cancel': '取消',
  'common.save': '保存',
  'common.delete': '删除',
  'common.edit': '编辑',
  'common.all': '全部',
  'common.enabled': '已启用',
  'common.disabled': '已停用',
  'common.noFix': '暂无修复',

  'auth.loginTitle': '登录 Bulwark',
  'auth.username': '用户名',
  'auth.password': '密码',
  'auth.login': '登录',
  'auth.logout': '退出登录',
  'auth.bootstrapTitle': '创建首个管理员',
  'auth.bootstrapHelp': '请输入 `bulwark server` 首次启动时打印的一次性令牌，然后设置管理员的用户名和密码。',
  'auth.token': '一次性令牌',
  'auth.newPassword': '新密码',
  'auth.confirmPassword': '确认密码',
  'auth.createAdmin': '创建管理员',
  'auth.mismatch': '两次输入的密码不一致。',

  'role.viewer': '只读用户',
  'role.operator': '操作员',
  'role.admin': '管理员',

  'sev.CRITICAL': '严重',
  'sev.HIGH': '高危',
  'sev.MEDIUM': '中危',
  'sev.LOW': '低危',
  'sev.UNKNOWN': '未知',

  'kind.vulnerability': '漏洞',
  'kind.secret': '密钥泄露',
  'kind.misconfig': '错误配置',
  'kind.license': '许可证',
  'kind.malware': '恶意软件',

  'col.image': '镜像',
  'col.images': '镜像数',
  'col.tags': '标签',
  'col.digest': '摘要',
  'col.os': '操作系统',
  'col.lastScan': '最近扫描',
  'col.severity': '严重程度',
  'col.advisory': '公告编号',
  'col.package': '软件包',
  'col.version': '版本',
  'col.fixedIn': '修复版本',
  'col.title': '标题',
  'col.actions': '操作',
  'col.kind': '类型',
  'col.type': '类型',
  'col.licenses': '许可证',
  'col.findings': '问题数',
  'col.size': '大小',
  'col.createdBy': '创建命令',
  'col.scan': '扫描',
  'col.date': '时间',
  'col.source': '来源',
  'col.reason': '原因',
  'col.owner': '负责人',
  'col.expires': '到期时间',
  'col.status': '状态',
  'col.name': '名称',
  'col.url': '地址',
  'col.id': '编号',
  'col.target': '对象',
  'col.progress': '进度',
  'col.attempts': '尝试次数',
  'col.message': '消息',
  'col.updated': '更新时间',
  'col.role': '角色',
  'col.created': '创建时间',

  'dash.images': '镜像',
  'dash.fixableCritical': '可修复的严重漏洞',
  'dash.trend': '近 30 天问题趋势',
  'dash.noTrend': '此期间没有扫描。',
  'dash.topImages': '风险最高的镜像',
  'dash.byKind': '按类型统计的发现',

  'images.search': '按镜像名称筛选',
  'images.allRegistries': '全部仓库与 CI 上传',
  'image.sbom': '软件物料清单',
  'image.sbomUnavailable': '此服务器不提供 SBOM 导出',
  'image.reportJson': '扫描报告（JSON）',
  'image.tab.findings': '安全问题',
  'image.tab.packages': '软件包',
  'image.tab.layers': '镜像层',
  'image.tab.scans': '扫描历史',

  'findings.search': '搜索公告、软件包或标题',
  'findings.fixability': '是否可修复',
  'findings.fixAny': '不限修复状态',
  'findings.fixable': '可修复',
  'findings.notFixable': '暂无修复',
  'findings.allKinds': '全部类型',
  'findings.allSeverities': '全部严重程度',
  'findings.hideSuppressed': '隐藏已忽略',
  'findings.showSuppressed': '包含已忽略',
  'findings.onlySuppressed': '仅已忽略',
  'findings.suppress': '忽略',
  'findings.suppressed': '已忽略',
  'findings.open': '未处理',
  'findings.suppressTitle': '忽略',
  'findings.scope': '适用范围',
  'findings.scopeImage': '仅此镜像',
  'findings.scopeAll': '所有镜像',

  'packages.search': '按名称或 purl 筛选',
  'scans.changes': '变化',
  'scans.compare': '与上次对比',
  'scans.first': '首次扫描',
  'scans.diff': '相比 #{base}：新增 {new} 个，已修复 {fixed} 个',
  'packages.advisories': '相关公告',
  'advisory.details': '详情',
  'advisory.aliases': '别名',
  'advisory.published': '发布时间',
  'advisory.modified': '更新时间',
  'advisory.references': '参考链接',
  'advisory.fixedVersions': '受影响的软件包与修复版本',
  'advisory.cvss': 'CVSS 评分',
  'packages.inImage': '本镜像中的问题',
  'findings.ofPackage': '本镜像中软件包 {name} 的安全问题。',
  'findings.allPackages': '全部软件包',
  'packages.none':
    '此次扫描未保存软件包清单（存在漏洞的软件包见“安全问题”）。上传使用 --list-all-pkgs 的扫描结果即可查看全部软件包。',

  'advisory.affected': '{images} 个镜像，{findings} 个问题',
  'advisory.none': '没有镜像受此公告影响。',
  'advisory.images': '受影响的镜像',

  'registries.add': '添加仓库',
  'registries.edit': '修改仓库 {name}（密码留空则保持不变）',
  'registries.repositories': '镜像库',
  'registries.reposHelp': '留空：全部（目录）',
  'registries.allRepos': '全部',
  'registries.tagFilter': '标签过滤（正则）',
  'registries.allTags': '全部标签',
  'registries.schedule': '计划',
  'registries.scheduleMinutes': '扫描间隔（分钟，0 为手动）',
  'registries.everyMin': '每 {n} 分钟',
  'registries.manual': '手动',
  'registries.insecure': '跳过 TLS 校验',
  'registries.caCert': 'CA 证书（PEM）',
  'registries.scanNow': '立即扫描',
  'registries.confirmDelete': '删除仓库 {name}？',
  'registries.jobs': '任务',
  'job.registry-sync': '仓库同步',
  'job.image-scan': '镜像扫描',
  'job.status.queued': '排队中',
  'job.status.running': '运行中',
  'job.status.succeeded': '成功',
  'job.status.failed': '失败',

  'notify.destinations': '通知目标',
  'notify.rules': '通知规则',
  'notify.deadLetters': '死信（已放弃的投递）',
  'notify.config': '配置',
  'notify.test': '发送测试',
  'notify.testSent': '测试事件已加入队列。',
  'notify.event': '事件',
  'notify.minSeverity': '最低严重程度',
  'notify.registryFilter': '仓库或命名空间',
  'notify.destination': '通知目标',
  'notify.lastError': '最近错误',
  'notify.retry': '重试',
  'notify.retried': '已重新加入投递队列。',
  'notify.host': '主机',
  'notify.port': '端口',
  'notify.transport': '传输协议',
  'notify.format': '格式',
  'notify.hmacSecret': 'HMAC 密钥',
  'notify.addDestination': '添加通知目标',
  'notify.addRule': '添加规则',
  'notify.type.syslog': 'Syslog',
  'notify.type.webhook': 'Webhook',
  'notify.type.slack': 'Slack',
  'event.new-finding': '新问题',
  'event.scan-completed': '扫描完成',
  'event.scan-failed': '扫描失败',
  'event.runtime-alert': '运行时告警',
  'event.test': '测试',

  'users.add': '添加用户',
  'users.enable': '启用',
  'users.disable': '停用',
  'users.confirmDelete': '删除用户 {name}？',

  'tokens.help':
    'CI 可使用令牌上传扫描结果：bulwark scan image … --server URL --token TOKEN。令牌的角色不超过你自己的角色。',
  'tokens.create': '创建令牌',
  'tokens.shownOnce': '请立即复制令牌，之后不会再次显示：',
  'tokens.prefix': '前缀',
  'tokens.lastUsed': '最近使用',
  'tokens.revoke': '吊销',

  'audit.actor': '操作者',
  'audit.action': '动作',
  'audit.detail': '详情',

  'suppressions.help': '被忽略的问题在所有视图中隐藏，直到忽略规则到期或被删除。',
  'suppressions.never': '永不',
  'suppressions.active': '生效中',
  'suppressions.expired': '已过期',
  'suppressions.createdBy': '创建',
  'suppressions.add': '添加忽略规则',
  'suppressions.anyPackage': '软件包（留空：任意）',
  'suppressions.anyImage': '镜像（留空：全部）',
  // 服务器消息
  'srv.auth.required': '需要登录（会话 Cookie 或 Authorization: Bearer 令牌）',
  'srv.auth.csrf': '缺少 X-CSRF-Token 请求头或其值错误',
  'srv.auth.role': '此操作需要 {role} 角色',
  'srv.auth.login': '用户名或密码错误',
  'srv.auth.bootstrap': '一次性令牌错误或已被使用',
  'srv.auth.throttledPair': '此地址对该账户的登录失败次数过多，请 {seconds} 秒后重试',
  'srv.auth.throttledSource': '此地址的登录失败次数过多，请 {seconds} 秒后重试',
  'srv.auth.throttledAccount': '该账户的登录失败次数过多，请 {seconds} 秒后重试',
  'srv.user.exists': '用户 {name} 已存在',
  'srv.user.notFound': '未找到用户 {id}',
  'srv.user.selfDemote': '不能降低自己的角色或停用自己',
  'srv.user.selfDelete': '不能删除自己',
  'srv.token.byToken': 'API 令牌不能创建令牌，请登录后操作',
  'srv.token.tooStrong': '令牌的权限（{role}）不能高于其所有者（{owner}）',
  'srv.token.notFound': '未找到令牌 {id}',
  'srv.destination.notFound': '未找到通知目标 {id}',
  'srv.destination.missing': '通知目标 {id} 不存在',
  'srv.rule.notFound': '未找到规则 {id}',
  'srv.delivery.notFound': '未找到投递 {id}',
  'srv.delivery.notDead': '投递 {id} 的状态是 {status}，不是死信',
  'srv.registry.notFound': '未找到镜像仓库 {id}',
  'srv.registry.exists': '镜像仓库 {name} 已存在',
  'srv.job.notFound': '未找到任务 {id}',
  'srv.scan.notFound': '未找到扫描 {id}',
  'srv.scan.sourceMissing': '未找到扫描 {source}（合并扫描 {id} 的来源）',
  'srv.scan.noPackages':
    '扫描 {id} 没有软件包清单（镜像仓库扫描会保存清单；上传时请使用 bulwark scan --list-all-pkgs）',
  'srv.scan.baseNotFound': '未找到基准扫描 {id}',
  'srv.image.notFound': '未找到镜像 {id}',
  'srv.suppression.notFound': '未找到忽略规则 {id}',
  'srv.report.invalid': '不是 Bulwark 扫描报告：{detail}',
  'srv.request.invalidParams': '路径参数无效：{detail}',
  'srv.compliance.unknown': '未知的合规框架 {id}',
  'srv.advisory.notFound': '漏洞库中没有公告 {id}',
  'srv.advisory.noDb': '没有可查询 {id} 的漏洞库',
  'srv.request.invalidQuery': '查询参数无效：{detail}',
  'srv.request.invalidBody': '请求体无效：{detail}',
  'srv.request.tooLarge': '请求体过大（此处最多 {limit} 字节）',
  'srv.request.badJson': '请求体不是有效的 JSON',
  'srv.request.mediaType': '不支持的内容类型 {type}',
  'srv.route.notFound': '没有路由 {method} {path}',
  'srv.internal': '服务器内部错误',
  'srv.job.queued': '已排队',
  'srv.job.requeued': '重启后重新排队',
  'srv.job.started': '已开始',
  'srv.job.retrying': '第 {attempt} 次尝试失败：{error}；将重试',
  'srv.job.listing': '正在列出 {host} 的仓库',
  'srv.job.repoQueued': '{repo}：目前已排队 {count} 个扫描',
  'srv.job.syncDone': '已排队 {count} 个镜像扫描（{reason}）',
  'srv.job.pulling': '正在拉取并扫描 {ref}',
  'srv.job.storing': '正在保存 {ref} 的结果',
  'srv.job.done': '{ref} 中有 {count} 个发现',
  'srv.job.reasonDbChanged': '漏洞库已更新',
  'srv.job.reasonSchedule': '定时计划',
  'srv.job.reasonRequested': '由 {user} 发起',
  'srv.audit.wrongToken': '令牌错误',
  'srv.audit.alreadyBootstrapped': '已完成初始化',
  'srv.runtime.notFound': '未找到运行时事件 {id}',
  'srv.runtime.batchTooLarge': '一批 {count} 个事件过大（最多 {max} 个）：请分批发送',
  'audit.act.auth.login': '登录',
  'audit.act.auth.logout': '退出登录',
  'audit.act.auth.login_failed': '登录失败',
  'audit.act.auth.bootstrap_failed': '初始化尝试失败',
  'audit.act.user.bootstrap': '已创建首个管理员',
  'audit.act.user.create': '创建用户',
  'audit.act.user.update': '修改用户',
  'audit.act.user.delete': '删除用户',
  'audit.act.token.create': '创建 API 令牌',
  'audit.act.token.revoke': '吊销 API 令牌',
  'audit.act.scan.upload': '上传扫描',
  'audit.act.suppression.create': '创建忽略规则',
  'audit.act.suppression.delete': '删除忽略规则',
  'audit.act.registry.create': '添加镜像仓库',
  'audit.act.registry.update': '修改镜像仓库',
  'audit.act.registry.delete': '删除镜像仓库',
  'audit.act.registry.scan': '请求扫描镜像仓库',
  'audit.act.destination.create': '添加通知目标',
  'audit.act.destination.delete': '删除通知目标',
  'audit.act.destination.test': '发送测试通知',
  'audit.act.rule.create': '添加通知规则',
  'audit.act.rule.delete': '删除通知规则',
  'audit.act.delivery.retry': '重试投递',
  'audit.field.ip': '地址',
  'audit.field.reason': '原因',
  'audit.field.via': '方式',
  'audit.field.role': '角色',
  'audit.field.disabled': '已停用',
  'audit.field.passwordChanged': '已改密码',
  'audit.field.name': '名称',
  'audit.field.scanId': '扫描',
  'audit.field.findings': '发现',
  'audit.field.id': '编号',
  'audit.field.pkgName': '软件包',
  'audit.field.imageName': '镜像',
  'audit.field.owner': '负责人',
  'audit.field.expiresAt': '到期',
  'audit.field.url': 'URL 地址',
  'audit.field.type': '类型',
  'audit.field.event': '事件',
  'audit.field.destinationId': '通知目标',
};

export const LANGUAGES = { en: 'English', 'zh-CN': '简体中文' } as const;
export type Lang = keyof typeof LANGUAGES;
/** The dictionaries (exported for the completeness test in test/web/i18n.test.ts). */
export const DICTS: Record<Lang, Record<Key, string>> = { en, 'zh-CN': zhCN };
const STORAGE_KEY = 'bulwark.lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/** Translate a key with {placeholder} values. */
export function translate(lang: Lang, key: Key, vars?: Record<string, string | number>): string {
  const s = DICTS[lang][key] ?? en[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : s;
}

type Params = Record<string, string | number>;
let templates: { key: Key; re: RegExp; names: string[] }[] | undefined;

/** The srv.* key and parameters of an English server text (job messages carry only the text). */
function matchServer(text: string): { key: Key; params: Params } | undefined {
  templates ??= (Object.keys(en) as Key[])
    .filter((k) => k.startsWith('srv.'))
    .map((key) => {
      const names: string[] = [];
      const src = en[key]
        .split(/(\{\w+\})/)
        .map((part) => {
          const m = /^\{(\w+)\}$/.exec(part);
          if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(m[1]!);
          return '([\\s\\S]+?)';
        })
        .join('');
      return { key, re: new RegExp(`^${src}$`), names };
    })
    // Most literal text first: "attempt {attempt} failed: {error}; retrying" before "{count} ...".
    .sort((a, b) => b.re.source.length - a.re.source.length);
  for (const t of templates) {
    const m = t.re.exec(text);
    if (m) return { key: t.key, params: Object.fromEntries(t.names.map((n, i) => [n, m[i + 1]!])) };
  }
  return undefined;
}

/**
 * A message from the server in `lang`: by its key and parameters when the server sent them (error
 * bodies), else by matching the English text against the server's templates (job messages, audit
 * values). Parameters that are server messages themselves are translated too; anything unknown
 * (e.g. an error text from a registry) stays as it came.
 */
export function serverText(
  lang: Lang,
  text: string,
  key?: string,
  params?: Params,
  /** Parameters the server already translated (validation details), by language. */
  localized?: Partial<Record<string, Params>>,
  depth = 0,
): string {
  if (lang === 'en' || depth > 2) return text;
  const hit =
    key && `srv.${key}` in en ? { key: `srv.${key}` as Key, params: params ?? {} } : matchServer(text);
  if (!hit) return text;
  const done = localized?.[lang] ?? {};
  const vars: Params = {};
  for (const [k, v] of Object.entries(hit.params))
    vars[k] =
      k in done
        ? done[k]!
        : typeof v === 'string'
          ? serverText(lang, v, undefined, undefined, undefined, depth + 1)
          : v;
  return translate(lang, hit.key, vars);
}

interface I18n {
  lang: Lang;
  setLang: (l: Lang) => void;
  t: (key: Key, vars?: Record<string, string | number>) => string;
}
const Ctx = createContext<I18n>({ lang: 'en', setLang: () => {}, t: (k, v) => translate('en', k, v) });

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem(STORAGE_KEY, l);
    setLangState(l);
  }, []);
  const t = useCallback(
    (key: Key, vars?: Record<string, string | number>) => translate(lang, key, vars),
    [lang],
  );
  return <Ctx.Provider value={{ lang, setLang, t }}>{children}</Ctx.Provider>;
}

export function useT(): I18n {
  return useContext(Ctx);
}

export function LanguageSwitch() {
  const { lang, setLang, t } = useT();
  return (
    <select
      className="lang"
      data-testid="language"
      value={lang}
      onChange={(e) => setLang(e.target.value as Lang)}
      aria-label={t('lang.label')}
    >
      {(Object.keys(LANGUAGES) as Lang[]).map((l) => (
        <option key={l} value={l}>
          {LANGUAGES[l]}
        </option>
      ))}
    </select>
  );
}
