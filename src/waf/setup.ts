/**
 * The engine configuration Bulwark puts in front of a CRS rules directory: what ModSecurity's
 * modsecurity.conf-recommended and CRS's crs-setup.conf.example would set, as SecLang text, with
 * the paranoia level and the rule engine mode as parameters. A user's own setup file, given with
 * the rules, is read after it and wins.
 */
export interface SetupOptions {
  paranoia?: number;
  mode?: 'block' | 'detect';
  /** extra setvar:... actions appended to the setup rule (e.g. the regression harness's limits) */
  extraSetvars?: string[];
  inboundThreshold?: number;
  outboundThreshold?: number;
}

export function setupConfig(o: SetupOptions = {}): string {
  const pl = o.paranoia ?? 1;
  const sv = [
    `setvar:tx.crs_setup_version=4290`,
    `setvar:tx.blocking_paranoia_level=${pl}`,
    `setvar:tx.detection_paranoia_level=${pl}`,
    ...(o.inboundThreshold !== undefined
      ? [`setvar:tx.inbound_anomaly_score_threshold=${o.inboundThreshold}`]
      : []),
    ...(o.outboundThreshold !== undefined
      ? [`setvar:tx.outbound_anomaly_score_threshold=${o.outboundThreshold}`]
      : []),
    ...(o.extraSetvars ?? []),
  ];
  return `
SecRuleEngine ${o.mode === 'detect' ? 'DetectionOnly' : 'On'}
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\\+|/)|text/)xml" \\
  "id:1999001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \\
  "id:1999002,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" \\
  "id:1999003,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecAction "id:1999000,phase:1,pass,t:none,nolog,${sv.join(',')}"
`;
}
