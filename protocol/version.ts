/** Semantic version of the wire protocol; within a major version changes are additive only. */
export const PROTOCOL_VERSION = '0.1.0';
