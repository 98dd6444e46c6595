/**
 * Q.850 hangup causes as Asterisk names them (`Cause-txt`, from `ast_cause2str`) and the SIP
 * response chan_pjsip sends for them (`TechCause`, from its `hangup_cause2sip`).
 */

export const CAUSE_NORMAL_CLEARING = 16;

/** Asterisk's text for each cause code; `Unknown` for anything else. */
const CAUSE_TEXT: ReadonlyMap<number, string> = new Map([
  [1, 'Unallocated (unassigned) number'],
  [2, 'No route to specified transmit network'],
  [3, 'No route to destination'],
  [5, 'Misdialed trunk prefix'],
  [6, 'Channel unacceptable'],
  [7, 'Call awarded and being delivered in an established channel'],
  [8, 'Pre-empted'],
  [14, 'Number ported elsewhere'],
  [16, 'Normal Clearing'],
  [17, 'User busy'],
  [18, 'No user responding'],
  [19, 'User alerting, no answer'],
  [20, 'Subscriber absent'],
  [21, 'Call Rejected'],
  [22, 'Number changed'],
  [23, 'Redirected to new destination'],
  [26, 'Answered elsewhere'],
  [27, 'Destination out of order'],
  [28, 'Invalid number format'],
  [29, 'Facility rejected'],
  [30, 'Response to STATus ENQuiry'],
  [31, 'Normal, unspecified'],
  [34, 'Circuit/channel congestion'],
  [38, 'Network out of order'],
  [41, 'Temporary failure'],
  [42, 'Switching equipment congestion'],
  [43, 'Access information discarded'],
  [44, 'Requested channel not available'],
  [50, 'Facility not subscribed'],
  [52, 'Outgoing call barred'],
  [54, 'Incoming call barred'],
  [57, 'Bearer capability not authorized'],
  [58, 'Bearer capability not available'],
  [65, 'Bearer capability not implemented'],
  [66, 'Channel not implemented'],
  [69, 'Facility not implemented'],
  [81, 'Invalid call reference value'],
  [88, 'Incompatible destination'],
  [95, 'Invalid message unspecified'],
  [96, 'Mandatory information element is missing'],
  [97, 'Message type nonexist.'],
  [98, 'Wrong message'],
  [99, 'Info. element nonexist or not implemented'],
  [100, 'Invalid information element contents'],
  [101, 'Message not compatible with call state'],
  [102, 'Recover on timer expiry'],
  [103, 'Mandatory IE length error'],
  [111, 'Protocol error, unspecified'],
  [127, 'Interworking, unspecified'],
]);

/** chan_pjsip's Q.850 → SIP mapping; causes without an entry (16 among them) carry no TechCause. */
const PJSIP_SIP_CODE: ReadonlyMap<number, number> = new Map([
  [1, 404],
  [2, 404],
  [3, 404],
  [17, 486],
  [18, 408],
  [19, 480],
  [20, 480],
  [21, 403],
  [22, 410],
  [27, 502],
  [28, 484],
  [29, 501],
  [31, 480],
  [34, 503],
  [38, 500],
  [42, 503],
  [58, 488],
  [66, 503],
  [127, 500],
]);

export function causeText(cause: number): string {
  return CAUSE_TEXT.get(cause) ?? 'Unknown';
}

/** The `TechCause` a PJSIP channel reports when hung up with `cause`, if any. */
export function pjsipTechCause(cause: number): number | undefined {
  return PJSIP_SIP_CODE.get(cause);
}

/**
 * The hangup-related tail of a Hangup event: `Cause`, `Cause-txt` and, for PJSIP channels whose
 * cause maps to a SIP response, `TechCause` (as Asterisk 22 prints it).
 */
export function hangupCauseFields(channelName: string, cause: number): [string, string][] {
  const fields: [string, string][] = [
    ['Cause', String(cause)],
    ['Cause-txt', causeText(cause)],
  ];
  const techCause = channelName.toUpperCase().startsWith('PJSIP/') ? pjsipTechCause(cause) : undefined;
  if (techCause !== undefined) fields.push(['TechCause', String(techCause)]);
  return fields;
}
