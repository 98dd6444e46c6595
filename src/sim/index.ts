/** The AMI simulator: public entry point for tests, the demo and benchmarks. */
export {
  AmiSimulator,
  DEFAULT_SIM_USER,
  type AmiSimulatorEvents,
  type AmiSimulatorOptions,
  type EventInput,
  type GarbageInfo,
  type HangupResult,
  type LoginFailedInfo,
  type ReceivedAction,
  type ReplayOptions,
  type ReplayResult,
  type SessionInfo,
  type SimulatorStats,
  type SimUser,
} from './server.js';
export { AstDb } from './astdb.js';
export { CallEventFactory, mergeEntries, type CallEventsOptions, type CallLeg, type CallScript, type DialOutcome } from './call-events.js';
export { causeText, hangupCauseFields, pjsipTechCause } from './causes.js';
export { ChannelTable, SimBridge, SimChannel, channelStateDescription, type ChannelSpec } from './channels.js';
export { formatDuration, type LoginFailure } from './actions.js';
export { AsteriskIds } from './ids.js';
export { eventTime, formatEpochMicros, formatEventTv, parseEventTv, retimed, withTimestamp } from './timestamps.js';
export { formatTranscript, loadTranscript, parseTranscript, timeEvents, type FormatTranscriptOptions, type TranscriptEntry } from './transcript.js';
