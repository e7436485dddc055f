/** Network module: NetworkPolicy model, evaluation and diff, flow records, policy generation. */
export * from './cidr.js';
export * from './selector.js';
export * from './model.js';
export * from './eval.js';
export * from './workloads.js';
export * from './flow.js';
export * from './generate.js';
export * from './iptables.js';
export * from './monitor.js';
export * from './sensor.js';
